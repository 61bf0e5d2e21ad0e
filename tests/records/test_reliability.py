"""Nothing is lost, duplicated or left unverified when the chain, the store or the worker fails."""
import json
import os
import subprocess
import sys

from web_helpers import (
    DATA,
    all_confirmed,
    drive_worker,
    jobs,
    kill_worker_while_sending,
    run_worker_until,
    subprocess_env,
    tally,
)

from phr import db, services
from phr.records.models import ChainJob, Record


def _anchored_event_counts(app, record_ids) -> dict:
    """How many Anchored events the chain holds for each record id."""
    with app.app_context():
        chain = services.ledger()
        logs = chain.contract.events.Anchored().get_logs(from_block=0)
        counts = {rid: 0 for rid in record_ids}
        for log in logs:
            rid = log["args"]["recordId"].hex()
            if rid in counts:
                counts[rid] += 1
        return counts


def _tally_fault(app, sweep, record_ids) -> dict:
    """Count one injected fault and what became of the records uploaded during it; returns the event counts."""
    counts = _anchored_event_counts(app, record_ids)
    tally(sweep, "faults injected")
    tally(sweep, "records uploaded during faults", len(record_ids))
    tally(sweep, "records lost", sum(1 for c in counts.values() if c == 0))
    tally(sweep, "records anchored more than once", sum(1 for c in counts.values() if c > 1))
    return counts


def test_tampered_objects_are_shown_as_modified(patient, live_app):
    first = patient.upload_and_confirm(DATA / "mhb" / "scenario.json")
    second = patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")
    drive_worker(live_app, all_confirmed(live_app))
    with live_app.app_context():
        store = services.storage()
        a, b = db.session().get(Record, first), db.session().get(Record, second)
        # Overwrite one record's object with another valid ciphertext of the same owner.
        store.put(a.storage_key, store.get(b.storage_key))
        flipped = bytearray(store.get(b.storage_key))
        flipped[len(flipped) // 2] ^= 0x01
        store.put(b.storage_key, bytes(flipped))
        chain_hash = a.sha256
    for rid in (first, second):
        resp = patient.client.get(f"/records/{rid}")
        page = resp.get_data(as_text=True)
        assert resp.status_code == 200
        assert "MODIFIED" in page and "Verified" not in page
    assert chain_hash in patient.client.get(f"/records/{first}").get_data(as_text=True)  # the chain's hash is shown
    assert patient.client.get(f"/records/{first}/bundle.json").status_code == 409  # no download of altered content


def test_missing_object_is_shown_loudly(patient, live_app):
    rid = patient.upload_and_confirm(DATA / "mhb" / "scenario.json")
    with live_app.app_context():
        services.storage().delete(db.session().get(Record, rid).storage_key)
    page = patient.client.get(f"/records/{rid}").get_data(as_text=True)
    assert "MISSING" in page


def test_chain_outage_queues_uploads_and_anchors_each_exactly_once(patient, live_app, devnet, sweep):
    devnet.down()
    try:
        ids = [patient.upload_and_confirm(DATA / "mhb" / "scenario.json") for _ in range(5)]
        drive_worker(live_app, lambda: all(j.attempts >= 1 for j in jobs(live_app)), timeout=30)
        assert {j.status for j in jobs(live_app)} == {"queued"}
        assert "the chain is unreachable" in patient.client.get(f"/records/{ids[0]}/status").get_data(as_text=True)
        page = patient.client.get(f"/records/{ids[0]}").get_data(as_text=True)
        assert "Could not reach the chain" in page and "Verified" not in page
    finally:
        devnet.up()
    drive_worker(live_app, all_confirmed(live_app), timeout=90)
    assert sorted(j.record_id for j in jobs(live_app)) == sorted(ids)
    counts = _tally_fault(live_app, sweep, ids)
    assert set(counts.values()) == {1}
    assert len({j.nonce for j in jobs(live_app)}) == 5


def test_storage_outage_fails_the_upload_and_leaves_nothing(patient, live_app, sweep):
    tally(sweep, "faults injected")
    preview = patient.upload(DATA / "mhb" / "scenario.json")
    action = preview.get_data(as_text=True).split('action="/records/upload/')[1].split('"')[0]
    live_app.config["S3_ENDPOINT"] = "127.0.0.1:9"
    live_app.extensions.pop("phr.storage", None)
    resp = patient.post("/records/upload", {}, action=f"/records/upload/{action}")
    assert resp.status_code == 409
    assert "could not be stored" in resp.get_data(as_text=True)
    with live_app.app_context():
        assert db.session().query(Record).count() == 0 and db.session().query(ChainJob).count() == 0


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(patient, live_app, sweep):
    ids = [patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json") for _ in range(5)]
    env = subprocess_env(live_app.config, CONFIRMATIONS=2)
    kill_worker_while_sending(env, lambda: jobs(live_app))
    assert not all(j.status == "confirmed" for j in jobs(live_app)), "batch finished before the kill"
    run_worker_until(env, lambda: all(j.status == "confirmed" for j in jobs(live_app)),
                     lambda: [j.status for j in jobs(live_app)])
    counts = _tally_fault(live_app, sweep, ids)
    assert set(counts.values()) == {1}


def test_offline_verification_needs_only_the_files_and_a_node(patient, live_app, devnet, tmp_path):
    rid = patient.upload_and_confirm(DATA / "mhb" / "scenario.json")
    drive_worker(live_app, all_confirmed(live_app))
    bundle, proof = tmp_path / "bundle.json", tmp_path / "proof.json"
    bundle.write_bytes(patient.client.get(f"/records/{rid}/bundle.json").data)
    proof.write_bytes(patient.client.get(f"/records/{rid}/proof.json").data)
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}  # no PHR_* config, no database

    def run():
        return subprocess.run([sys.executable, "-m", "phr.verify", str(bundle), str(proof), "--rpc", devnet.rpc_urls[1]],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    ok = run()
    assert ok.returncode == 0 and ok.stdout.startswith("VERIFIED"), ok.stdout + ok.stderr
    data = bytearray(bundle.read_bytes())
    data[100] ^= 0x01
    bundle.write_bytes(bytes(data))
    bad = run()
    assert bad.returncode == 1 and "NOT VERIFIED" in bad.stdout and "differs" in bad.stdout
    bundle.write_bytes(bytes(data[:100]) + bytes([data[100] ^ 0x01]) + bytes(data[101:]))
    forged = json.loads(proof.read_text()) | {"owner": "0x" + "11" * 20}
    proof.write_text(json.dumps(forged))
    assert "owner" in run().stdout
