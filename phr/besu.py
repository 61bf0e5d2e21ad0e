"""Generate the production Besu clique network in ``besu/`` from the same genesis code as the devnet.

``python -m phr.besu init`` writes:

- ``besu/genesis.json``       the clique genesis (London, validators in extraData, faucet prefunded);
- ``besu/network.json``       public facts only: chain id, validator addresses and enode public keys,
                              faucet address — what the compose file and the app are checked against;
- ``besu/keys/validatorN/key`` and ``besu/keys/faucet.key``: private keys, mode 600, git-ignored.

Run it once on the operator's host before ``docker compose up``; ``--force``
replaces an existing network (a new chain: only for a fresh deployment).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from eth_account import Account
from eth_keys import keys as eth_keys

from . import genesis
from .config import ROOT

BESU_DIR = ROOT / "besu"
VALIDATORS = 4


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o600)


def init(out: Path = BESU_DIR, validators: int = VALIDATORS, chain_id: int = genesis.DEFAULT_CHAIN_ID,
         period: int = 2, force: bool = False) -> dict:
    """Create validator and faucet keys, the genesis and the public network description under ``out``."""
    if (out / "network.json").exists() and not force:
        raise FileExistsError(f"{out / 'network.json'} exists; pass --force to create a new network")
    nodes = []
    for i in range(1, validators + 1):
        key = eth_keys.PrivateKey(os.urandom(32))
        # Besu's node key is also its clique signing key: the validator address is the node key's address.
        _write_secret(out / "keys" / f"validator{i}" / "key", "0x" + key.to_bytes().hex())
        nodes.append({"name": f"validator{i}", "address": key.public_key.to_checksum_address(),
                      "enode_pubkey": key.public_key.to_bytes().hex()})
    faucet = Account.create()
    _write_secret(out / "keys" / "faucet.key", faucet.key.hex())
    spec = genesis.besu_genesis([n["address"] for n in nodes], faucet.address, chain_id, period)
    (out / "genesis.json").write_text(json.dumps(spec, indent=2) + "\n")
    network = {"chain_id": chain_id, "block_period": period, "validators": nodes, "faucet_address": faucet.address}
    (out / "network.json").write_text(json.dumps(network, indent=2) + "\n")
    return network


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m phr.besu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["init"])
    parser.add_argument("--out", type=Path, default=BESU_DIR)
    parser.add_argument("--validators", type=int, default=VALIDATORS)
    parser.add_argument("--chain-id", type=int, default=genesis.DEFAULT_CHAIN_ID)
    parser.add_argument("--period", type=int, default=2)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    try:
        network = init(args.out, args.validators, args.chain_id, args.period, args.force)
    except FileExistsError as exc:
        print(f"besu: {exc}", file=sys.stderr)
        return 1
    print(f"besu: network {network['chain_id']} with {len(network['validators'])} validators written to {args.out};"
          " update the bootnode enode in docker-compose.yml if you changed validator1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
