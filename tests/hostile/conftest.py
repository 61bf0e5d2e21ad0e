"""Hostile input: every case must get a clear 4xx, leave the server working, and write nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from web_helpers import Patient

from phr import db
from phr.db import Base


def row_counts(app) -> dict[str, int]:
    """Rows per table, to prove a rejected request wrote nothing."""
    with app.app_context():
        session = db.session()
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@pytest.fixture
def patient(app) -> Patient:
    p = Patient(app.test_client(), app)
    p.register_patient("mei@example.tw", name="Chen Mei")
    return p
