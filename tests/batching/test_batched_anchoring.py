"""Batch mode on the real devnet: many uploads, one anchorBatch transaction, every record provable on its own."""
import json
import os
import re
import subprocess
import sys

from auth_helpers import DOCTOR
from batch_helpers import (
    all_batched_and_confirmed,
    anchored_events,
    batch_events,
    batch_jobs,
    batches,
    members,
    worker_env,
)
from web_helpers import (
    DATA,
    Patient,
    drive_worker,
    kill_worker_while_sending,
    run_worker_until,
)

from phr import db, services
from phr.models import User
from phr.records.models import ChainJob, Record
from phr.sharing.models import Grant

UPLOADS = [DATA / "mhb" / "scenario.json", DATA / "fhir" / "valid-collection.json", DATA / "mhb" / "full.json",
           DATA / "fhir" / "valid-transaction.json"]


def test_batch_uploads_anchor_in_one_transaction_and_each_verifies(patient, batch_app):
    ids = [patient.upload_and_confirm(path) for path in UPLOADS]
    with batch_app.app_context():
        assert db.session().query(ChainJob).count() == 0  # no per-record transactions were signed
        assert all(db.session().get(Record, rid).owner_signature for rid in ids)
    assert "Queued for the next anchoring batch" in patient.client.get(f"/records/{ids[0]}/status").get_data(
        as_text=True)
    assert patient.client.get(f"/records/{ids[0]}/proof.json").status_code == 409  # not anchored yet
    drive_worker(batch_app, all_batched_and_confirmed(batch_app))

    [job] = batch_jobs(batch_app)
    [batch] = batches(batch_app)
    assert job.status == "confirmed" and batch.count == len(ids) + 1  # and the salt leaf
    assert sorted(m.leaf_index for m in members(batch_app)) == list(range(len(ids)))
    assert batch_events(batch_app).get(batch.root) == 1
    assert anchored_events(batch_app, ids) == 0
    for rid in ids:
        page = patient.client.get(f"/records/{rid}").get_data(as_text=True)
        assert "Verified against the chain: signed by the owner" in page and "MODIFIED" not in page
        assert f"block {job.block_number}" in patient.client.get(f"/records/{rid}/status").get_data(as_text=True)
        proof = patient.client.get(f"/records/{rid}/proof.json").get_json()
        assert proof["format"] == "phr-proof/3" and proof["anchoring"] == "batch"  # salted (issue 14, item 7)
        assert proof["batch_root"] == "0x" + batch.root
        assert proof["tx_hash"] == job.tx_hash and proof["batch_count"] == len(ids) + 1
    # The timeline lists them as anchored, and the merged view still decrypts them.
    assert patient.client.get("/records/").get_data(as_text=True).count(f"Anchored in block {job.block_number}") == 4


