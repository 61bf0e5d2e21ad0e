"""Health of every component: ``/healthz`` (JSON for monitors) and ``/status`` (for people)."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from . import db, services
from .ledger import VERSION, ChainError

bp = Blueprint("status", __name__)


def check_database() -> dict:
    try:
        db.session().execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any driver error means "down"; report its class, not its secrets
        db.session().rollback()
        return {"ok": False, "error": type(exc).__name__}


def check_storage() -> dict:
    store = services.storage()
    ok = store.healthy()
    return {"ok": ok, "bucket": store.bucket, **({} if ok else {"error": "object store unreachable or bucket missing"})}


def check_chain() -> dict:
    chain = services.ledger()
    try:
        deployed = chain.has_contract()
        version = chain.deployed_version() if deployed else None
        error = ("no contract deployed at the configured address" if not deployed else
                 f"the registry is {version}, not {VERSION}: run python -m phr.deploy (docs/operations.md)"
                 if version != VERSION else None)
        return {
            "ok": error is None,
            "chain_id": chain.chain_id(),
            "latest_block": chain.block_number(),
            "signer_count": len(chain.signers()),
            "contract_address": chain.address,
            "contract_version": version,
            **({"error": error} if error else {}),
        }
    except ChainError as exc:
        return {"ok": False, "contract_address": chain.address, "error": str(exc)}


def health() -> dict:
    """Check database, object store and chain; never raises."""
    checks = {"database": check_database(), "storage": check_storage(), "chain": check_chain()}
    return {"ok": all(c["ok"] for c in checks.values()), **checks}


@bp.get("/healthz")
def healthz():
    report = health()
    return jsonify(report), 200 if report["ok"] else 503


@bp.get("/status")
def status_page():
    return render_template("status/status.html", report=health())


@bp.get("/")
def index():
    return render_template("status/index.html")
