"""The chain gateway (the paper's "transfer module"): the only module that speaks JSON-RPC.

Deploy, sign, broadcast, read the registry and its events, inspect blocks and
make clique operator calls, all through :class:`Ledger` (web3, with fail-over
between nodes and a timeout per call). Every user action is a transaction
signed locally with that user's own secp256k1 key (eth-account) by a typed
signer (:meth:`Ledger.sign_anchor`, :meth:`Ledger.sign_grant`, ...); the
outbox (:mod:`phr.anchoring`) stores and broadcasts what they return, and
nodes never hold user keys. Events are read and decoded through web3's
contract event API. Only the standard ``eth_*`` / ``net_*`` / ``clique_*``
JSON-RPC that both geth and Besu serve is used, and a block's sealer is
recovered from its header seal (EIP-225), which works on either client.

Fee policy (one, for every transaction the platform signs): a fixed
``MAX_FEE_PER_GAS`` cap and ``PRIORITY_FEE`` tip, so a transaction can be
signed while the chain is unreachable and the worker's top-ups cover any of
them (clique's base fee stays near its 7 wei floor, far below the cap).
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
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.middleware import ExtraDataToPOAMiddleware

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


# The fee policy (module docstring): fixed, so transactions can be signed while the chain is unreachable.
MAX_FEE_PER_GAS = 10**10  # 10 gwei cap; clique's base fee stays near its 7 wei floor
PRIORITY_FEE = 1
FEES = {"maxFeePerGas": MAX_FEE_PER_GAS, "maxPriorityFeePerGas": PRIORITY_FEE}
# Fixed gas limits per registry call, for the same reason (no estimate needs a node).
GAS_LIMITS = {"anchor": 400_000, "grant": 150_000, "grantRecord": 150_000, "revoke": 100_000,
              "revokeRecord": 100_000, "logAccess": 80_000, "anchorBatch": 150_000}


@dataclass(frozen=True)
class SignedTx:
    """A raw transaction ready to broadcast, and its hash (plus its target and calldata, for a dry run)."""

    raw: bytes
    hash: str
    sender: str
    nonce: int
    to: str
    data: str


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
class AnchoredEvent:
    """One ``Anchored(recordId, owner, author, recordHash, resourcesRoot, storageKey)`` event, decoded."""

    record_id: str  # 64 hex digits, no 0x (as Record.id)
    owner: str
    author: str
    record_hash: str  # 64 hex digits
    resources_root: str
    storage_key: str
    tx_hash: str
    log_index: int
    block_number: int


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


def _anchored(log) -> AnchoredEvent:
    args = log["args"]
    return AnchoredEvent(
        record_id=bytes(args["recordId"]).hex(), owner=args["owner"], author=args["author"],
        record_hash=bytes(args["recordHash"]).hex(), resources_root=bytes(args["resourcesRoot"]).hex(),
        storage_key=args["storageKey"], tx_hash=log["transactionHash"].to_0x_hex(), log_index=log["logIndex"],
        block_number=log["blockNumber"])


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
        """Whether this client speaks a registry version older than the current one (the app only reads those)."""
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
            except (requests.RequestException, json.JSONDecodeError, ConnectionError) as exc:  # no usable answer
                last = exc
        raise ChainUnavailable(f"no chain node answered ({', '.join(self.rpc_urls)}): {type(last).__name__}") from last

    def rpc(self, method: str, params: list | None = None):
        """A raw JSON-RPC call with fail-over; ``ChainError("method: reason")`` if the node refuses it."""
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
    def _send_transaction(self, key: bytes | str, tx: dict) -> str:
        """Fill nonce/fees/gas, sign ``tx`` locally with ``key`` and broadcast it; returns the tx hash.

        A transaction that would revert is refused with :class:`TxReverted` by the gas estimate, before it is sent.
        """
        account = Account.from_key(key)

        def send(w3):
            full = dict(tx)
            full.setdefault("chainId", w3.eth.chain_id)
            full["from"] = account.address
            full.setdefault("nonce", w3.eth.get_transaction_count(account.address, "pending"))
            full.update({k: v for k, v in FEES.items() if k not in full})
            if "gas" not in full:
                full["gas"] = int(w3.eth.estimate_gas(full) * 1.2) + 10_000
            signed = account.sign_transaction(full)
            return w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()

        try:
            return self._on_node(send)
        except (ContractCustomError, ContractLogicError) as exc:
            raise TxReverted(self._revert_reason(exc)) from None

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

    def send(self, signed: SignedTx) -> str:
        """Dry-run ``signed`` against the latest state, then broadcast it; returns the tx hash.

        For tools and tests that want the contract's reason up front (:class:`TxReverted` naming its custom
        error) rather than a reverted receipt; the app's own transactions go through the outbox instead.
        """
        call = {"from": signed.sender, "to": signed.to, "data": signed.data}
        try:
            self._on_node(lambda w3: w3.eth.call(call))
        except (ContractCustomError, ContractLogicError) as exc:
            raise TxReverted(self._revert_reason(exc)) from None
        return self.broadcast(signed.raw)

    def receipt(self, tx_hash: str) -> dict | None:
        """The receipt of ``tx_hash``, or None while it is not mined."""
        def get(w3):
            try:
                return dict(w3.eth.get_transaction_receipt(tx_hash))
            except TransactionNotFound:
                return None
        return self._on_node(get)

    def transaction_known(self, tx_hash: str) -> bool:
        """Whether a node knows ``tx_hash`` at all (pending or mined)."""
        def get(w3):
            try:
                return w3.eth.get_transaction(tx_hash) is not None
            except TransactionNotFound:
                return False
        return self._on_node(get)

    def transfer(self, key: bytes | str, to: str, wei: int) -> str:
        """Send ``wei`` from ``key``'s account to ``to`` (gas money for users)."""
        return self._send_transaction(key, {"to": to_checksum_address(to), "value": wei, "gas": 21000})

    def deploy(self, key: bytes | str, timeout: float = 60.0) -> str:
        """Deploy the registry (in this client's version) from ``key``'s account; returns and adopts its address."""
        factory = self._providers[self._good].eth.contract(abi=self.artifact["abi"], bytecode=self.artifact["bytecode"])
        tx = factory.constructor().build_transaction({"from": Account.from_key(key).address, "gas": 0})
        tx.pop("gas")
        for k in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "nonce"):
            tx.pop(k, None)
        receipt = self.wait(self._send_transaction(key, tx), timeout)
        self.address = to_checksum_address(receipt["contractAddress"])
        return self.address

    def has_contract(self, address: str | None = None) -> bool:
        """Whether code is deployed at ``address`` (default: this client's registry)."""
        address = address or self.address
        if not address:
            return False
        return self._on_node(lambda w3: w3.eth.get_code(to_checksum_address(address))) not in (b"", b"\0")

    # ----- typed signers: registry calls signed offline, for the outbox --------
    def _sign(self, key: bytes | str, function: str, args: list, nonce: int | None, chain_id: int | None) -> SignedTx:
        """Sign ``function(*args)`` with the fixed fee policy and gas limit; ``None`` nonce or chain id: ask a node."""
        account = Account.from_key(key)
        nonce = self.pending_nonce(account.address) if nonce is None else nonce
        chain_id = self.chain_id() if chain_id is None else chain_id
        data = self.contract.encode_abi(function, args=args)
        tx = {"to": self.address, "data": data, "value": 0, "nonce": nonce, "chainId": chain_id,
              "gas": GAS_LIMITS[function], **FEES, "type": 2}
        signed = account.sign_transaction(tx)
        return SignedTx(bytes(signed.raw_transaction), signed.hash.to_0x_hex(), account.address, nonce,
                        self.address, data)

    def sign_anchor(self, key, record_id: bytes, record_hash: bytes, resources_root: bytes, storage_key: str,
                    owner: str, *, nonce: int | None = None, chain_id: int | None = None) -> SignedTx:
        """``anchor``: a record signed by ``key`` (the owner, or a writer the owner granted)."""
        return self._sign(key, "anchor", [_b32(record_id), _b32(record_hash), _b32(resources_root), storage_key,
                                          to_checksum_address(owner)], nonce, chain_id)

    def sign_batch(self, key, root: bytes, count: int, *, nonce: int | None = None,
                   chain_id: int | None = None) -> SignedTx:
        """``anchorBatch``: a Merkle root over ``count`` owner-signed leaves (``key`` is only the courier)."""
        return self._sign(key, "anchorBatch", [_b32(root), count], nonce, chain_id)

    def sign_grant(self, key, reader: str, expires_at: int = 0, can_write: bool = False, *, nonce: int | None = None,
                   chain_id: int | None = None) -> SignedTx:
        """``grant``: owner-wide read (and optionally write) access for ``reader``; 0 = no expiry."""
        return self._sign(key, "grant", [to_checksum_address(reader), expires_at, can_write], nonce, chain_id)

    def sign_grant_record(self, key, record_id: bytes, reader: str, expires_at: int = 0, *, nonce: int | None = None,
                          chain_id: int | None = None) -> SignedTx:
        """``grantRecord``: read access for ``reader`` to one of the signer's records."""
        return self._sign(key, "grantRecord", [_b32(record_id), to_checksum_address(reader), expires_at],
                          nonce, chain_id)

    def sign_revoke(self, key, reader: str, *, nonce: int | None = None, chain_id: int | None = None) -> SignedTx:
        """``revoke``: ``reader``'s owner-wide grant."""
        return self._sign(key, "revoke", [to_checksum_address(reader)], nonce, chain_id)

    def sign_revoke_record(self, key, record_id: bytes, reader: str, *, nonce: int | None = None,
                           chain_id: int | None = None) -> SignedTx:
        """``revokeRecord``: ``reader``'s grant on one record."""
        return self._sign(key, "revokeRecord", [_b32(record_id), to_checksum_address(reader)], nonce, chain_id)

    def sign_log_access(self, key, owner: str, record_id: bytes, action: int, detail_hash: bytes = ZERO32, *,
                        nonce: int | None = None, chain_id: int | None = None) -> SignedTx:
        """``logAccess``: an access event on ``owner``'s record (a version-1 registry keys it by id alone)."""
        args = [_b32(record_id), action, _b32(detail_hash)]
        return self._sign(key, "logAccess", args if self.legacy else [to_checksum_address(owner), *args],
                          nonce, chain_id)

    # ----- the registry ------------------------------------------------------
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

    # ----- events ------------------------------------------------------------
    def anchored_events(self, *, block_hash: str | None = None, owner: str | None = None,
                        from_block: int | None = None, to_block: int | None = None) -> list[AnchoredEvent]:
        """The registry's ``Anchored`` events in block ``block_hash`` (or in ``from_block``..``to_block``),
        optionally only ``owner``'s; none when no registry is configured."""
        if not self.address:
            return []
        filters = {"owner": to_checksum_address(owner)} if owner else None
        where = {"block_hash": block_hash} if block_hash else {"from_block": from_block, "to_block": to_block}
        logs = self._on_node(lambda w3: self._contract_on(w3).events.Anchored().get_logs(argument_filters=filters,
                                                                                        **where))
        return [_anchored(log) for log in logs]

    def grant_events(self, owner: str) -> list:
        """``owner``'s ``Granted`` and ``Revoked`` events (web3 event data: ``event``, ``args``, block, log index)."""
        owner = to_checksum_address(owner)
        return self._on_node(lambda w3: [
            log for event in (self._contract_on(w3).events.Granted, self._contract_on(w3).events.Revoked)
            for log in event().get_logs(from_block=0, argument_filters={"owner": owner})])

    def access_events(self, owner: str) -> list:
        """``AccessLogged`` events on ``owner``'s records, as web3 event data."""
        owner = to_checksum_address(owner)
        return self._on_node(lambda w3: list(self._contract_on(w3).events.AccessLogged().get_logs(
            from_block=0, argument_filters={"owner": owner})))

    # ----- blocks and signers ------------------------------------------------
    def block(self, number: int | str = "latest") -> BlockInfo:
        """Header fields of block ``number`` with its clique sealer (none for the genesis block, which has no seal)."""
        b = self._on_node(lambda w3: w3.eth.get_block(number))
        return BlockInfo(
            number=b["number"], hash=b["hash"].to_0x_hex(), parent_hash=b["parentHash"].to_0x_hex(),
            timestamp=b["timestamp"], sealer=clique_sealer(b) if b["number"] else "",
            tx_hashes=tuple(t.to_0x_hex() for t in b["transactions"]), gas_used=b["gasUsed"],
        )

    def signers(self, block: int | str = "latest") -> list[str]:
        """The clique signer set at ``block``."""
        return [to_checksum_address(a) for a in self.rpc("clique_getSigners", [hex(block) if isinstance(block, int)
                                                                               else block])]

    # ----- clique operator calls (to an operator's own node: ``Ledger([url])``) ----
    def proposals(self) -> dict[str, bool]:
        """The node's pending clique votes: address -> True to add, False to remove."""
        return {to_checksum_address(a): bool(v) for a, v in (self.rpc("clique_proposals") or {}).items()}

    def coinbase(self) -> str:
        """The node's own sealing account."""
        return to_checksum_address(self.rpc("eth_coinbase"))

    def propose(self, address: str, authorize: bool) -> None:
        """Have the node vote to add (``authorize``) or remove ``address`` in the blocks it seals."""
        self.rpc("clique_propose", [to_checksum_address(address), authorize])

    def discard(self, address: str) -> None:
        """Withdraw the node's pending vote about ``address``."""
        self.rpc("clique_discard", [to_checksum_address(address)])
