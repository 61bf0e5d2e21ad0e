"""First-start provisioning shared by the local stack and compose's ``init`` service.

``python -m phr.deploy`` migrates the database, creates the bucket and
deploys the registry once, recording its address in ``$PHR_INSTANCE_DIR/contract.json``
(the app reads it from there when ``PHR_CONTRACT_ADDRESS`` is unset).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import db
from .config import from_environment
from .ledger import ChainError, Ledger
from .storage import Storage, StorageError

CONTRACT_FILE = "contract.json"


def ensure_contract(chain: Ledger, deployer_key: str, instance_dir: str | Path) -> str:
    """The registry address recorded in ``instance_dir``, deploying it if absent or not on this chain."""
    path = Path(instance_dir) / CONTRACT_FILE
    recorded = json.loads(path.read_text()).get("address") if path.exists() else None
    if recorded and chain.rpc("eth_getCode", [recorded, "latest"]) not in ("0x", "0x0"):
        return recorded
    address = chain.deploy(deployer_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"address": address, "chain_id": chain.chain_id()}, indent=2) + "\n")
    return address


def provision(config: dict) -> str:
    """Migrate, create the bucket and ensure the contract; returns the contract address."""
    db.upgrade(config["DATABASE_URL"])
    Storage.from_config(config).ensure_bucket()
    if not config.get("FAUCET_KEY"):
        raise ChainError("PHR_FAUCET_KEY or PHR_FAUCET_KEY_FILE is required to deploy the registry")
    return ensure_contract(Ledger(config["RPC_URLS"]), config["FAUCET_KEY"], config["INSTANCE_DIR"])


def main() -> int:
    try:
        address = provision(from_environment())
    except (ChainError, StorageError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    print(f"deploy: database migrated, bucket ready, registry at {address}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
