"""Hostile values in every form: a clear 4xx (or, for merely odd text, stored and shown escaped); nothing else written."""
import re

import pytest
from auth_helpers import DOCTOR, PASSWORD
from hostile_helpers import row_counts
from web_helpers import DATA, Patient

INJECTION = "<script>alert('x')</script>' OR '1'='1'; DROP TABLE users; --"


def _register_form(email="eve@example.org", **over):
    return {"email": email, "display_name": "Eve", "password": PASSWORD, "confirm": PASSWORD, "role": "patient",
            "custody": "platform"} | over


@pytest.mark.parametrize("field,value,message", [
    ("display_name", "x" * 10_000, "Field cannot be longer than 200 characters"),
    ("password", "p" * 1_000_000, "Field must be between"),
    ("email", "a@b.c\r\nBcc: victim@example.org", "valid email"),
    ("email", "' OR '1'='1", "valid email"),
    ("role", "admin", "Not a valid choice"),
    ("role", "validator", "Not a valid choice"),
    ("custody", "../../etc/passwd", "Not a valid choice"),
], ids=["long-name", "megabyte-password", "header-injection", "sql-email", "role-admin", "role-validator", "custody"])
def test_register_refuses_hostile_fields(auth, app, sweep, field, value, message):
    sweep["hostile inputs tried"] = sweep.get("hostile inputs tried", 0) + 1
    before = row_counts(app)
    data = _register_form(**{field: value})
    if field == "password":
        data["confirm"] = value
    resp = auth.post("/auth/register", data)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert row_counts(app) == before


def test_login_with_injection_or_huge_password_is_refused_generically(auth, app):
    auth.register_patient("mei@example.tw")
    auth.logout()
    for email, password in (("' OR '1'='1' --", "x" * 20), ("mei@example.tw", "y" * 1_000_000),
                            ("mei@example.tw' --", PASSWORD)):
        resp = auth.post("/auth/login", {"email": email, "password": password})
        assert resp.status_code == 422
        assert "/auth/logout" not in resp.get_data(as_text=True)


def test_injection_text_is_stored_as_text_and_rendered_escaped(auth, app):
    resp = auth.register_patient("mallory@example.org", name=INJECTION)
    page = auth.client.get("/auth/account").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(" in page
    with app.app_context():
        from phr import db
        from phr.models import User

        assert db.session().query(User).count() == 1  # the DROP TABLE was only text
    assert resp.email == "mallory@example.org"


@pytest.fixture
def sharing_world(live_app):
    patient = Patient(live_app.test_client(), live_app)
    patient.register_patient("mei@example.tw", name="Chen Mei")
    rid = patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")
    doctor = Patient(live_app.test_client(), live_app)
    doctor.register_patient("dr@example.org", role="doctor", name=INJECTION, **DOCTOR)
    return live_app, patient, doctor, rid


def test_sharing_forms_refuse_hostile_values_and_write_nothing(sharing_world, sweep):
    app, patient, _doctor, rid = sharing_world
    sweep["hostile inputs tried"] = sweep.get("hostile inputs tried", 0) + 9
    directory = patient.client.get("/sharing/").get_data(as_text=True)
    assert "<script>alert" not in directory and "&lt;script&gt;" in directory
    doctor_id = re.search(r'name="doctor_id" value="(\d+)"', directory).group(1)
    patient_id = str(int(doctor_id) - 1)
    cases = [
        {"doctor_id": "999999", "scope": "all"},
        {"doctor_id": patient_id, "scope": "all"},
        {"doctor_id": "1 OR 1=1", "scope": "all"},
        {"doctor_id": doctor_id, "scope": "all", "expires": "2001-01-01"},
        {"doctor_id": doctor_id, "scope": "everything"},
        {"doctor_id": doctor_id, "scope": "records", "records": ["0" * 64]},
        {"doctor_id": doctor_id, "scope": "records"},
    ]
    before = row_counts(app)
    for data in cases:
        resp = patient.post("/sharing/", data, action="/sharing/grant")
        assert 400 <= resp.status_code < 500, data
        assert "flash-error" in resp.get_data(as_text=True), data
    assert patient.post("/sharing/", {}, action="/sharing/grants/424242/revoke").status_code == 422
    before_privacy = row_counts(app)
    resp = patient.post(f"/sharing/records/{rid}/privacy", {"hidden": ["urn:uuid:not-in-this-record"]})
    assert resp.status_code == 422 and "not a valid choice" in resp.get_data(as_text=True)
    assert row_counts(app) == before_privacy == before


def test_visit_form_refuses_bad_codes_and_oversized_notes(sharing_world, sweep):
    app, patient, doctor, _rid = sharing_world
    sweep["hostile inputs tried"] = sweep.get("hostile inputs tried", 0) + 4
    directory = patient.client.get("/sharing/").get_data(as_text=True)
    doctor_id = re.search(r'name="doctor_id" value="(\d+)"', directory).group(1)
    assert patient.post("/sharing/", {"doctor_id": doctor_id, "scope": "all"}, action="/sharing/grant").status_code == 303
    patient_id = re.search(r"/sharing/patients/(\d+)", doctor.client.get("/sharing/patients").get_data(as_text=True)).group(1)
    before = row_counts(app)
    for data, message in (({"code": "DROP TABLE", "diagnosis": "x"}, "ICD-10-CM"),
                          ({"code": "E11.9", "diagnosis": "x", "notes": "n" * 100_000}, "longer than"),
                          ({"code": "E11.9", "diagnosis": "x", "med1_name": "a", "med1_days": "-5"}, "between"),
                          ({"code": "E11.9", "diagnosis": ""}, "required")):
        resp = doctor.post(f"/sharing/patients/{patient_id}/visit", data)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), (data, message)
    assert row_counts(app) == before
