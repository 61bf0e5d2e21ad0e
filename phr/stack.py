"""The local stack: devnet chain + S3 object store + SQLite + the web app, from one command.

``python -m phr.stack`` starts everything under ``instance/``, deploys the
registry on first start, prints where each part runs, and stops it all on
Ctrl-C. Running it again reuses the same chain, objects and database.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from . import db
from .config import ROOT
from .deploy import ensure_contract
from .devnet import Devnet, DevnetError, ToolchainError, port_in_use
from .launch import serving
from .ledger import ChainError, Ledger
from .seaweed import LocalObjectStore, ObjectStoreError
from .storage import Storage, StorageError

BUCKET = "phr-records"


class LocalStack:
    """Devnet, object store, registry and database that live under ``instance_dir``."""

    def __init__(self, instance_dir: str | Path, *, period: int = 2, rpc_base_port: int | None = 8545,
                 s3_port: int | None = 8333):
        self.dir = Path(instance_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.devnet = Devnet(self.dir / "devnet", period=period, base_port=rpc_base_port)
        self.objectstore = LocalObjectStore(self.dir / "s3", s3_port=s3_port)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.dir / 'phr.sqlite3'}"

    def secret_key(self) -> str:
        """The Flask secret key, generated once and kept in the instance folder (mode 600)."""
        path = self.dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            os.chmod(path, 0o600)
        return path.read_text().strip()

    def up(self) -> dict:
        """Start chain and object store, deploy, migrate; return the app's environment."""
        self.devnet.up()
        self.objectstore.up()
        db.upgrade(self.database_url)
        address = ensure_contract(Ledger(self.devnet.rpc_urls), self.devnet.faucet_key, self.dir, self.database_url)
        Storage(self.objectstore.endpoint, self.objectstore.access_key, self.objectstore.secret_key,
                BUCKET).ensure_bucket()
        return {
            "PHR_INSTANCE_DIR": str(self.dir),
            "PHR_SECRET_KEY": self.secret_key(),
            "PHR_DATABASE_URL": self.database_url,
            "PHR_S3_ENDPOINT": self.objectstore.endpoint,
            "PHR_S3_ACCESS_KEY": self.objectstore.access_key,
            "PHR_S3_SECRET_KEY": self.objectstore.secret_key,
            "PHR_S3_BUCKET": BUCKET,
            "PHR_RPC_URLS": ",".join(self.devnet.rpc_urls),
            "PHR_CONTRACT_ADDRESS": address,
            "PHR_FAUCET_KEY_FILE": str(self.devnet.datadir / "faucet.key"),
        }

    def down(self) -> None:
        """Stop chain and object store; data stays on disk."""
        self.objectstore.down()
        self.devnet.down()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m phr.stack", description=__doc__)
    parser.add_argument("--instance", default=str(ROOT / "instance"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PHR_PORT", "5000")))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    stack = LocalStack(args.instance)
    if port_in_use(args.port):
        print(f"phr: port {args.port} is already in use; pass --port or set PHR_PORT.", file=sys.stderr)
        return 1
    print("phr: starting the local stack (first start builds geth and may take a few minutes)…", flush=True)
    try:
        env = stack.up()
    except (DevnetError, ToolchainError, ObjectStoreError, ChainError, StorageError) as exc:
        print(f"phr: could not start the local stack: {exc}", file=sys.stderr)
        stack.down()
        return 1
    stopping = False

    def stop(_sig, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        with serving(env, host=args.host, port=args.port, workers=args.workers, access_log=True) as app:
            nodes = ", ".join(f"node{n['node']} {n['rpc_url']}" for n in stack.devnet.status())
            print(
                f"\n  PHR Exchange is running at {app.base}/\n"
                f"  chain:    clique devnet, {len(stack.devnet.nodes)} geth signers ({nodes}), chain id {stack.devnet.chain_id}\n"
                f"  contract: {env['PHR_CONTRACT_ADDRESS']}\n"
                f"  objects:  SeaweedFS S3 at http://{env['PHR_S3_ENDPOINT']} bucket {env['PHR_S3_BUCKET']}\n"
                f"  database: {env['PHR_DATABASE_URL']}\n"
                f"  data:     {stack.dir}\n  Press Ctrl-C to stop everything.\n",
                flush=True,
            )
            while not stopping and app.alive():
                time.sleep(0.5)
            print("phr: stopping…", flush=True)
    except RuntimeError as exc:  # the app or worker exited while starting
        print(f"phr: could not start the app: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.down()
        print("phr: stopped; data kept in", stack.dir, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
