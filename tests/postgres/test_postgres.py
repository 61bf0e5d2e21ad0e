"""The parts where the database engine matters, on PostgreSQL as deployed by docker-compose.yml."""
import json
import threading

from auth_helpers import AuthActions, checks_until_locked
from sqlalchemy import inspect
from web_helpers import DATA, Patient, all_confirmed, drive_worker, jobs

from phr import db, services
from phr.auth import throttle
from phr.models import User
from phr.records.service import create_record
from phr.sharing import service as sharing


def test_migrations_build_every_table_on_postgresql(app):
    with app.app_context():
        assert db.session().get_bind().dialect.name == "postgresql"
        tables = set(inspect(db.session().get_bind()).get_table_names())
    assert {"users", "key_sessions", "records", "record_keys", "chain_jobs", "pending_uploads", "grants",
            "privacy_tags", "record_shares", "share_keys", "access_events", "alembic_version"} <= tables


def test_record_lifecycle_and_sharing_on_postgresql(live_app):
    patient = Patient(live_app.test_client(), live_app)
    patient.register_patient("mei@example.tw", name="Chen Mei")
    record_id = patient.upload_and_confirm(DATA / "mhb" / "scenario.json")
    drive_worker(live_app, all_confirmed(live_app))
    page = patient.client.get(f"/records/{record_id}").get_data(as_text=True)
    assert "Verified: block" in page and "Iunaidon" in page


def test_concurrent_uploads_by_one_user_get_distinct_nonces(live_app):
    patient = Patient(live_app.test_client(), live_app)
    patient.register_patient("mei@example.tw", name="Chen Mei")
    keys = patient.keys()
    bundle = (DATA / "fhir" / "valid-collection.json").read_text()
    errors = []

    def upload():
        try:
            with live_app.test_request_context():
                owner = db.session().query(User).filter_by(email="mei@example.tw").one()
                create_record(owner=owner, author=owner, author_keys=keys, bundle=json.loads(bundle),
                              source_format="fhir-json", readers=sharing.all_records_readers(owner))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    nonces = [j.nonce for j in jobs(live_app)]
    assert len(nonces) == 6 and len(set(nonces)) == 6
    drive_worker(live_app, all_confirmed(live_app))
    with live_app.app_context():
        assert all(services.ledger().get_anchor(bytes.fromhex(j.record_id), j.sender) for j in jobs(live_app))


def test_parallel_wrong_logins_get_at_most_five_password_checks_on_postgresql(app):
    """Issue 14 item 8: the throttle's insert-then-count holds under READ COMMITTED too."""
    app.config["KDF_PROFILE"] = "strong"  # a password check long enough for all the requests to overlap
    browser = AuthActions(app.test_client(), app)
    browser.register_patient("mei@example.tw", custody_mode="self")
    browser.logout()
    burst, checked = checks_until_locked(app, "mei@example.tw", 8)
    assert 1 <= burst.count(422) <= throttle.MAX_PER_ACCOUNT_ADDRESS, burst
    assert checked == throttle.MAX_PER_ACCOUNT_ADDRESS
