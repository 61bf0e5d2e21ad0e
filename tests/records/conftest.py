"""Fixtures for the record lifecycle on the real devnet and object store."""
from __future__ import annotations

import pytest
from web_helpers import Patient


@pytest.fixture
def patient(live_app) -> Patient:
    p = Patient(live_app.test_client(), live_app)
    p.register_patient("mei@example.tw", name="Chen Mei")
    return p
