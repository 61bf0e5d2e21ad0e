"""Fixtures for batched anchoring on the real devnet and object store."""
from __future__ import annotations

import pytest
from web_helpers import Patient


@pytest.fixture
def batch_app(live_app):
    """The live app with ``PHR_ANCHOR_MODE=batch``."""
    live_app.config.update(ANCHOR_MODE="batch", BATCH_WINDOW_SECONDS=1.0, BATCH_MAX=256)
    return live_app


@pytest.fixture
def patient(batch_app) -> Patient:
    p = Patient(batch_app.test_client(), batch_app)
    p.register_patient("mei@example.tw", name="Chen Mei")
    return p

