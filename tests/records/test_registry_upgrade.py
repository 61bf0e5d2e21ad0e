"""Moving a deployment from PHRRegistry/1 to PHRRegistry/2 with ``python -m phr.deploy`` (issue 14, item 3)."""
import json

import pytest
from sqlalchemy import update
from web_helpers import DATA, all_confirmed, drive_worker

from phr import db
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
