"""Configuration read from environment variables, with local defaults.

Every setting can be overridden by an environment variable of the same name
prefixed with ``PHR_`` (e.g. ``PHR_DATABASE_URL``). Tests pass a mapping to
:func:`phr.create_app` instead of patching globals.
"""
from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""The largest upload by default (``PHR_MAX_UPLOAD_BYTES``): the web app's request limit and the importer's."""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"PHR_{name}", default)


def _read(path: str | None) -> str | None:
    return Path(path).read_text().strip() if path else None


def _recorded_contract(instance: Path) -> dict:
    """The registry address and chain id written by ``python -m phr.deploy``, if any."""
    path = instance / "contract.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _validator_nodes(instance: Path) -> dict[str, list[str]]:
    """Each validator operator's own node RPC URLs, keyed by their email or eth address.

    Read from ``instance/validator-nodes.json`` (written by ``flask create-validator``),
    overlaid with ``PHR_VALIDATOR_NODES``, a JSON object such as
    ``{"ops@hospital.example": ["http://10.0.0.5:8545"], "0xAbC…": ["http://…"]}``.
    Votes are only ever sent to these URLs (see docs/governance.md).
    """
    path = instance / "validator-nodes.json"
    nodes = json.loads(path.read_text()) if path.exists() else {}
    nodes.update(json.loads(_env("VALIDATOR_NODES") or "{}"))
    return {key: [urls] if isinstance(urls, str) else list(urls) for key, urls in nodes.items()}


def from_environment() -> dict:
    """Return the app configuration as a dict built from ``PHR_*`` variables."""
    instance = Path(_env("INSTANCE_DIR", str(ROOT / "instance")))
    return {
        "SECRET_KEY": _env("SECRET_KEY"),
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": _env("DATABASE_URL", f"sqlite:///{instance / 'phr.sqlite3'}"),
        # Object storage (any S3 endpoint: MinIO in production, SeaweedFS locally).
        "S3_ENDPOINT": _env("S3_ENDPOINT", "127.0.0.1:8333"),
        "S3_ACCESS_KEY": _env("S3_ACCESS_KEY"),
        "S3_SECRET_KEY": _env("S3_SECRET_KEY"),
        "S3_BUCKET": _env("S3_BUCKET", "phr-records"),
        "S3_SECURE": _env("S3_SECURE", "false").lower() == "true",
        # Chain: one or more JSON-RPC URLs of clique nodes (comma separated).
        "RPC_URLS": [u for u in _env("RPC_URLS", "http://127.0.0.1:8545").split(",") if u],
        "CONTRACT_ADDRESS": _env("CONTRACT_ADDRESS") or _recorded_contract(instance).get("address"),
        # Known up front so transactions can be signed while the chain is unreachable.
        "CHAIN_ID": int(_env("CHAIN_ID") or _recorded_contract(instance).get("chain_id") or 0) or None,
        # Gas money for users' own accounts comes from this prefunded key (never a user's key).
        "FAUCET_KEY": _env("FAUCET_KEY") or _read(_env("FAUCET_KEY_FILE")),
        "CONFIRMATIONS": int(_env("CONFIRMATIONS", "1")),
        # Anchoring: "record" (one anchor tx per record, signed by its author) or "batch" (owner-signed
        # leaves under one anchorBatch root per window; see docs/anchoring.md).
        "ANCHOR_MODE": _env("ANCHOR_MODE", "record"),
        "BATCH_WINDOW_SECONDS": float(_env("BATCH_WINDOW_SECONDS", "5.0")),
        "BATCH_MAX": int(_env("BATCH_MAX", "1024")),
        "BATCH_LEAD_SECONDS": float(_env("BATCH_LEAD_SECONDS", "0.25")),
        # Signs anchorBatch transactions; defaults to the faucet key (a dedicated key avoids nonce contention).
        "BATCHER_KEY": _read(_env("BATCHER_KEY_FILE")),
        # Validator operators' own signer nodes (votes go only there): PHR_VALIDATOR_NODES JSON, see above.
        "VALIDATOR_NODE_URLS": _validator_nodes(instance),
        "SESSION_COOKIE_SECURE": _env("COOKIE_SECURE", "false").lower() == "true",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # This site's public origin (https://phr.example.org) for the same-origin checks (phr/origin.py);
        # unset: the request's Host. Set it when a reverse proxy rewrites Host.
        "PUBLIC_ORIGIN": _env("PUBLIC_ORIGIN"),
        # Key custody: Argon2id/scrypt costs ("strong"; the test suite may pass "fast"), login lifetimes.
        "KDF_PROFILE": "strong",
        "KEY_SESSION_IDLE_MINUTES": int(_env("KEY_SESSION_IDLE_MINUTES", "30")),
        "KEY_SESSION_MAX_HOURS": int(_env("KEY_SESSION_MAX_HOURS", "12")),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(_env("KEY_SESSION_MAX_HOURS", "12"))),
        "EXPOSE_WORKER_PID": _env("EXPOSE_WORKER_PID", "false").lower() == "true",
        "MAX_CONTENT_LENGTH": int(_env("MAX_UPLOAD_BYTES", str(MAX_UPLOAD_BYTES))),
    }
