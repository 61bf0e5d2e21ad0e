"""Helpers for the chain tests: an app on given nodes, bounded waits, operators, anchoring as a patient."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from auth_helpers import AuthActions
from sqlalchemy import select

from phr import create_app, db
from phr.ledger import Ledger
from phr.models import User
from phr.records.models import ChainJob, Record

OPERATOR_PASSWORD = "operator password 1"


def make_app(tmp_path: Path, rpc_urls: list[str], registry: str | None, **overrides):
    """An app on a fresh database, wired to ``rpc_urls`` (no object store needed for these pages)."""
    url = f"sqlite:///{tmp_path / 'phr.sqlite3'}"
    db.upgrade(url)
    config = {
        "TESTING": True, "SECRET_KEY": secrets.token_hex(16), "DATABASE_URL": url, "INSTANCE_DIR": str(tmp_path),
        "S3_ENDPOINT": "127.0.0.1:9", "S3_ACCESS_KEY": "none", "S3_SECRET_KEY": "none-none",
        "RPC_URLS": rpc_urls, "RPC_TIMEOUT": 2.0, "CONTRACT_ADDRESS": registry, "KDF_PROFILE": "fast",
        "VALIDATOR_NODE_URLS": {},
    }
    config.update(overrides)
    return create_app(config)


def create_operator(app, email: str, node_urls: list[str]) -> AuthActions:
    """Create a validator operator with the CLI, then log them in through the login page."""
    args = ["create-validator", "--email", email, "--name", "Operator " + email.split("@")[0],
            "--password", OPERATOR_PASSWORD]
    for url in node_urls:
        args += ["--node-url", url]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    operator = AuthActions(app.test_client(), app)
    assert operator.login(email, OPERATOR_PASSWORD).status_code == 303
    return operator


@dataclass
class Anchored:
    """A record anchored on chain by a patient's own key."""

    record_id: str  # 64 hex
    record_hash: str  # 64 hex
    storage_key: str
    owner: str
    block_number: int
    block_hash: str
    tx_hash: str


def patient_keys(auth: AuthActions):
    """The logged-in user's keys (platform custody) and their checksummed address."""
    keys = auth.keys()
    return keys.eth_private, keys.eth_address


def fund(ledger: Ledger, faucet_key: str, address: str) -> None:
    ledger.wait(ledger.transfer(faucet_key, address, 10**17), timeout=30)


def anchor_record(ledger: Ledger, key: bytes, owner: str) -> Anchored:
    """Anchor a random record owned (and signed) by ``key`` and wait until it is mined."""
    record_id, digest = os.urandom(32), os.urandom(32)
    storage_key = "records/" + secrets.token_hex(16)
    receipt = ledger.wait(ledger.send(ledger.sign_anchor(key, record_id, digest, b"\0" * 32, storage_key, owner)),
                          timeout=30)
    return Anchored(record_id.hex(), digest.hex(), storage_key, owner, receipt["blockNumber"],
                    receipt["blockHash"].to_0x_hex(), receipt["transactionHash"].to_0x_hex())


def save_record(app, owner_email: str, anchored: Anchored):
    """The platform's rows for an anchored record (as the records feature writes them): Record + its anchor job."""
    with app.app_context():
        dbs = db.session()
        user = dbs.execute(select(User).where(User.email == owner_email)).scalar_one()
        dbs.add(Record(id=anchored.record_id, anchor_id=anchored.record_id, owner_id=user.id, author_id=user.id, source_format="fhir",
                       sha256=anchored.record_hash, resources_root="00" * 32, storage_key=anchored.storage_key,
                       size=1, resource_count=1,
                       created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)))
        dbs.flush()
        job = ChainJob(kind="anchor", user_id=user.id, record_id=anchored.record_id, sender=anchored.owner, nonce=0,
                       raw_tx=b"", tx_hash=anchored.tx_hash, status="confirmed", block_number=anchored.block_number,
                       block_hash=anchored.block_hash, mined_at=datetime.now(UTC))
        dbs.add(job)
        dbs.commit()
        return job
