"""Hostile input: every case must get a clear 4xx, leave the server working, and write nothing."""
from __future__ import annotations

import pytest
from web_helpers import Patient


@pytest.fixture
def patient(app) -> Patient:
    p = Patient(app.test_client(), app)
    p.register_patient("mei@example.tw", name="Chen Mei")
    return p
