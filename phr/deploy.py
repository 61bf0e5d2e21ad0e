"""First-start provisioning shared by the local stack and compose's ``init`` service.

``python -m phr.deploy`` migrates the database, creates the bucket and
deploys the registry once, recording its address in ``$PHR_INSTANCE_DIR/contract.json``
(the app reads it from there when ``PHR_CONTRACT_ADDRESS`` is unset).

A deployment whose recorded registry is still ``PHRRegistry/1`` is moved to
the current version here (docs/operations.md): once the outbox is drained, a
new registry is deployed, every record without a registry is marked as
anchored in the old one (which stays readable, so those records and their
proofs still verify), and ``contract.json`` names the new one and keeps the
old one under ``previous``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import db
from .config import from_environment
from .ledger import VERSION, ChainError, Ledger
from .records.models import BatchMember, ChainJob, Record
from .storage import Storage, StorageError

CONTRACT_FILE = "contract.json"


def ensure_contract(chain: Ledger, deployer_key: str, instance_dir: str | Path, database_url: str | None = None) -> str:
    """The current-version registry recorded in ``instance_dir``, deploying it if absent, not on this chain, or
    of an older version (then the deployment is moved over; that needs ``database_url``)."""
    path = Path(instance_dir) / CONTRACT_FILE
    state = json.loads(path.read_text()) if path.exists() else {}
    recorded = state.get("address")
    previous = list(state.get("previous", []))
    if recorded and chain.has_contract(recorded):
        version = Ledger.for_registry(chain.rpc_urls, recorded).version
        if version == VERSION:
            return recorded
        if database_url is None:
            raise ChainError(f"the registry at {recorded} is {version}: moving it to {VERSION} needs the database")
        _check_drained(database_url)
        previous.append(recorded)
    address = chain.deploy(deployer_key)
    if recorded in previous:
        _assign_legacy_records(database_url, recorded)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"address": address, "chain_id": chain.chain_id(), "version": VERSION,
                                **({"previous": previous} if previous else {})}, indent=2) + "\n")
    return address


def _check_drained(database_url: str) -> None:
    """Refuse to move registries while transactions signed for the old one, or records waiting for a batch, remain."""
    with Session(db.make_engine(database_url)) as session:
        pending = session.scalar(select(func.count()).select_from(ChainJob)
                                 .where(ChainJob.status.in_(("queued", "sent", "mined"))))
        waiting = session.scalar(select(func.count()).select_from(BatchMember).where(BatchMember.batch_id.is_(None)))
    if pending or waiting:
        raise ChainError(f"{pending} transactions and {waiting} batch records still wait for the old registry: run "
                         "the worker until the outbox is empty, stop the app, then deploy again")


def _assign_legacy_records(database_url: str, legacy_address: str) -> None:
    """Every record with no registry recorded was anchored in ``legacy_address``."""
    with Session(db.make_engine(database_url)) as session:
        session.execute(update(Record).where(Record.contract_address.is_(None)).values(contract_address=legacy_address))
        session.commit()


def provision(config: dict) -> str:
    """Migrate, create the bucket and ensure the contract; returns the contract address."""
    db.upgrade(config["DATABASE_URL"])
    Storage.from_config(config).ensure_bucket()
    if not config.get("FAUCET_KEY"):
        raise ChainError("PHR_FAUCET_KEY or PHR_FAUCET_KEY_FILE is required to deploy the registry")
    return ensure_contract(Ledger(config["RPC_URLS"]), config["FAUCET_KEY"], config["INSTANCE_DIR"],
                           config["DATABASE_URL"])


def main() -> int:
    try:
        address = provision(from_environment())
    except (ChainError, StorageError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    print(f"deploy: database migrated, bucket ready, registry ({VERSION}) at {address}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
