"""Break-in attempts: every record endpoint × every kind of user; only the owner and a granted doctor get in."""
from datetime import UTC, datetime, timedelta

import pytest
from auth_helpers import DOCTOR
from sharing_helpers import grant
from web_helpers import Patient, wait_until

from phr import db, services
from phr.auth.service import SESSION_KEY
from phr.custody import unlocked_keys
from phr.models import User
from phr.sharing import service as sharing

OWNER_PATHS = ["/records/{rid}", "/records/{rid}/bundle.json", "/records/{rid}/proof.json", "/records/{rid}/status",
               "/sharing/records/{rid}/privacy"]
DOCTOR_PATHS = ["/sharing/patients/{pid}", "/sharing/patients/{pid}/records/{rid}",
                "/sharing/patients/{pid}/records/{rid}/bundle.json", "/sharing/patients/{pid}/visit"]
ROLES = ["owner", "granted", "expired", "revoked", "other_doctor", "other_patient", "anonymous", "admin"]


def _doctor(app, email, name):
    d = Patient(app.test_client(), app)
    d.register_patient(email, role="doctor", name=name, **DOCTOR)
    return d


def _keys(client_driver):
    with client_driver.client.session_transaction() as sess:
        sid, secret = sess[SESSION_KEY]
    with client_driver.app.app_context():
        return unlocked_keys(sid, bytes.fromhex(secret))


@pytest.fixture
def world(cast):
    app = cast.app
    clients = {"owner": cast.patient, "granted": cast.ph, "other_doctor": cast.th,
               "anonymous": Patient(app.test_client(), app)}
    clients["expired"] = _doctor(app, "expired@example.org", "Dr Expired")
    clients["revoked"] = _doctor(app, "revoked@example.org", "Dr Revoked")
    other = Patient(app.test_client(), app)
    other.register_patient("other@example.org", name="Other Patient")
    clients["other_patient"] = other
    admin = Patient(app.test_client(), app)
    with app.app_context():  # the platform operator's validator account: no public sign-up for it
        from phr.auth import service as auth

        auth.register(email="ops@example.org", password="operator password 1", role="validator",
                      display_name="Platform operator", custody_mode="platform", allowed_roles=("validator",))
    admin.login("ops@example.org", "operator password 1")
    clients["admin"] = admin

    assert grant(cast, cast.ph_id).status_code == 303
    revoked_id = _id(app, "revoked@example.org")
    assert grant(cast, revoked_id).status_code == 303
    expiring_at = datetime.now(UTC) + timedelta(seconds=6)
    with app.test_request_context():
        patient = db.session().get(User, cast.patient_id)
        sharing.grant_access(patient, _keys(cast.patient), _id(app, "expired@example.org"), expires_at=expiring_at)
    cast.settle()

    def expired_can_read() -> bool:
        with app.app_context():
            expired = db.session().query(User).filter_by(email="expired@example.org").one()
            return services.ledger().can_read(expired.eth_address, bytes.fromhex(cast.record_id),
                                              db.session().get(User, cast.patient_id).eth_address)

    assert expired_can_read()  # live before expiry
    with app.app_context():
        from phr.sharing.models import Grant

        revoke_id = db.session().query(Grant).filter_by(doctor_id=revoked_id).one().id
    assert cast.patient.post("/sharing/", {}, action=f"/sharing/grants/{revoke_id}/revoke").status_code == 303
    # Lapsed for the platform (its clock) and for the contract (the latest block's timestamp).
    wait_until(lambda: datetime.now(UTC) > expiring_at and not expired_can_read(), 30,
               "the grant to expire on the platform and on chain")
    cast.settle()
    return cast, clients


def _id(app, email):
    with app.app_context():
        return db.session().query(User).filter_by(email=email).one().id


def _allowed(resp) -> bool:
    return resp.status_code == 200


def test_only_owner_and_granted_doctor_get_in(world):
    """One world, every role × every endpoint (a world per role would cost minutes of chain time)."""
    cast, clients = world
    fill = {"rid": cast.record_id, "pid": cast.patient_id}
    wrong = []
    for role in ROLES:
        client = clients[role].client
        for path in OWNER_PATHS + DOCTOR_PATHS:
            resp = client.get(path.format(**fill))
            expected = role == ("owner" if path in OWNER_PATHS else "granted")
            if _allowed(resp) != expected:
                wrong.append((role, path, resp.status_code))
            if role == "anonymous" and resp.status_code not in (302, 303):
                wrong.append((role, path, resp.status_code, "anonymous must be sent to log in"))
        # Mutations need CSRF and the right grant: refused either way, and nothing is written.
        refused = client.post(f"/sharing/patients/{cast.patient_id}/visit", data={"code": "I10", "diagnosis": "x"})
        if refused.status_code not in (302, 303, 400, 403, 404):
            wrong.append((role, "POST visit", refused.status_code))
    assert wrong == []


def test_guessing_record_ids_gives_nothing(world):
    cast, clients = world
    near = cast.record_id[:-1] + ("0" if cast.record_id[-1] != "0" else "1")
    for guess in ("0" * 64, near, "..%2F..%2Fetc%2Fpasswd", "x"):
        for role, path in (("owner", "/records/{rid}"), ("granted", "/sharing/patients/{pid}/records/{rid}")):
            resp = clients[role].client.get(path.format(rid=guess, pid=cast.patient_id))
            assert resp.status_code == 404, (role, path, guess)
