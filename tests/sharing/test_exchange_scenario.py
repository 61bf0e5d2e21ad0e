"""The paper's exchange scenario end to end on the real devnet and object store."""
import re

from sharing_helpers import grant
from web_helpers import DATA

from phr import db, services
from phr.anchoring import Worker
from phr.models import User
from phr.records.models import ChainJob, Record
from phr.sharing.models import AccessEvent


def _visit_id(page: str) -> str:
    return re.search(r"/sharing/patients/\d+/records/([0-9a-f]{64})", page).group(1)


def test_taiwanese_patient_shares_with_a_philippine_doctor_then_revokes(cast):
    pid = cast.patient_id
    # The patient finds the Philippine doctor in the directory and grants access.
    directory = cast.patient.client.get("/sharing/?q=Philippines").get_data(as_text=True)
    assert "Dr Maria Santos" in directory and "Dr Somchai" not in directory
    assert grant(cast, cast.ph_id).status_code == 303
    cast.settle()
    assert "Confirmed on chain" in cast.patient.client.get("/sharing/").get_data(as_text=True)

    # The doctor sees the patient and reads the history and medications, verified against the chain.
    assert "Chen Mei" in cast.ph.client.get("/sharing/patients").get_data(as_text=True)
    page = cast.ph.client.get(f"/sharing/patients/{pid}").get_data(as_text=True)
    for drug in ("Iunaidon", "Neurtrol", "Cofarin", "Kaluril"):
        assert drug in page
    assert page.index("2017-10-10") < page.index("2017-01-20")  # latest first
    assert "Verified against the chain" in page

    # The doctor adds a new visit; it is owned by the patient and anchored with the doctor's key.
    resp = cast.ph.post(f"/sharing/patients/{pid}/visit",
                        {"code": "I10", "diagnosis": "Essential hypertension", "med1_name": "Amlodipine 5 mg",
                         "med1_dose": "1 tablet daily", "med1_days": "28", "notes": "Follow up in 4 weeks"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    new_id = resp.headers["Location"].rsplit("/", 1)[1]
    # The doctor lands on the new visit at once, before its anchor is mined (her owner-wide grant covers it).
    assert "Amlodipine 5 mg" in cast.ph.client.get(resp.headers["Location"]).get_data(as_text=True)
    cast.settle()
    with cast.app.app_context():
        record = db.session().get(Record, new_id)
        anchor = services.ledger().get_anchor(bytes.fromhex(new_id), record.owner.eth_address)
        assert record.owner_id == pid and anchor.owner == record.owner.eth_address
        assert anchor.author == record.author.eth_address != anchor.owner

    # The patient sees it in their timeline, marked with its author.
    timeline = cast.patient.client.get("/records/").get_data(as_text=True)
    assert "Amlodipine 5 mg" in timeline and "Dr Maria Santos" in timeline
    assert "Verified" in cast.patient.client.get(f"/records/{new_id}").get_data(as_text=True)

    # The Thai doctor, never granted, is denied everything.
    assert cast.th.client.get(f"/sharing/patients/{pid}").status_code == 404
    assert cast.th.client.get(f"/sharing/patients/{pid}/records/{cast.record_id}").status_code == 404
    assert "Chen Mei" not in cast.th.client.get("/sharing/patients").get_data(as_text=True)

    # The patient revokes: the Philippine doctor is denied at once, before the chain revoke is even mined.
    grant_id = re.search(r"/sharing/grants/(\d+)/revoke", cast.patient.client.get("/sharing/").get_data(as_text=True)).group(1)
    assert cast.patient.post("/sharing/", {}, action=f"/sharing/grants/{grant_id}/revoke").status_code == 303
    assert cast.ph.client.get(f"/sharing/patients/{pid}/records/{cast.record_id}").status_code == 404
    assert cast.ph.client.get(f"/sharing/patients/{pid}/records/{new_id}").status_code == 404
    cast.settle()
    with cast.app.app_context():
        chain = services.ledger()
        doctor = db.session().get(Record, new_id).author
        assert not chain.can_read(doctor.eth_address, bytes.fromhex(cast.record_id), db.session().get(User, pid).eth_address)

    # Every step is in the patient's access log, with its chain transaction.
    log = cast.patient.client.get("/sharing/log").get_data(as_text=True)
    for words in ("granted access to", "read", "added a record", "revoked access of"):
        assert words in log
    with cast.app.app_context():
        events = db.session().query(AccessEvent).filter_by(owner_id=pid).all()
        assert {e.action for e in events} >= {"grant", "read", "write", "revoke"}
        assert all(e.job is not None and e.job.status == "confirmed" for e in events)
        logged = services.ledger().contract.events.AccessLogged().get_logs(
            from_block=0, argument_filters={"owner": db.session().get(Record, cast.record_id).owner.eth_address})
        assert any(l["args"]["actor"] == doctor.eth_address for l in logged)


def test_removing_rows_from_the_access_log_is_detected_against_the_chain(cast):
    assert grant(cast, cast.ph_id).status_code == 303
    cast.settle()
    assert cast.ph.client.get(f"/sharing/patients/{cast.patient_id}/records/{cast.record_id}").status_code == 200
    cast.settle()
    assert "missing from this log" not in cast.patient.client.get("/sharing/log").get_data(as_text=True)
    with cast.app.app_context():  # an operator with database access hides the doctor's read
        session = db.session()
        session.query(AccessEvent).filter_by(owner_id=cast.patient_id, action="read").delete()
        session.commit()
    page = cast.patient.client.get("/sharing/log").get_data(as_text=True)
    assert "missing from this log" in page and "AccessLogged" in page


def test_a_doctor_reading_a_record_not_yet_anchored_is_logged_on_chain_after_the_record(cast):
    assert grant(cast, cast.ph_id).status_code == 303
    cast.settle()
    record_id = cast.patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")
    page = cast.ph.client.get(f"/sharing/patients/{cast.patient_id}/records/{record_id}")
    assert page.status_code == 200  # the owner-wide grant covers a record the chain does not know yet
    with cast.app.app_context():
        worker = Worker(db.session(), services.ledger(), faucet_key=cast.app.config["FAUCET_KEY"])
        worker.process_once()
        log_job = db.session().query(ChainJob).filter_by(kind="log", record_id=record_id).one()
        anchor_job = db.session().query(ChainJob).filter_by(kind="anchor", record_id=record_id).one()
        assert anchor_job.status != "confirmed" and log_job.status == "queued"  # held back, not sent to revert
    cast.settle()
    with cast.app.app_context():
        assert {j.status for j in db.session().query(ChainJob)} == {"confirmed"}
