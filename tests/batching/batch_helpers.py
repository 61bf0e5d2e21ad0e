"""Helpers for batched anchoring tests on the real devnet: batches, chain events, worker environment."""
from __future__ import annotations

from web_helpers import subprocess_env

from phr import db, services
from phr.records.models import AnchorBatch, BatchMember, ChainJob


def members(app) -> list[BatchMember]:
    with app.app_context():
        return list(db.session().query(BatchMember).order_by(BatchMember.queued_at))


def batches(app) -> list[AnchorBatch]:
    with app.app_context():
        return list(db.session().query(AnchorBatch).order_by(AnchorBatch.id))


def batch_jobs(app) -> list[ChainJob]:
    with app.app_context():
        return list(db.session().query(ChainJob).filter_by(kind="batch").order_by(ChainJob.id))


def all_batched_and_confirmed(app):
    """True once every waiting record is in a batch whose transaction is confirmed."""
    def done():
        with app.app_context():
            session = db.session()
            waiting = session.query(BatchMember).filter(BatchMember.batch_id.is_(None)).count()
            open_jobs = session.query(ChainJob).filter(ChainJob.status != "confirmed").count()
            return waiting == 0 and open_jobs == 0
    return done


def batch_events(app) -> dict[str, int]:
    """How many BatchAnchored events the chain holds per root (hex, no 0x)."""
    with app.app_context():
        counts: dict[str, int] = {}
        for log in services.ledger().contract.events.BatchAnchored().get_logs(from_block=0):
            root = log["args"]["root"].hex()
            counts[root] = counts.get(root, 0) + 1
        return counts


def anchored_events(app, record_ids) -> int:
    """How many per-record Anchored events name any of ``record_ids``."""
    with app.app_context():
        logs = services.ledger().contract.events.Anchored().get_logs(from_block=0)
        return sum(1 for log in logs if log["args"]["recordId"].hex() in set(record_ids))


def worker_env(app) -> dict:
    """The environment of a worker process for ``app`` (batch mode)."""
    return subprocess_env(app.config, CONFIRMATIONS=2, ANCHOR_MODE="batch", BATCH_WINDOW_SECONDS=0.5)
