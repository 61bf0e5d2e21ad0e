"""Issue 14, item 10: hiding is a patient-level decision that holds in every overlapping record, present and future.

My Health Bank downloads overlap by design: scenario-overlap-2018-01.json and -04.json (made from scenario.json)
both hold the 2017-07-16 epilepsy visit at the neurology clinic (G40.909, Neurtrol); the April download also has a
2018-02-14 follow-up with the same diagnosis and drug, and its copy of the July visit row was adjusted since, so
that visit has another entry id there. scenario.json is an older download uploaded later.
"""
import json
import re

from auth_helpers import DOCTOR
from sharing_helpers import Cast, grant, user_id
from web_helpers import DATA, Patient, tally

from phr import db, view
from phr.importer import import_file
from phr.sharing.models import HideRules, PrivacyTag

MHB = DATA / "mhb"
JAN, APR, OLD = MHB / "scenario-overlap-2018-01.json", MHB / "scenario-overlap-2018-04.json", MHB / "scenario.json"
SECRETS = ("G40", "Neurtrol", "AX99002100", "癲癇")  # the diagnosis and the drug


def _cast(live_app, *uploads) -> tuple[Cast, list[str]]:
    patient = Patient(live_app.test_client(), live_app)
    patient.register_patient("mei@example.tw", name="Chen Mei")
    ids = [patient.upload_and_confirm(path) for path in uploads]
    doctor = Patient(live_app.test_client(), live_app)
    doctor.register_patient("santos@example.ph", role="doctor", name="Dr Maria Santos",
                            **(DOCTOR | {"country": "Philippines", "institution": "Philippine General Hospital"}))
    cast = Cast(live_app, patient, user_id(live_app, "mei@example.tw"), ids[0], doctor,
                user_id(live_app, "santos@example.ph"), None, 0)
    assert grant(cast, cast.ph_id).status_code == 303
    cast.settle()
    return cast, ids


def _item(path, text: str, kind: str) -> str:
    """The fullUrl of the first item of ``kind`` whose label holds ``text`` (the importer's ids are deterministic)."""
    bundle = json.loads(import_file(path.read_bytes(), path.name, max_bytes=10**7).canonical)
    return next(url for url, item_kind, label in view.item_keys(bundle) if item_kind == kind and text in label)


def _doctor_pages(cast: Cast, record_ids: list[str]) -> dict[str, str]:
    pid, pages = cast.patient_id, {}
    pages["merged"] = cast.ph.client.get(f"/sharing/patients/{pid}").get_data(as_text=True)
    for rid in record_ids:
        pages[rid] = cast.ph.client.get(f"/sharing/patients/{pid}/records/{rid}").get_data(as_text=True)
        pages[rid + ".json"] = cast.ph.client.get(f"/sharing/patients/{pid}/records/{rid}/bundle.json") \
            .get_data(as_text=True)
    return pages


def _assert_hidden_and_verified(cast: Cast, record_ids: list[str]) -> None:
    for name, body in _doctor_pages(cast, record_ids).items():
        for secret in SECRETS:
            assert secret not in body, (name, secret)
        if name in record_ids:  # each redacted copy: every visible leaf checked, the root against the chain
            assert "Verified against the chain (" in body and "withheld by the patient" in body, \
                re.findall(r"integrity-\w+.{0,300}", body, re.DOTALL)


