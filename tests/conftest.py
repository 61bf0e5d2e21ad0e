"""Shared fixtures: a fresh app per test, and the real local stack (geth clique devnet + S3) per session.

Each test's database is a copy of one SQLite file migrated once per session.

The stack fixtures start real processes on free loopback ports under a
temporary directory and stop them at the end of the session.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest
from auth_helpers import AuthActions
from eth_account import Account

from phr import create_app, db
from phr.devnet import Devnet
from phr.ledger import Ledger
from phr.seaweed import LocalObjectStore
from phr.storage import Storage

DEAD_URL = "http://127.0.0.1:9"  # discard port: nothing answers


def _mkapp(tmp_path: Path, url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": secrets.token_hex(16),
        "DATABASE_URL": url,
        "INSTANCE_DIR": str(tmp_path),
        "S3_ENDPOINT": "127.0.0.1:9",
        "S3_ACCESS_KEY": "none",
        "S3_SECRET_KEY": "none-none",
        "RPC_URLS": [DEAD_URL],
        "RPC_TIMEOUT": 1.0,
        "CONTRACT_ADDRESS": None,
        "KDF_PROFILE": "fast",  # cheap Argon2/scrypt so the suite stays fast; production refuses it
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One SQLite file brought to the Alembic head once per session (an upgrade costs ~0.3 s; a copy ~1 ms)."""
    path = tmp_path_factory.mktemp("migrated") / "phr.sqlite3"
    db.upgrade(f"sqlite:///{path}")  # its engine is disposed: the WAL is checkpointed into the one file
    return path


@pytest.fixture
def database_url(tmp_path, migrated_sqlite) -> str:
    """A fresh SQLite database at the Alembic head: a copy of ``migrated_sqlite``.

    tests/postgres overrides this with a migrated PostgreSQL database.
    """
    path = tmp_path / "phr.sqlite3"
    shutil.copyfile(migrated_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(tmp_path, database_url):
    """An app on a fresh migrated database; chain and storage point at nothing."""
    app = _mkapp(tmp_path, database_url)
    yield app
    app.extensions["phr.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(client, app) -> AuthActions:
    """A browser-like driver of the account pages (register, log in, …) with real CSRF tokens."""
    return AuthActions(client, app)


# ----- the real local stack ----------------------------------------------------
@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def devnet(stack_dir):
    """Three geth clique signers sealing 1-second blocks."""
    net = Devnet(stack_dir / "devnet", signers=3, period=1, base_port=None)
    net.up()
    yield net
    net.down()


@pytest.fixture(scope="session")
def objectstore(stack_dir):
    """A SeaweedFS S3 server with generated credentials."""
    store = LocalObjectStore(stack_dir / "s3", s3_port=None)
    store.up()
    yield store
    store.down()


@pytest.fixture(scope="session")
def registry(devnet) -> str:
    """Address of a PHRRegistry freshly deployed on the devnet."""
    return Ledger(devnet.rpc_urls).deploy(devnet.faucet_key)


@pytest.fixture
def ledger(devnet, registry) -> Ledger:
    return Ledger(devnet.rpc_urls, registry)


@pytest.fixture
def funded_account(devnet, ledger):
    """A fresh user account with gas money, as the platform gives each user."""
    acct = Account.create()
    ledger.wait(ledger.transfer(devnet.faucet_key, acct.address, 10**18))
    return acct


@pytest.fixture
def storage(objectstore) -> Storage:
    store = Storage(objectstore.endpoint, objectstore.access_key, objectstore.secret_key,
                    "test-" + secrets.token_hex(4))
    store.ensure_bucket()
    return store


@pytest.fixture
def live_app(tmp_path, database_url, devnet, registry, objectstore, storage):
    """An app wired to the real devnet, registry and object store."""
    app = _mkapp(
        tmp_path, database_url,
        S3_ENDPOINT=objectstore.endpoint, S3_ACCESS_KEY=objectstore.access_key,
        S3_SECRET_KEY=objectstore.secret_key, S3_BUCKET=storage.bucket,
        RPC_URLS=devnet.rpc_urls, CONTRACT_ADDRESS=registry, CHAIN_ID=devnet.chain_id, FAUCET_KEY=devnet.faucet_key,
    )
    yield app
    app.extensions["phr.engine"].dispose()


# ----- test lanes (markers declared in pyproject.toml) ------------------------------
_STACK_FIXTURES = {"devnet", "objectstore", "own_devnet", "stack"}  # "stack": tests/foundation/test_stack.py
_LANE_BY_DIR = {"browser": "browser", "postgres": "postgres"}


def pytest_collection_modifyitems(config, items):
    """Mark each test with its lane so ``make test-fast`` can leave out the slow ones.

    ``stack``: needs the shared geth devnet or object store, or starts its own
    devnet or stack; ``browser``: Chromium;
    ``postgres``: a PostgreSQL server; ``load``: the load test; ``sweep``: adds to
    the reliability sweep's table or is a hostile-input test (``make sweep``).
    """
    for item in items:
        path = Path(str(item.fspath))
        lane = _LANE_BY_DIR.get(path.parent.name)
        if lane:
            item.add_marker(lane)
        if path.name == "test_load.py":
            item.add_marker("load")
        if _STACK_FIXTURES & set(item.fixturenames):
            item.add_marker("stack")
        if "sweep" in item.fixturenames or path.parent.name == "hostile":
            item.add_marker("sweep")


def pytest_report_header(config):
    return f"geth cache: {os.environ.get('PHR_CACHE_DIR', '~/.cache/phr')}"


# ----- the reliability sweep's summary (make sweep) -------------------------------
SWEEP: dict[str, int] = {}


@pytest.fixture
def sweep() -> dict[str, int]:
    """Counters the hostile-input and fault tests add to; printed as a table at the end of the run."""
    return SWEEP


def pytest_terminal_summary(terminalreporter):
    if not SWEEP:
        return
    terminalreporter.section("reliability sweep")
    for name, value in SWEEP.items():
        terminalreporter.write_line(f"{name:<44}{value:>8}")
