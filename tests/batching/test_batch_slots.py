"""Batch cuts follow the chain's block clock: a batch is sent just before the sealers build the next block."""
import time
from functools import partial

from batch_helpers import batch_jobs, batches
from eth_account import Account
from web_helpers import DATA

from phr import db, services
from phr.anchoring import Worker, sign_and_enqueue
from phr.records.models import ChainJob


def test_a_batch_is_cut_in_the_next_block_slot_not_after_the_window(patient, batch_app):
    """With a ten-minute window the slot alone must get the record into one of the next few blocks."""
    rid = patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")
    with batch_app.app_context():
        chain = services.ledger()
        worker = Worker(db.session(), chain, faucet_key=batch_app.config["FAUCET_KEY"], confirmations=1,
                        batch_window=600, batch_lead=0.25)
        first_head = chain.block_number()
        deadline = time.monotonic() + 30
        while not batches(batch_app) or batch_jobs(batch_app)[0].status != "confirmed":
            assert time.monotonic() < deadline, "the waiting record was not batched by the block slot"
            worker.process_once()
            db.session().expire_all()
            time.sleep(0.05)
        assert worker._period == 1.0  # learnt from the devnet's 1-second blocks
    [batch], [job] = batches(batch_app), batch_jobs(batch_app)
    assert batch.count == 2  # the record and the salt leaf
    # Cut in the slot of head h (or h+1 if the first round came late), so mined in h+2 (h+3); not 600 s later.
    assert job.block_number <= first_head + 3, (first_head, job.block_number)
    assert "Verified" in patient.client.get(f"/records/{rid}").get_data(as_text=True)


def test_a_full_batch_is_cut_at_once_whatever_the_slot_and_window(patient, batch_app):
    """Below ``batch_max`` records wait for their slot (here: never within the test); at ``batch_max`` they go."""
    with batch_app.app_context():
        worker = Worker(db.session(), services.ledger(), faucet_key=batch_app.config["FAUCET_KEY"],
                        confirmations=1, batch_window=600, batch_max=3, batch_lead=-600)
        for _ in range(2):
            patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")
            worker.process_once()
        assert batches(batch_app) == []
        patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")
        worker.process_once()
    [batch] = batches(batch_app)
    assert batch.count == 4 and batch_jobs(batch_app)[0].status in ("sent", "mined", "confirmed")


def test_topping_up_a_user_in_the_round_a_batch_is_cut_leaves_the_batch_its_nonce(patient, batch_app, devnet):
    """The faucet signs batches (the default) and funds users: a top-up must not take a cut batch's nonce."""
    faucet = Account.from_key(devnet.faucet_key).address
    user = next(a for a in iter(Account.create, None) if a.address < faucet)  # its job sorts before the batch's
    patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")
    with batch_app.app_context():
        chain = services.ledger()
        job = sign_and_enqueue(db.session(), chain, user.key, partial(chain.sign_grant, reader=faucet),
                               kind="grant", user_id=None, chain_id=devnet.chain_id)
        db.session().commit()
        assert chain.balance(user.address) == 0  # sending it needs a top-up from the faucet
        worker = Worker(db.session(), chain, faucet_key=devnet.faucet_key, confirmations=1, batch_window=0)
        deadline = time.monotonic() + 60
        while {j.status for j in db.session().query(ChainJob)} != {"confirmed"}:
            assert time.monotonic() < deadline, [(j.kind, j.status, j.last_error) for j in db.session().query(ChainJob)]
            worker.process_once()
            db.session().expire_all()
            time.sleep(0.1)
        assert chain.balance(user.address) > 0 and db.session().get(ChainJob, job.id).status == "confirmed"
    assert [j.status for j in batch_jobs(batch_app)] == ["confirmed"]  # one batch, never released
