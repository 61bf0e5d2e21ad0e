"""The chain client (the paper's "transfer module"): deploy, anchor, grant, read, inspect blocks.

Every user action is a transaction signed locally with that user's own
secp256k1 key (eth-account); nodes never hold user keys. Only the standard
``eth_*`` / ``net_*`` / ``clique_*`` JSON-RPC that both geth and Besu serve is
used, and a block's sealer is recovered from its header seal (EIP-225), which
works on either client.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import requests
import rlp
from eth_account import Account
from eth_keys import keys as eth_keys
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware
from web3.exceptions import (
    ContractCustomError, ContractLogicError, TimeExhausted, TransactionNotFound, Web3RPCError,
)

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"
ARTIFACT = CONTRACTS / "PHRRegistry.json"
VERSION = "PHRRegistry/2"  # what this platform deploys and writes to
LEGACY_VERSIONS = {"PHRRegistry/1": CONTRACTS / "PHRRegistryV1.json"}  # read only: records anchored before version 2
SEAL_BYTES = 65
ZERO32 = b"\0" * 32


class ChainError(RuntimeError):
    """A chain call failed; the message says why."""


class ChainUnavailable(ChainError):
    """No configured node answered."""


class TxReverted(ChainError):
    """The contract rejected the transaction (e.g. re-anchoring an existing record)."""


class NonceUsed(ChainError):
    """The sender's nonce was already taken by another transaction: this one can never be mined."""


# Fixed fee and gas limits let transactions be signed while the chain is unreachable.
MAX_FEE_PER_GAS = 10**10  # 10 gwei cap; clique's base fee stays near its 7 wei floor
PRIORITY_FEE = 1
GAS_LIMITS = {"anchor": 400_000, "grant": 150_000, "grantRecord": 150_000, "revoke": 100_000,
              "revokeRecord": 100_000, "logAccess": 80_000, "anchorBatch": 150_000}


@dataclass(frozen=True)
class SignedTx:
    """A raw transaction ready to broadcast, and its hash."""

    raw: bytes
    hash: str
    sender: str
    nonce: int


@dataclass(frozen=True)
class Anchor:
    """What the chain holds about one record."""

    record_id: bytes
    record_hash: bytes
    resources_root: bytes
    owner: str
    author: str
    anchored_at: int
    block_number: int
    storage_key: str


@dataclass(frozen=True)
class Batch:
    """What the chain holds about one batch root."""

    root: bytes
    submitter: str
    anchored_at: int
    block_number: int
    count: int


