"""Attacks on a record's anchor from outside the platform (issue 14, items 3, 6 and 7), on the real devnet.

3. Front-running: a stranger copies the patient's ``anchor(recordId, …)`` from the pool and gets
   ``anchor(sameId, junk, owner=itself)`` mined first. 6. A database edit of ``records.sha256``. 7. Confirming a
   guess of a record's exact content against the public chain.
"""
import hashlib
import json
import os

from sqlalchemy import update
from web_helpers import DATA, all_confirmed, drive_worker, funded_stranger, jobs, tally

from phr import db, services, verify
from phr.records.models import Record

ZERO = b"\0" * 32



def test_an_anchor_copied_and_mined_first_cannot_take_the_patients_record(patient, live_app, devnet, sweep):
    stranger = funded_stranger(live_app, devnet)
    rid = patient.upload_and_confirm(DATA / "mhb" / "scenario.json")  # signed and queued, not yet broadcast
    with live_app.app_context():
        chain = services.ledger()
        # The stranger's copy, with the same record id and their own junk, is mined before ours is even sent.
        chain.wait(chain.send(chain.sign_anchor(stranger.key, bytes.fromhex(rid), os.urandom(32), ZERO, "records/junk",
                                                stranger.address)))
    drive_worker(live_app, all_confirmed(live_app))

    [job] = jobs(live_app)
    with live_app.app_context():
        assert services.ledger().receipt(job.tx_hash)["status"] == 1  # ours did not revert
    page = patient.client.get(f"/records/{rid}").get_data(as_text=True)
    assert "Verified against the chain" in page and "MODIFIED" not in page
    bundle = patient.client.get(f"/records/{rid}/bundle.json").data
    proof = patient.client.get(f"/records/{rid}/proof.json").get_json()
    assert proof["owner"] != stranger.address and verify.verify(bundle, proof, devnet.rpc_urls) == []
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_a_zeroed_hash_in_the_database_is_not_verified_and_no_proof_carries_it(patient, live_app, sweep):
    rid = patient.upload_and_confirm(DATA / "mhb" / "scenario.json")
    drive_worker(live_app, all_confirmed(live_app))
    assert patient.client.get(f"/records/{rid}/proof.json").status_code == 200
    with live_app.app_context():
        db.session().execute(update(Record).where(Record.id == rid).values(sha256="00" * 32))
        db.session().commit()

    page = patient.client.get(f"/records/{rid}").get_data(as_text=True)
    assert "Verified against the chain" not in page and "MODIFIED" in page
    assert "00" * 32 in page  # the database's wrong value is shown, named as the database's
    proof = patient.client.get(f"/records/{rid}/proof.json")
    assert proof.status_code == 409 and "0x" + "00" * 32 not in proof.get_data(as_text=True)
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_a_guess_of_the_exact_content_cannot_be_confirmed_from_the_chain(patient, live_app, devnet, sweep):
    rid = patient.upload_and_confirm(DATA / "mhb" / "scenario.json")
    drive_worker(live_app, all_confirmed(live_app))
    bundle = patient.client.get(f"/records/{rid}/bundle.json").data  # the attacker guessed exactly these bytes
    guess = hashlib.sha256(bundle).digest()
    with live_app.app_context():
        anchored = [log["args"] for log in services.ledger().contract.events.Anchored().get_logs(from_block=0)]
    assert any(a["recordId"].hex() == rid for a in anchored)
    assert all(guess not in (a["recordHash"], a["resourcesRoot"]) for a in anchored)  # nothing on chain matches
    # Whoever holds the exported bundle and proof still verifies it offline: the proof carries the salt.
    proof = patient.client.get(f"/records/{rid}/proof.json").get_json()
    assert proof["salt"] and verify.verify(bundle, json.loads(json.dumps(proof)), devnet.rpc_urls) == []
    assert verify.verify(bundle, proof | {"salt": "0x" + "11" * 32}, devnet.rpc_urls) != []
    tally(sweep, "issue-14 attacks reproduced and stopped")
