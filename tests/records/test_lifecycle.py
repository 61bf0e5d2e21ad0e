"""Upload → encrypt → store → anchor → view with verification → export, on the real stack."""
import hashlib
import json
import re

from web_helpers import DATA, all_confirmed, drive_worker, jobs

from phr import db, services
from phr.importer import import_file
from phr.records.models import ChainJob, PendingUpload, Record, RecordKey


def test_upload_shows_a_summary_before_anything_is_stored(patient, live_app):
    resp = patient.upload(DATA / "mhb" / "scenario.json")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "My Health Bank (JSON)" in page and "Encounter" in page and "MedicationRequest" in page
    summary = import_file((DATA / "mhb" / "scenario.json").read_bytes()).summary
    assert f'datetime="{summary.date_from}"' in page and f'datetime="{summary.date_to}"' in page
    for kind, count in summary.counts.items():
        assert re.search(rf"<th scope=\"row\">{kind}</th><td>{count}</td>", page)
    with live_app.app_context():
        assert db.session().query(Record).count() == 0
        pending = db.session().query(PendingUpload).one()
        assert b"Iunaidon" not in pending.ciphertext  # staged content is sealed, not plaintext


def test_htmx_upload_returns_the_preview_fragment(patient):
    resp = patient.upload(DATA / "mhb" / "scenario.xml", htmx=True)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and 'id="upload-area"' in body
    assert "My Health Bank (XML)" in body


def test_bad_file_gets_a_clear_message_and_nothing_is_kept(patient, live_app):
    resp = patient.upload(DATA / "fhir" / "invalid-gender.json")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "gender" in page and "Traceback" not in page
    with live_app.app_context():
        assert db.session().query(PendingUpload).count() == 0


def test_scenario_upload_is_anchored_and_verified(patient, live_app):
    record_id = patient.upload_and_confirm(DATA / "mhb" / "scenario.json")
    status = patient.client.get(f"/records/{record_id}/status").get_data(as_text=True)
    assert 'hx-trigger="load delay:1s"' in status  # still polling while not anchored
    drive_worker(live_app, all_confirmed(live_app))
    status = patient.client.get(f"/records/{record_id}/status").get_data(as_text=True)
    assert "Anchored in" in status and "hx-trigger" not in status  # polling stops by itself

    page = patient.client.get(f"/records/{record_id}").get_data(as_text=True)
    job = jobs(live_app)[0]
    assert f"Verified: block {job.block_number}" in page and job.tx_hash in page
    with live_app.app_context():
        record = db.session().get(Record, record_id)
        anchor = services.ledger().get_anchor(bytes.fromhex(record_id), record.owner.eth_address)
        assert anchor.record_hash.hex() == record.sha256
        assert anchor.owner == record.owner.eth_address == anchor.author
        assert anchor.storage_key == record.storage_key
        assert anchor.resources_root.hex() == record.resources_root != "00" * 32
        ciphertext = services.storage().get(record.storage_key)
        assert b"Iunaidon" not in ciphertext and b"E11" not in ciphertext


def test_fhir_bundle_upload_is_anchored(patient, live_app):
    record_id = patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")
    drive_worker(live_app, all_confirmed(live_app))
    assert "Verified: block" in patient.client.get(f"/records/{record_id}").get_data(as_text=True)


def test_export_is_the_anchored_bytes_and_proof_names_the_chain(patient, live_app, devnet, registry):
    record_id = patient.upload_and_confirm(DATA / "mhb" / "scenario.xml")
    assert patient.client.get(f"/records/{record_id}/proof.json").status_code == 409  # not anchored yet
    drive_worker(live_app, all_confirmed(live_app))
    bundle = patient.client.get(f"/records/{record_id}/bundle.json")
    proof = patient.client.get(f"/records/{record_id}/proof.json").get_json()
    assert bundle.mimetype == "application/fhir+json"
    # The anchored commitment is salted (issue 14, item 7): the proof carries the salt that recomputes it.
    assert proof["commitment"] == "sha256(salt||bundle)" and proof["format"] == "phr-proof/3"
    assert "0x" + hashlib.sha256(bytes.fromhex(proof["salt"][2:]) + bundle.data).hexdigest() == proof["record_hash"]
    assert "0x" + hashlib.sha256(bundle.data).hexdigest() != proof["record_hash"]
    assert json.loads(bundle.data)["id"] == record_id
    job = jobs(live_app)[0]
    assert proof | {} == proof and proof["chain_id"] == devnet.chain_id and proof["contract_address"] == registry
    assert (proof["tx_hash"], proof["block_number"], proof["block_hash"]) == (job.tx_hash, job.block_number, job.block_hash)


def test_records_are_sealed_for_the_owner_only_and_listed_latest_first(patient, live_app):
    first = patient.upload_and_confirm(DATA / "mhb" / "scenario.json")
    second = patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")
    page = patient.client.get("/records/").get_data(as_text=True)
    assert page.index(second) < page.index(first)
    with live_app.app_context():
        keys = db.session().query(RecordKey).all()
        owner = db.session().get(Record, first).owner_id
        assert {k.user_id for k in keys} == {owner} and len(keys) == 2
        assert {j.record_id for j in db.session().query(ChainJob)} == {first, second}