@dataclass(frozen=True)
class BlockInfo:
    """The header fields the paper shows users, plus the sealer recovered from the seal."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int
    sealer: str
    tx_hashes: tuple[str, ...]
    gas_used: int


def load_artifact(path: Path = ARTIFACT) -> dict:
    """The compiled contract (ABI + bytecode) committed in ``contracts/``."""
    return json.loads(path.read_text())


def artifact_for(version: str) -> dict:
    """The committed artifact of registry ``version`` (the current one or a legacy one kept for reading)."""
    if version == VERSION:
        return load_artifact()
    if version in LEGACY_VERSIONS:
        return load_artifact(LEGACY_VERSIONS[version])
    raise ChainError(f"unknown registry version {version!r}")


def clique_sealer(block) -> str:
    """Recover the address that sealed ``block`` from its extraData seal (EIP-225)."""
    # web3's POA middleware renames clique's long extraData to proofOfAuthorityData.
    extra = bytes(block.get("proofOfAuthorityData") or block["extraData"])
    signature, vanity_and_signers = extra[-SEAL_BYTES:], extra[:-SEAL_BYTES]
    fields = [
        bytes(block["parentHash"]), bytes(block["sha3Uncles"]), bytes.fromhex(block["miner"][2:]),
        bytes(block["stateRoot"]), bytes(block["transactionsRoot"]), bytes(block["receiptsRoot"]),
        bytes(block["logsBloom"]), block["difficulty"], block["number"], block["gasLimit"], block["gasUsed"],
        block["timestamp"], vanity_and_signers, bytes(block["mixHash"]), bytes(block["nonce"]),
    ]
    if block.get("baseFeePerGas") is not None:
        fields.append(block["baseFeePerGas"])
    sig = eth_keys.Signature(signature[:64] + bytes([signature[64] % 27 if signature[64] >= 27 else signature[64]]))
    return sig.recover_public_key_from_msg_hash(keccak(rlp.encode(fields))).to_checksum_address()


def _b32(value: bytes | str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError("expected 32 bytes")
    return raw


class Ledger:
    """A client for the PHRRegistry contract over one or more node RPC URLs (first that answers).

    It speaks registry ``version`` (default: the current one, the only one it
    writes to); :meth:`at` gives a reader for another registry on the same
    chain, speaking whatever version that contract reports.
    """

    def __init__(self, rpc_urls: list[str], contract_address: str | None = None, *, timeout: float = 5.0,
                 version: str = VERSION):
        if not rpc_urls:
            raise ValueError("at least one RPC URL is required")
        self.rpc_urls = list(rpc_urls)
        self.timeout = timeout
        self.version = version
        self.artifact = artifact_for(version)
        self.address = to_checksum_address(contract_address) if contract_address else None
        self._good = 0
        self._providers = [self._connect(u) for u in self.rpc_urls]
        self._contracts: dict[int, object] = {}
        self._readers: dict[str, Ledger] = {}

    @property
    def legacy(self) -> bool:
        """Whether this client speaks a registry version older than the current one (read only)."""
        return self.version != VERSION

    def at(self, address: str | None) -> Ledger:
        """A client for the registry at ``address`` (this one if None or the same), in the version it reports."""
        if address is None or self.address and to_checksum_address(address) == self.address:
            return self
        address = to_checksum_address(address)
        if address not in self._readers:
            self._readers[address] = Ledger.for_registry(self.rpc_urls, address, timeout=self.timeout)
        return self._readers[address]

    @classmethod
    def for_registry(cls, rpc_urls: list[str], address: str, *, timeout: float = 5.0) -> Ledger:
        """A client for the registry at ``address``, speaking the version the contract reports."""
        version = cls(rpc_urls, address, timeout=timeout).deployed_version()
        return cls(rpc_urls, address, timeout=timeout, version=version)

    def deployed_version(self) -> str:
        """The ``version()`` the contract at this address reports (both versions have it, same signature)."""
        return self._view("version")

    # ----- transport ---------------------------------------------------------
    def _connect(self, url: str) -> Web3:
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": self.timeout}))
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        return w3

    def _on_node(self, fn):
        """Run ``fn(w3)`` on the last node that answered, failing over to the others."""
        order = [self._good] + [i for i in range(len(self._providers)) if i != self._good]
        last = None
        for i in order:
            try:
                result = fn(self._providers[i])
                self._good = i
                return result
            except (requests.ConnectionError, requests.Timeout, ConnectionError) as exc:
                last = exc
        raise ChainUnavailable(f"no chain node answered ({', '.join(self.rpc_urls)}): {type(last).__name__}")

    def rpc(self, method: str, params: list | None = None):
        """A raw JSON-RPC call (e.g. ``clique_getSigners``) with fail-over."""
        def call(w3):
            resp = w3.provider.make_request(method, params or [])
            if "error" in resp:
                raise ChainError(f"{method}: {resp['error'].get('message')}")
            return resp["result"]
        return self._on_node(call)

    def _contract_on(self, w3):
        if not self.address:
            raise ChainError("no contract address configured (PHR_CONTRACT_ADDRESS)")
        cached = self._contracts.get(id(w3))
        if cached is None or cached.address != self.address:  # building one parses the whole ABI: keep it
            cached = self._contracts[id(w3)] = w3.eth.contract(address=self.address, abi=self.artifact["abi"])
        return cached

    @property
    def contract(self):
        """The registry bound to the node that last answered (for ABI encoding and event queries)."""
        return self._contract_on(self._providers[self._good])

    def _view(self, function: str, *args):
        """Call a view function of the registry, failing over between nodes."""
        return self._on_node(lambda w3: getattr(self._contract_on(w3).functions, function)(*args).call())

    def chain_id(self) -> int:
        return self._on_node(lambda w3: w3.eth.chain_id)

    def block_number(self) -> int:
        return self._on_node(lambda w3: w3.eth.block_number)

    def balance(self, address: str) -> int:
        return self._on_node(lambda w3: w3.eth.get_balance(to_checksum_address(address)))

    # ----- transactions ------------------------------------------------------
    def _fees(self, w3) -> dict:
        base = w3.eth.get_block("latest")["baseFeePerGas"]
        tip = 1
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": base * 2 + tip}

    def send_transaction(self, key: bytes | str, tx: dict) -> str:
        """Fill nonce/fees/gas, sign ``tx`` locally with ``key`` and broadcast it; returns the tx hash."""
        account = Account.from_key(key)

        def send(w3):
            full = dict(tx)
            full.setdefault("chainId", w3.eth.chain_id)
            full["from"] = account.address
            full.setdefault("nonce", w3.eth.get_transaction_count(account.address, "pending"))
            full.update({k: v for k, v in self._fees(w3).items() if k not in full})
            if "gas" not in full:
                full["gas"] = int(w3.eth.estimate_gas(full) * 1.2) + 10_000
            signed = account.sign_transaction(full)
            return w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()

        try:
            return self._on_node(send)
        except (ContractCustomError, ContractLogicError) as exc:
            raise TxReverted(self._revert_reason(exc)) from None

    def _contract_tx(self, key: bytes | str, function: str, *args) -> str:
        account = Account.from_key(key)
        try:
            tx = self._on_node(lambda w3: getattr(self._contract_on(w3).functions, function)(*args)
                               .build_transaction({"from": account.address, "gas": 0}))
        except (ContractCustomError, ContractLogicError) as exc:
            raise TxReverted(self._revert_reason(exc)) from None
        tx.pop("gas")
        for k in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "nonce"):
            tx.pop(k, None)
        return self.send_transaction(key, tx)

    def _revert_reason(self, exc: Exception) -> str:
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            for item in self.artifact["abi"]:
                if item.get("type") == "error":
                    sig = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
                    if keccak(text=sig)[:4].hex() == data[2:10]:
                        return item["name"]
        return str(getattr(exc, "message", None) or exc)

    def wait(self, tx_hash: str, timeout: float = 60.0, confirmations: int = 0) -> dict:
        """Wait for the receipt of ``tx_hash`` (and ``confirmations`` further blocks); raise if reverted."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                receipt = self._on_node(lambda w3: w3.eth.get_transaction_receipt(tx_hash))
                if self.block_number() >= receipt["blockNumber"] + confirmations:
                    break
            except TransactionNotFound:
                pass
            if time.monotonic() > deadline:
                raise TimeExhausted(f"transaction {tx_hash} not mined within {timeout:.0f}s")
            time.sleep(0.25)
        if receipt["status"] != 1:
            raise TxReverted(f"transaction {tx_hash} reverted")
        return dict(receipt)

    def sign_call(self, key: bytes | str, function: str, args: list, *, nonce: int, chain_id: int) -> SignedTx:
        """Sign a registry call offline (no node needed), with fixed fees and gas limit."""
        account = Account.from_key(key)
        data = self.contract.encode_abi(function, args=args)
        tx = {"to": self.address, "data": data, "value": 0, "nonce": nonce, "chainId": chain_id,
              "gas": GAS_LIMITS[function], "maxFeePerGas": MAX_FEE_PER_GAS, "maxPriorityFeePerGas": PRIORITY_FEE,
              "type": 2}
        signed = account.sign_transaction(tx)
        return SignedTx(bytes(signed.raw_transaction), signed.hash.to_0x_hex(), account.address, nonce)

    def pending_nonce(self, address: str) -> int:
        """The next nonce the chain expects from ``address`` (counting its pending transactions)."""
        return self._on_node(lambda w3: w3.eth.get_transaction_count(to_checksum_address(address), "pending"))

    def broadcast(self, raw: bytes) -> str:
        """Send a signed transaction; re-sending one the node already has is not an error."""
        def send(w3):
            try:
                return w3.eth.send_raw_transaction(raw).to_0x_hex()
            except Web3RPCError as exc:  # the node answered with a JSON-RPC error
                message = str((exc.rpc_response or {}).get("error", {}).get("message") or exc)
                if "already known" in message or "AlreadyKnown" in message or "already imported" in message:
                    return "0x" + keccak(raw).hex()
                if "nonce too low" in message.lower():
                    raise NonceUsed(message) from None
                raise ChainError(f"node refused the transaction: {message}") from None
        return self._on_node(send)

    def receipt(self, tx_hash: str) -> dict | None:
        """The receipt of ``tx_hash``, or None while it is not mined."""
        def get(w3):
            try:
                return dict(w3.eth.get_transaction_receipt(tx_hash))
            except TransactionNotFound:
                return None
        return self._on_node(get)

    def transfer(self, key: bytes | str, to: str, wei: int) -> str:
        """Send ``wei`` from ``key``'s account to ``to`` (gas money for users)."""
        return self.send_transaction(key, {"to": to_checksum_address(to), "value": wei, "gas": 21000})

    def deploy(self, key: bytes | str, timeout: float = 60.0) -> str:
        """Deploy the registry (in this client's version) from ``key``'s account; returns and adopts its address."""
        factory = self._providers[self._good].eth.contract(abi=self.artifact["abi"], bytecode=self.artifact["bytecode"])
        tx = factory.constructor().build_transaction({"from": Account.from_key(key).address, "gas": 0})
        tx.pop("gas")
        for k in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "nonce"):
            tx.pop(k, None)
        receipt = self.wait(self.send_transaction(key, tx), timeout)
        self.address = to_checksum_address(receipt["contractAddress"])
        return self.address

    # ----- the registry ------------------------------------------------------
    def anchor(self, key, record_id: bytes, record_hash: bytes, resources_root: bytes, storage_key: str,
               owner: str) -> str:
        """Anchor a record signed by ``key`` (the owner, or a writer the owner granted); returns the tx hash."""
        return self._contract_tx(key, "anchor", _b32(record_id), _b32(record_hash), _b32(resources_root),
                                 storage_key, to_checksum_address(owner))

    def grant(self, key, reader: str, expires_at: int = 0, can_write: bool = False) -> str:
        """Owner-wide read (and optionally write) grant to ``reader``; 0 = no expiry."""
        return self._contract_tx(key, "grant", to_checksum_address(reader), expires_at, can_write)

    def grant_record(self, key, record_id: bytes, reader: str, expires_at: int = 0) -> str:
        """Read grant to ``reader`` for one record."""
        return self._contract_tx(key, "grantRecord", _b32(record_id), to_checksum_address(reader), expires_at)

    def revoke(self, key, reader: str) -> str:
        """Revoke ``reader``'s owner-wide grant."""
        return self._contract_tx(key, "revoke", to_checksum_address(reader))

    def revoke_record(self, key, record_id: bytes, reader: str) -> str:
        """Revoke ``reader``'s grant on one record."""
        return self._contract_tx(key, "revokeRecord", _b32(record_id), to_checksum_address(reader))

    def log_access(self, key, owner: str, record_id: bytes, action: int, detail_hash: bytes = ZERO32) -> str:
        """Append an access event for ``owner``'s record ``record_id`` (the sender must be allowed to read it)."""
        return self._contract_tx(key, "logAccess", to_checksum_address(owner), _b32(record_id), action,
                                 _b32(detail_hash))

    def get_anchor(self, record_id: bytes, owner: str) -> Anchor | None:
        """``owner``'s anchor ``record_id``, or None if there is none.

        A version-1 registry keys anchors by id alone: its anchor is returned
        with the owner the chain names, which callers compare with ``owner``.
        """
        rid = _b32(record_id)
        if self.legacy:
            found = self._lookup("getAnchor", "UnknownRecord", rid)  # one call, not isAnchored + getAnchor
            return None if found is None else Anchor(rid, bytes(found[0]), bytes(found[1]), *found[2:])
        found = self._lookup("getAnchor", "UnknownRecord", to_checksum_address(owner), rid)
        return None if found is None else Anchor(rid, bytes(found[0]), bytes(found[1]), to_checksum_address(owner),
                                                 *found[2:])

    def get_batch(self, root: bytes, submitter: str) -> Batch | None:
        """The batch ``submitter`` anchored under ``root``, or None if there is none.

        A version-1 registry keys batches by root alone: its batch is returned
        with the submitter the chain names, which callers compare with ``submitter``.
        """
        r = _b32(root)
        if self.legacy:
            found = self._lookup("getBatch", "UnknownBatch", r)
            return None if found is None else Batch(r, *found)
        found = self._lookup("getBatch", "UnknownBatch", to_checksum_address(submitter), r)
        return None if found is None else Batch(r, to_checksum_address(submitter), *found)

    def _lookup(self, function: str, unknown: str, *args):
        """``function(*args)``, or None when it reverts with the custom error ``unknown`` (nothing stored there)."""
        try:
            return self._view(function, *args)
        except (ContractCustomError, ContractLogicError) as exc:
            if self._revert_reason(exc) == unknown:
                return None
            raise ChainError(f"{function} failed: {self._revert_reason(exc)}") from None

    def grant_of(self, owner: str, reader: str) -> tuple[int, bool, bool]:
        """``owner``'s owner-wide grant to ``reader``: (expiresAt, writable, active)."""
        expires, writable, active = self._view("grantOf", to_checksum_address(owner), to_checksum_address(reader))
        return expires, writable, active

    def can_read(self, reader: str, record_id: bytes, owner: str) -> bool:
        """Whether the chain lets ``reader`` read ``owner``'s record ``record_id`` now."""
        if self.legacy:
            return self._view("canRead", to_checksum_address(reader), _b32(record_id))
        return self._view("canRead", to_checksum_address(reader), to_checksum_address(owner), _b32(record_id))

    def can_write(self, writer: str, owner: str) -> bool:
        """Whether ``writer`` may anchor records owned by ``owner``."""
        return self._view("canWrite", to_checksum_address(writer), to_checksum_address(owner))

    # ----- blocks and signers ------------------------------------------------
    def block(self, number: int | str = "latest") -> BlockInfo:
        """Header fields of block ``number`` with its clique sealer."""
        b = self._on_node(lambda w3: w3.eth.get_block(number))
        return BlockInfo(
            number=b["number"], hash=b["hash"].to_0x_hex(), parent_hash=b["parentHash"].to_0x_hex(),
            timestamp=b["timestamp"], sealer=clique_sealer(b),
            tx_hashes=tuple(t.to_0x_hex() for t in b["transactions"]), gas_used=b["gasUsed"],
        )

    def signers(self) -> list[str]:
        """The current clique signer set."""
        return [to_checksum_address(a) for a in self.rpc("clique_getSigners", ["latest"])]
