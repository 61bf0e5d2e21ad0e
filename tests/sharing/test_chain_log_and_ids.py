"""Forged access-log entries and record ids taken on chain (issue 14, items 3 and 4), on the real devnet."""
import os

import pytest
from sharing_helpers import grant
from web_helpers import DATA, drive_worker, funded_stranger, jobs, tally

from phr import db, services, verify
from phr.anchoring import ID_TAKEN, PENDING
from phr.ledger import Ledger, TxReverted
from phr.records.models import ChainJob, Record

ZERO = b"\0" * 32



def _log_page(cast) -> str:
    return cast.patient.client.get("/sharing/log").get_data(as_text=True)


def test_an_unrelated_account_cannot_log_a_read_of_a_patients_record(cast, devnet, sweep):
    stranger = funded_stranger(cast.app, devnet)
    with cast.app.app_context():
        chain, record = services.ledger(), db.session().get(Record, cast.record_id)
        args = [record.owner.eth_address, bytes.fromhex(record.anchor_id), 1, ZERO]
        with pytest.raises(TxReverted, match="NotAuthorizedReader"):
            chain.send(chain.sign_log_access(stranger.key, *args))
        # Signed offline and broadcast anyway (no gas estimate to stop it): mined reverted, no event.
        signed = chain.sign_log_access(stranger.key, *args, nonce=chain.pending_nonce(stranger.address),
                                       chain_id=devnet.chain_id)
        with pytest.raises(TxReverted):
            chain.wait(chain.broadcast(signed.raw))
        forged = chain.contract.events.AccessLogged().get_logs(from_block=0, argument_filters={"actor": stranger.address})
    assert forged == []
    page = _log_page(cast)
    assert "missing from this log" not in page and stranger.address not in page
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_a_version_1_record_still_verifies_and_a_forged_read_there_is_never_shown(cast, devnet):
    """A deployment moved from PHRRegistry/1: its old records verify against the old registry, whose logAccess
    anyone could call; such a read by an account the chain never granted is not shown as an access."""
    legacy = Ledger(devnet.rpc_urls, version="PHRRegistry/1")
    legacy.deploy(devnet.faucet_key)
    keys = cast.patient.keys()
    with cast.app.app_context():
        session = db.session()
        record = session.get(Record, cast.record_id)
        receipt = legacy.wait(legacy.send(legacy.sign_anchor(
            keys.eth_private, bytes.fromhex(record.anchor_id), bytes.fromhex(record.sha256),
            bytes.fromhex(record.resources_root), record.storage_key, record.owner.eth_address)))
        job = record.anchor_job  # the record as anchored before the move: in the old registry, by this transaction
        record.contract_address = legacy.address
        job.tx_hash, job.block_number = receipt["transactionHash"].to_0x_hex(), receipt["blockNumber"]
        job.block_hash = receipt["blockHash"].to_0x_hex()
        session.commit()

    page = cast.patient.client.get(f"/records/{cast.record_id}").get_data(as_text=True)
    assert "Verified against the chain" in page
    proof = cast.patient.client.get(f"/records/{cast.record_id}/proof.json").get_json()
    assert proof["contract_address"] == legacy.address and proof["contract_version"] == "PHRRegistry/1"
    bundle = cast.patient.client.get(f"/records/{cast.record_id}/bundle.json").data
    assert verify.verify(bundle, proof, devnet.rpc_urls) == []

    stranger = funded_stranger(cast.app, devnet)
    legacy.wait(legacy.send(legacy.sign_log_access(stranger.key, keys.eth_address, bytes.fromhex(cast.record_id),
                                                   1, ZERO)))
    assert legacy.contract.events.AccessLogged().get_logs(from_block=0)  # version 1 took it
    page = _log_page(cast)
    assert "missing from this log" not in page and stranger.address not in page

    # A read the old registry's own grants allowed still counts: logged on chain behind the platform's back,
    # it is reported as missing from the platform's log.
    doctor = cast.ph.keys()
    legacy.wait(legacy.transfer(devnet.faucet_key, doctor.eth_address, 10**17))
    legacy.wait(legacy.send(legacy.sign_grant(keys.eth_private, doctor.eth_address)))
    legacy.wait(legacy.send(legacy.sign_log_access(doctor.eth_private, keys.eth_address, bytes.fromhex(cast.record_id),
                                                   1, ZERO)))
    page = _log_page(cast)
    assert "missing from this log" in page and doctor.eth_address in page and stranger.address not in page


def test_an_id_taken_on_chain_is_anchored_again_under_a_fresh_id_at_the_authors_next_visit(cast, devnet, sweep):
    assert grant(cast, cast.ph_id).status_code == 303  # an all-records grant: the doctor may also write
    cast.settle()
    rid = cast.patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")  # queued, not yet broadcast
    doctor = cast.ph.keys()
    with cast.app.app_context():
        chain, owner = services.ledger(), db.session().get(Record, rid).owner.eth_address
        chain.wait(chain.transfer(devnet.faucet_key, doctor.eth_address, 10**17))
        # Someone the owner lets write takes the id first: the only way left to take an id in version 2.
        chain.wait(chain.send(chain.sign_anchor(doctor.eth_private, bytes.fromhex(rid), os.urandom(32), ZERO,
                                                "records/junk", owner)))
    settled = lambda: all(j.status not in PENDING for j in jobs(cast.app))
    drive_worker(cast.app, settled, timeout=90)
    with cast.app.app_context():
        first = db.session().query(ChainJob).filter_by(record_id=rid, kind="anchor").one()
        assert (first.status, first.last_error) == ("failed", ID_TAKEN)

    cast.patient.client.get("/records/")  # the author's next visit: their key re-signs under a fresh id
    drive_worker(cast.app, settled, timeout=90)
    with cast.app.app_context():
        record = db.session().get(Record, rid)
        assert record.anchor_id != rid and record.anchor_job.status == "confirmed"
    page = cast.patient.client.get(f"/records/{rid}").get_data(as_text=True)
    assert "Verified against the chain" in page and "MODIFIED" not in page
    proof = cast.patient.client.get(f"/records/{rid}/proof.json").get_json()
    bundle = cast.patient.client.get(f"/records/{rid}/bundle.json").data
    assert proof["record_id"] == "0x" + record.anchor_id and verify.verify(bundle, proof, devnet.rpc_urls) == []
    tally(sweep, "issue-14 attacks reproduced and stopped")
