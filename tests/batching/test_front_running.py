"""A batch root copied from the pool and mined first (issue 14, item 3): since PHRRegistry/2 keys batch roots by
their submitter, the copy only anchors the copier's own entry; our batch is anchored all the same and every record
proves through it."""
import json

from batch_helpers import batch_events, batch_jobs, batches, members
from eth_account import Account
from web_helpers import DATA, drive_worker, funded_stranger, tally

from phr import db, services, verify
from phr.anchoring import Worker
from phr.records.models import AnchorBatch

UPLOADS = [DATA / "mhb" / "scenario.json", DATA / "fhir" / "valid-collection.json"]



def _cut_only(app) -> tuple[bytes, int]:
    """Cut a batch of what waits without broadcasting it; its root and leaf count."""
    with app.app_context():
        worker = Worker(db.session(), services.ledger(), faucet_key=app.config["FAUCET_KEY"], confirmations=1,
                        batch_window=0)
        assert worker.cut_batches() == 1
    [batch] = batches(app)
    return bytes.fromhex(batch.root), batch.count


def _front_run(app, devnet, stranger: Account, root: bytes, count: int) -> None:
    """``stranger`` anchors ``root`` with ``count`` before our transaction is sent, and waits for it to be mined."""
    with app.app_context():
        chain = services.ledger()
        signed = chain.sign_batch(stranger.key, root, count, nonce=0, chain_id=devnet.chain_id)
        chain.wait(chain.broadcast(signed.raw))


def _current(app) -> list[dict]:
    """Each batch with the transaction it follows."""
    with app.app_context():
        return [{"root": b.root, "count": b.count, "status": b.job.status, "sender": b.job.sender,
                 "tx_hash": b.job.tx_hash} for b in db.session().query(AnchorBatch)]


def _settled(app):
    """No record waits for a batch and every batch's transaction is confirmed."""
    return lambda: (not [m for m in members(app) if m.batch_id is None]
                    and all(b["status"] == "confirmed" for b in _current(app)))


def test_a_copied_root_mined_first_leaves_our_batch_anchored_and_every_record_proves(patient, batch_app, devnet,
                                                                                      sweep):
    stranger = funded_stranger(batch_app, devnet)
    ids = [patient.upload_and_confirm(path) for path in UPLOADS]
    root, count = _cut_only(batch_app)
    assert count == len(ids) + 1  # the records' leaves and the batch's salt leaf
    _front_run(batch_app, devnet, stranger, root, count)  # mined before ours is even sent
    drive_worker(batch_app, _settled(batch_app))

    [batch] = _current(batch_app)
    [job] = batch_jobs(batch_app)
    faucet = Account.from_key(devnet.faucet_key).address
    assert job.status == "confirmed" and batch["sender"] == faucet and batch["root"] == root.hex()
    with batch_app.app_context():
        assert services.ledger().receipt(job.tx_hash)["status"] == 1  # ours did not revert
    assert batch_events(batch_app).get(batch["root"]) == 2  # the copy and ours, each under its own submitter
    for rid in ids:
        assert "Verified against the chain" in patient.client.get(f"/records/{rid}").get_data(as_text=True)
        proof = patient.client.get(f"/records/{rid}/proof.json").get_json()
        assert proof["batch_submitter"] == faucet and proof["tx_hash"] == job.tx_hash
        bundle = patient.client.get(f"/records/{rid}/bundle.json").data
        assert verify.verify(bundle, json.loads(json.dumps(proof)), devnet.rpc_urls) == []
        # The copier's entry proves nothing about our records: the proof pointed at it fails.
        assert verify.verify(bundle, proof | {"batch_submitter": stranger.address}, devnet.rpc_urls) != []
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_a_root_taken_with_another_count_does_not_disturb_our_batch(patient, batch_app, devnet):
    stranger = funded_stranger(batch_app, devnet)
    ids = [patient.upload_and_confirm(path) for path in UPLOADS]
    root, count = _cut_only(batch_app)
    _front_run(batch_app, devnet, stranger, root, count + 5)  # the same root, a count our paths cannot prove against
    drive_worker(batch_app, _settled(batch_app))

    assert [j.status for j in batch_jobs(batch_app)] == ["confirmed"]
    [batch] = batches(batch_app)
    assert batch.root == root.hex() and batch.count == len(ids) + 1
    for rid in ids:
        assert "Verified against the chain" in patient.client.get(f"/records/{rid}").get_data(as_text=True)
