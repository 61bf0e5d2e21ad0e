"""The records list is paginated, so a patient with thousands of records gets a page, not all of them."""
import re
import secrets
from datetime import UTC, datetime, timedelta

from phr import db
from phr.models import User
from phr.records.models import Record

ROW = re.compile(r'href="/records/([0-9a-f]{64})"')


def insert_records(app, email: str, n: int) -> list[str]:
    """``n`` record rows for ``email``, newest last (their objects do not exist: listing must not fetch them)."""
    base = datetime(2020, 1, 1, tzinfo=UTC)
    with app.app_context():
        session = db.session()
        user = session.query(User).filter_by(email=email).one()
        ids = []
        for i in range(n):
            rid = secrets.token_hex(32)
            session.add(Record(id=rid, anchor_id=rid, owner_id=user.id, author_id=user.id, source_format="fhir-json",
                               sha256=secrets.token_hex(32), resources_root="00" * 32,
                               storage_key=f"records/absent-{rid[:32]}", size=1, resource_count=1,
                               created_at=base + timedelta(minutes=i)))
            ids.append(rid)
        session.commit()
    return ids


def test_patient_with_many_records_pages_through_them_latest_first(patient, batch_app):
    ids = insert_records(batch_app, "mei@example.tw", 120)
    first = patient.client.get("/records/").get_data(as_text=True)
    assert ROW.findall(first) == ids[::-1][:50]
    assert 'href="/records/?page=2"' in first and "Older records" in first and "Newer records" not in first
    second = patient.client.get("/records/?page=2").get_data(as_text=True)
    assert ROW.findall(second) == ids[::-1][50:100]
    assert "Newer records" in second and 'href="/records/?page=3"' in second
    last = patient.client.get("/records/?page=3").get_data(as_text=True)
    assert ROW.findall(last) == ids[::-1][100:] and "Older records" not in last
    assert ROW.findall(patient.client.get("/records/?page=0").get_data(as_text=True)) == ids[::-1][:50]