def test_tampered_batch_records_are_shown_as_modified(patient, batch_app):
    first = patient.upload_and_confirm(UPLOADS[0])
    second = patient.upload_and_confirm(UPLOADS[1])
    third = patient.upload_and_confirm(UPLOADS[2])
    drive_worker(batch_app, all_batched_and_confirmed(batch_app))
    with batch_app.app_context():
        store, session = services.storage(), db.session()
        a, b = session.get(Record, first), session.get(Record, second)
        store.put(a.storage_key, store.get(b.storage_key))  # another valid ciphertext of the same owner
        flipped = bytearray(store.get(b.storage_key))
        flipped[len(flipped) // 2] ^= 0x01
        store.put(b.storage_key, bytes(flipped))
        session.commit()
    for rid in (first, second):
        page = patient.client.get(f"/records/{rid}").get_data(as_text=True)
        assert "MODIFIED" in page and "Verified" not in page
    assert "MODIFIED" not in patient.client.get(f"/records/{third}").get_data(as_text=True)  # untouched
    with batch_app.app_context():
        session = db.session()
        c = session.get(Record, third)
        c.owner_signature = session.get(Record, first).owner_signature  # the owner's, but over another record
        session.commit()
    page = patient.client.get(f"/records/{third}").get_data(as_text=True)
    assert "MODIFIED" in page and "Verified" not in page
    assert patient.client.get(f"/records/{first}/bundle.json").status_code == 409


def _verify(bundle, proof, rpc, cwd):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}  # no PHR_* config, no database
    return subprocess.run([sys.executable, "-m", "phr.verify", str(bundle), str(proof), "--rpc", rpc],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


def test_offline_cli_verifies_batch_proofs_and_rejects_any_alteration(patient, batch_app, devnet, tmp_path):
    ids = [patient.upload_and_confirm(path) for path in UPLOADS[:3]]
    drive_worker(batch_app, all_batched_and_confirmed(batch_app))
    rpc = devnet.rpc_urls[2]
    for rid in ids:
        bundle, proof = tmp_path / f"{rid}.json", tmp_path / f"{rid}.proof.json"
        bundle.write_bytes(patient.client.get(f"/records/{rid}/bundle.json").data)
        proof.write_bytes(patient.client.get(f"/records/{rid}/proof.json").data)
        ok = _verify(bundle, proof, rpc, tmp_path)
        assert ok.returncode == 0 and ok.stdout.startswith("VERIFIED") and "batch root" in ok.stdout, ok.stdout + ok.stderr

    good = json.loads(proof.read_text())
    data = bytearray(bundle.read_bytes())
    data[100] ^= 0x01
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(bytes(data))
    bad = _verify(tampered, proof, rpc, tmp_path)
    assert bad.returncode == 1 and "NOT VERIFIED" in bad.stdout and "differs" in bad.stdout

    def flip(hexstr: str) -> str:
        return hexstr[:-1] + ("0" if hexstr[-1] != "0" else "1")

    alterations = {
        "merkle_path": [flip(good["merkle_path"][0])] + good["merkle_path"][1:],
        "leaf_index": (good["leaf_index"] + 1) % good["batch_count"],
        "owner_signature": flip(good["owner_signature"][:-2]) + good["owner_signature"][-2:],
        "batch_root": flip(good["batch_root"]),
        "owner": "0x" + "11" * 20,
        "storage_key": good["storage_key"] + "x",
        "record_id": flip(good["record_id"]),
        "resources_root": flip(good["resources_root"]),
        "block_number": good["block_number"] - 1,
    }
    for name, value in alterations.items():
        forged = tmp_path / f"forged-{name}.proof.json"
        forged.write_text(json.dumps(good | {name: value}))
        result = _verify(bundle, forged, rpc, tmp_path)
        assert result.returncode == 1 and "NOT VERIFIED" in result.stdout, (name, result.stdout, result.stderr)


def test_worker_killed_mid_batch_anchors_every_record_exactly_once(patient, batch_app):
    ids = [patient.upload_and_confirm(UPLOADS[i % 2]) for i in range(6)]
    env = worker_env(batch_app)
    kill_worker_while_sending(env, lambda: batch_jobs(batch_app))
    assert not all(j.status == "confirmed" for j in batch_jobs(batch_app)), "batch finished before the kill"
    # More uploads arrive while the worker is down; they join a later batch.
    ids += [patient.upload_and_confirm(UPLOADS[2]) for _ in range(2)]
    run_worker_until(env, all_batched_and_confirmed(batch_app), lambda: [j.status for j in batch_jobs(batch_app)])
    roots = {b.root: b.count for b in batches(batch_app)}
    assert sorted(m.record_id for m in members(batch_app)) == sorted(ids)  # every record has exactly one place
    assert sum(roots.values()) == len(ids) + len(roots)  # each batch also has its salt leaf
    events = batch_events(batch_app)
    assert all(events.get(root) == 1 for root in roots), events  # each root anchored once on chain
    assert anchored_events(batch_app, ids) == 0
    for rid in ids:
        assert "Verified against the chain" in patient.client.get(f"/records/{rid}").get_data(as_text=True)


def test_doctor_with_an_all_records_grant_reads_batch_anchored_records(patient, batch_app):
    doctor = Patient(batch_app.test_client(), batch_app)
    doctor.register_patient("santos@example.ph", role="doctor", name="Dr Maria Santos", **DOCTOR)
    with batch_app.app_context():
        doctor_id = db.session().query(User).filter_by(email="santos@example.ph").one().id
        patient_id = db.session().query(User).filter_by(email="mei@example.tw").one().id
    rid = patient.upload_and_confirm(UPLOADS[0])
    resp = patient.post("/sharing/", {"doctor_id": str(doctor_id), "scope": "all"}, action="/sharing/grant")
    assert resp.status_code in (200, 303), resp.get_data(as_text=True)
    url = f"/sharing/patients/{patient_id}/records/{rid}"
    drive_worker(batch_app, all_batched_and_confirmed(batch_app))
    page = doctor.client.get(url)
    assert page.status_code == 200 and "Verified against the chain" in page.get_data(as_text=True)
    # A privacy-tagged (redacted) copy verifies too: its resources root is inside the owner-signed leaf.
    privacy = patient.client.get(f"/sharing/records/{rid}/privacy").get_data(as_text=True)
    hide = re.findall(r'<input[^>]*name="hidden"[^>]*value="([^"]+)"', privacy)[:2]
    assert hide and patient.post(f"/sharing/records/{rid}/privacy", {"hidden": hide}).status_code == 303
    redacted = doctor.client.get(url).get_data(as_text=True)
    assert re.search(r"Verified against the chain \(\d+ items withheld by the patient", redacted), redacted
    assert "batch root" in redacted
    with batch_app.app_context():
        grant_id = db.session().query(Grant).one().id
    patient.post("/sharing/", {}, action=f"/sharing/grants/{grant_id}/revoke")
    drive_worker(batch_app, all_batched_and_confirmed(batch_app))
    assert doctor.client.get(url).status_code == 404
