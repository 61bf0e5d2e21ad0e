"""Browser-like drivers and worker helpers for tests on the real devnet and object store."""
from __future__ import annotations

import io
import re
import signal
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from auth_helpers import AuthActions
from eth_account import Account

from phr import db, services
from phr.anchoring import Worker
from phr.launch import start_worker, stop
from phr.records.models import ChainJob

DATA = Path(__file__).resolve().parent / "data"
_CONFIRM = re.compile(r'action="(/records/upload/[0-9a-f]+/confirm)"')
_ENV_KEYS = ("SECRET_KEY", "DATABASE_URL", "INSTANCE_DIR", "S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY",
             "S3_BUCKET", "RPC_URLS", "CONTRACT_ADDRESS", "CHAIN_ID", "FAUCET_KEY")


class Patient(AuthActions):
    """A registered, logged-in patient who uploads through the real pages."""

    def upload(self, path: Path, *, htmx: bool = False):
        headers = {"HX-Request": "true"} if htmx else {}
        return self.post("/records/upload", {"file": (io.BytesIO(path.read_bytes()), path.name)},
                         content_type="multipart/form-data", headers=headers)

    def upload_and_confirm(self, path: Path) -> str:
        """Upload, confirm the preview and return the new record id."""
        preview = self.upload(path)
        assert preview.status_code == 200, preview.get_data(as_text=True)
        action = _CONFIRM.search(preview.get_data(as_text=True)).group(1)
        resp = self.post("/records/upload", {}, action=action)
        assert resp.status_code == 303, resp.get_data(as_text=True)
        return resp.headers["Location"].rsplit("/", 1)[1]


def drive_worker(app, until, timeout: float = 60.0) -> None:
    """Run anchoring rounds in-process until ``until()`` is true (bounded)."""
    deadline = time.monotonic() + timeout
    with app.app_context():
        worker = Worker.from_config(db.session(), services.ledger(), app.config)
        while not until():
            assert time.monotonic() < deadline, "anchoring did not finish in time"
            worker.process_once()
            db.session().expire_all()
            time.sleep(0.3)


def jobs(app) -> list[ChainJob]:
    with app.app_context():
        return list(db.session().query(ChainJob).order_by(ChainJob.id))


def wait_until(predicate, timeout: float, what: str, interval: float = 0.25):
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def all_confirmed(app):
    return lambda: all(j.status == "confirmed" for j in jobs(app))


def funded_stranger(app, devnet) -> Account:
    """Someone with a funded account of their own and nothing on the platform: the attacker of the chain tests.

    Funded when called, so a test can fund them before a batch cut (the faucet also signs our batches)."""
    stranger = Account.create()
    with app.app_context():
        chain = services.ledger()
        chain.wait(chain.transfer(devnet.faucet_key, stranger.address, 10**17))
    return stranger


def tally(sweep: dict, key: str, n: int = 1) -> None:
    """Add ``n`` to a reliability-sweep counter (see tests/conftest.py)."""
    sweep[key] = sweep.get(key, 0) + n


def subprocess_env(config: Mapping, **overrides) -> dict[str, str]:
    """The ``PHR_*`` variables that configure a worker or gunicorn process like ``config`` (see phr.launch).

    ``config`` is an app config or a dict of the same keys (database, instance dir, S3, chain);
    ``overrides`` add or replace config keys (``CONFIRMATIONS=2``). Lists are comma-joined.
    """
    values = {key: config[key] for key in _ENV_KEYS} | overrides
    return {f"PHR_{key}": ",".join(value) if isinstance(value, list) else str(value) for key, value in values.items()}


def kill_worker_while_sending(env: dict, jobs_of) -> None:
    """Start ``python -m phr.worker`` and SIGKILL it as soon as one of ``jobs_of()`` is sent or mined."""
    worker = start_worker(env)
    try:
        deadline = time.monotonic() + 60
        while not any(j.status in ("sent", "mined") for j in jobs_of()):
            assert time.monotonic() < deadline and worker.poll() is None, "worker did not start sending"
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()


def run_worker_until(env: dict, done, describe, timeout: float = 90.0) -> None:
    """Run ``python -m phr.worker`` until ``done()``; fails with ``describe()`` if it exits or times out."""
    worker = start_worker(env)
    try:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline and worker.poll() is None, describe()
            time.sleep(0.3)
    finally:
        stop([worker], timeout=15)
