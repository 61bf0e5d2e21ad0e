"""Per-app singletons of the object store and chain clients, created on first use."""
from __future__ import annotations

from flask import current_app

from .ledger import Ledger
from .storage import Storage


def storage() -> Storage:
    """The app's object store client."""
    ext = current_app.extensions
    if "phr.storage" not in ext:
        ext["phr.storage"] = Storage.from_config(current_app.config)
    return ext["phr.storage"]


def ledger() -> Ledger:
    """The app's chain client, bound to the deployed registry."""
    ext = current_app.extensions
    if "phr.ledger" not in ext:
        cfg = current_app.config
        ext["phr.ledger"] = Ledger(cfg["RPC_URLS"], cfg["CONTRACT_ADDRESS"], timeout=cfg.get("RPC_TIMEOUT", 5.0))
    return ext["phr.ledger"]


def chain_id() -> int:
    """The chain id transactions are signed for: configured, else asked of the chain once."""
    cfg = current_app.config
    if not cfg.get("CHAIN_ID"):
        cfg["CHAIN_ID"] = ledger().chain_id()
    return cfg["CHAIN_ID"]
