"""Helpers of the hostile-input tests."""
from __future__ import annotations

from sqlalchemy import func, select

from phr import db
from phr.db import Base


def row_counts(app) -> dict[str, int]:
    """Rows per table, to prove a rejected request wrote nothing."""
    with app.app_context():
        session = db.session()
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