def test_item_hidden_in_one_record_stays_hidden_in_overlapping_and_later_records(live_app, sweep):
    """The reported attack: tag the epilepsy visit in one record; an overlapping record (the same rows), uploaded
    before or after, showed the doctor the visit, G40.909 and Neurtrol all the same."""
    cast, (jan, old) = _cast(live_app, JAN, OLD)
    visit = _item(JAN, "神經科", "Encounter")
    privacy = cast.patient.client.get(f"/sharing/records/{jan}/privacy").get_data(as_text=True)
    assert f'value="{visit}"' in privacy
    assert cast.patient.post(f"/sharing/records/{jan}/privacy", {"hidden": [visit]}).status_code == 303
    _assert_hidden_and_verified(cast, [jan, old])

    again = cast.patient.upload_and_confirm(JAN)  # the same file uploaded twice, after the tag
    cast.settle()
    _assert_hidden_and_verified(cast, [jan, old, again])
    merged = _doctor_pages(cast, [])["merged"]
    assert "Iunaidon" in merged and "Cofarin" in merged  # what is not hidden is shown
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_hide_rules_by_visit_diagnosis_and_drug_cover_every_record_present_and_future(live_app):
    cast, (jan, apr) = _cast(live_app, JAN, APR)
    patient = cast.patient
    page = patient.client.get(f"/records/{jan}").get_data(as_text=True)
    visit, diagnosis, drug = _item(JAN, "神經科", "Encounter"), _item(JAN, "G40", "Condition"), \
        _item(JAN, "Neurtrol", "MedicationRequest")
    for url in (visit, diagnosis, drug):
        assert f'name="item" value="{url}"' in page  # the hide buttons are next to the items

    # Plain forms (the buttons sit in record content, where htmx is disabled): a 303 back to the page they were on.
    resp = patient.post(f"/records/{jan}", {"record_id": jan, "item": visit, "kind": "visit"}, action="/sharing/hidden")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/records/{jan}")
    for url, kind in ((diagnosis, "diagnosis"), (drug, "drug")):
        resp = patient.post("/records/", {"record_id": jan, "item": url, "kind": kind}, action="/sharing/hidden",
                            headers={"Referer": "http://localhost/records/"})
        assert resp.status_code == 303 and resp.headers["Location"] == "/records/"
    page = patient.client.get(f"/records/{jan}").get_data(as_text=True)
    assert "Show again" in page and f'name="item" value="{drug}"' in page  # the drug's own rule: "Show again"
    # Showing the drug again leaves it hidden where the visit and diagnosis rules hide it (here: everywhere).
    drug_form = {"record_id": jan, "item": drug, "kind": "drug"}
    assert patient.post(f"/records/{jan}", drug_form, action="/sharing/hidden/show").status_code == 303
    page = patient.client.get(f"/records/{jan}").get_data(as_text=True)
    assert f'name="item" value="{drug}"' not in page and "by a rule" in page  # hidden, by the other rules
    _assert_hidden_and_verified(cast, [jan, apr])
    assert patient.post(f"/records/{jan}", drug_form, action="/sharing/hidden").status_code == 303
    _assert_hidden_and_verified(cast, [jan, apr])  # apr: another entry id for the July visit, and a 2018 follow-up

    later = patient.upload_and_confirm(OLD)  # a future record, for a doctor who already has access
    cast.settle()
    _assert_hidden_and_verified(cast, [jan, apr, later])

    # The patient sees every place each item appears; the platform stores the rules sealed.
    hidden = patient.client.get("/sharing/hidden").get_data(as_text=True)
    assert hidden.count("Hidden in 3 records:") == 3, hidden
    assert "2018-02-14 · G40.909" in hidden and "2018-02-14 · Neurtrol" in hidden
    with cast.app.app_context():
        (row,) = db.session().query(HideRules).all()
        assert b"G40" not in row.ciphertext and b"AX99002100" not in row.ciphertext
        assert db.session().query(PrivacyTag).count() == 0

    timeline = patient.client.get("/records/").get_data(as_text=True)  # the merged timeline marks them too
    assert "Show again" in timeline and "Hide this visit from doctors" in timeline

    # Showing them again gives the doctor the full records back, verified by their hash.
    first, *rest = re.findall(r'name="rule" value="([0-9a-f]{16})"', hidden)
    resp = patient.post("/sharing/hidden", {"rule": first}, action="/sharing/hidden/remove",
                        headers={"HX-Request": "true"})
    assert resp.status_code == 200 and resp.get_data(as_text=True) == ""  # htmx removes the rule's card
    for rule_id in rest:
        resp = patient.post("/sharing/hidden", {"rule": rule_id}, action="/sharing/hidden/remove")
        assert resp.status_code == 303 and resp.headers["Location"].endswith("/sharing/hidden")
    assert "You hide nothing" in patient.client.get("/sharing/hidden").get_data(as_text=True)
    for rid in (jan, apr, later):
        full = cast.ph.client.get(f"/sharing/patients/{cast.patient_id}/records/{rid}").get_data(as_text=True)
        assert "Neurtrol" in full and "Verified against the chain." in full


def test_a_visit_another_doctor_writes_reaches_the_other_doctors_through_the_rules(live_app):
    """A doctor's session cannot read the patient's sealed rules: with rules set, the patient's other doctors get a
    record another doctor wrote only at the patient's next visit to their records, redacted by the rules."""
    cast, (jan,) = _cast(live_app, JAN)
    drug = _item(JAN, "Neurtrol", "MedicationRequest")
    assert cast.patient.post(f"/records/{jan}", {"record_id": jan, "item": drug, "kind": "drug"},
                             action="/sharing/hidden").status_code == 303
    writer = Patient(live_app.test_client(), live_app)
    writer.register_patient("somchai@example.th", role="doctor", name="Dr Somchai",
                            **(DOCTOR | {"country": "Thailand", "institution": "Siriraj Hospital"}))
    assert grant(cast, user_id(live_app, "somchai@example.th")).status_code == 303
    cast.settle()
    pid = cast.patient_id
    resp = writer.post(f"/sharing/patients/{pid}/visit", {"code": "G40.909", "diagnosis": "Epilepsy",
                                                           "med1_name": "Neurtrol F.C. Tablets 300 mg"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    written = resp.headers["Location"].rsplit("/", 1)[1]
    cast.settle()
    assert cast.ph.client.get(f"/sharing/patients/{pid}/records/{written}").status_code == 404  # not yet keyed
    assert cast.patient.client.get("/records/").status_code == 200  # the patient's next visit keys it
    page = cast.ph.client.get(f"/sharing/patients/{pid}/records/{written}").get_data(as_text=True)
    assert "Epilepsy" in page and "Neurtrol" not in page and "withheld by the patient" in page
