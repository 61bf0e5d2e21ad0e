"""Moving a deployment from PHRRegistry/1 to PHRRegistry/2 with ``python -m phr.deploy`` (issue 14, item 3)."""
import hashlib
import json
import os

import pytest
from eth_account import Account
from sqlalchemy import update
from web_helpers import DATA, all_confirmed, drive_worker

from phr import db, verify
from phr.deploy import ensure_contract
from phr.ledger import VERSION, ChainError, Ledger
from phr.records.models import Record


def test_a_version_1_deployment_moves_over_once_drained_and_keeps_its_old_registry(patient, live_app, devnet,
                                                                                    tmp_path):
    old = Ledger(devnet.rpc_urls, version="PHRRegistry/1").deploy(devnet.faucet_key)
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "contract.json").write_text(json.dumps({"address": old, "chain_id": devnet.chain_id}))
    rid = patient.upload_and_confirm(DATA / "fhir" / "valid-collection.json")
    url = live_app.config["DATABASE_URL"]
    with live_app.app_context():  # as the migration leaves a row from before version 2: no registry recorded
        db.session().execute(update(Record).values(contract_address=None))
        db.session().commit()

    with pytest.raises(ChainError, match="outbox"):  # a transaction signed for the old registry still waits
        ensure_contract(Ledger(devnet.rpc_urls), devnet.faucet_key, instance, url)
    drive_worker(live_app, all_confirmed(live_app))
    new = ensure_contract(Ledger(devnet.rpc_urls), devnet.faucet_key, instance, url)

    assert new != old and Ledger.for_registry(devnet.rpc_urls, new).version == VERSION
    state = json.loads((instance / "contract.json").read_text())
    assert state["address"] == new and state["previous"] == [old] and state["version"] == VERSION
    with live_app.app_context():
        assert db.session().get(Record, rid).contract_address == old  # its anchor is read from the old registry
    assert ensure_contract(Ledger(devnet.rpc_urls), devnet.faucet_key, instance, url) == new  # done once


def test_health_says_when_the_configured_registry_is_still_version_1(live_app, devnet):
    live_app.config["CONTRACT_ADDRESS"] = Ledger(devnet.rpc_urls, version="PHRRegistry/1").deploy(devnet.faucet_key)
    chain = live_app.test_client().get("/healthz").get_json()["chain"]
    assert not chain["ok"] and chain["contract_version"] == "PHRRegistry/1" and "phr.deploy" in chain["error"]


def test_a_proof_file_exported_before_version_2_still_verifies_offline(devnet):
    """A ``phr-proof/1`` file (unsalted SHA-256, a version-1 registry) from before the move keeps verifying."""
    legacy = Ledger(devnet.rpc_urls, version="PHRRegistry/1")
    legacy.deploy(devnet.faucet_key)
    owner = Account.from_key(devnet.faucet_key).address
    bundle, record_id = b'{"resourceType":"Bundle"}', os.urandom(32)
    receipt = legacy.wait(legacy.send(legacy.sign_anchor(devnet.faucet_key, record_id, hashlib.sha256(bundle).digest(),
                                                         b"\0" * 32, "records/old", owner)))
    proof = {"format": "phr-proof/1", "record_id": "0x" + record_id.hex(),
             "record_hash": "0x" + hashlib.sha256(bundle).hexdigest(), "resources_root": "0x" + "00" * 32,
             "hash_algorithm": "sha256", "chain_id": devnet.chain_id, "contract_address": legacy.address,
             "tx_hash": receipt["transactionHash"].to_0x_hex(), "block_number": receipt["blockNumber"],
             "block_hash": receipt["blockHash"].to_0x_hex(), "owner": owner, "storage_key": "records/old",
             "anchored_at": None}
    assert verify.verify(bundle, proof, devnet.rpc_urls) == []
    assert verify.verify(bundle + b" ", proof, devnet.rpc_urls) != []
