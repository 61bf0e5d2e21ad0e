"""Clique (EIP-225) genesis generation, shared by the geth devnet and the Besu network.

The signer set lives in the genesis ``extraData``: 32 bytes of vanity, the
20-byte signer addresses in ascending order, and 65 zero bytes for the seal.
The chain stays at the London fork: geth's clique does not support Shanghai.
"""
from __future__ import annotations

from eth_utils import to_checksum_address

VANITY = b"PHR clique devnet".ljust(32, b"\0")
SEAL_BYTES = 65
DEFAULT_CHAIN_ID = 2020_0704
FAUCET_BALANCE_WEI = 10**27  # ample gas money for the platform faucet


def extra_data(signers: list[str]) -> str:
    """The clique genesis extraData for ``signers`` (0x hex)."""
    addresses = sorted(bytes.fromhex(to_checksum_address(s)[2:]) for s in signers)
    return "0x" + (VANITY + b"".join(addresses) + b"\0" * SEAL_BYTES).hex()


def signers_from_extra_data(extra: str) -> list[str]:
    """Decode the signer addresses from a clique genesis extraData."""
    raw = bytes.fromhex(extra.removeprefix("0x"))
    body = raw[32 : len(raw) - SEAL_BYTES]
    if len(body) % 20:
        raise ValueError("extraData signer section is not a multiple of 20 bytes")
    return [to_checksum_address(body[i : i + 20]) for i in range(0, len(body), 20)]


def _forks_at_zero(*names: str) -> dict:
    return {name: 0 for name in names}


def geth_genesis(signers: list[str], faucet: str, chain_id: int = DEFAULT_CHAIN_ID, period: int = 2) -> dict:
    """A geth clique genesis at London with a prefunded faucet account."""
    config = {"chainId": chain_id}
    config.update(
        _forks_at_zero(
            "homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
            "constantinopleBlock", "petersburgBlock", "istanbulBlock", "berlinBlock", "londonBlock",
        )
    )
    config["clique"] = {"period": period, "epoch": 30000}
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": extra_data(signers),
        "gasLimit": "0x1c9c380",  # 30M
        "difficulty": "0x1",
        "mixHash": "0x" + "00" * 32,
        "coinbase": "0x" + "00" * 20,
        "alloc": {to_checksum_address(faucet): {"balance": hex(FAUCET_BALANCE_WEI)}},
    }


def besu_genesis(signers: list[str], faucet: str, chain_id: int = DEFAULT_CHAIN_ID, period: int = 2) -> dict:
    """The same network for Besu: identical extraData, alloc and forks; Besu's clique keys."""
    genesis = geth_genesis(signers, faucet, chain_id, period)
    genesis["config"]["clique"] = {"blockperiodseconds": period, "epochlength": 30000, "createemptyblocks": True}
    return genesis
