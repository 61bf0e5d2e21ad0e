"""The whole local stack: restart keeps everything; health reports each component honestly."""
import secrets

import pytest
from sqlalchemy import select

from phr import create_app, db
from phr.ledger import Ledger
from phr.models import User
from phr.stack import LocalStack
from phr.storage import Storage


def _app(env: dict):
    return create_app({k.removeprefix("PHR_"): v for k, v in env.items() if k != "PHR_RPC_URLS"} |
                      {"RPC_URLS": env["PHR_RPC_URLS"].split(","), "RPC_TIMEOUT": 1.0,
                       "FAUCET_KEY": None, "TESTING": True})


@pytest.fixture
def stack(tmp_path):
    s = LocalStack(tmp_path / "instance", period=1, rpc_base_port=None, s3_port=None)
    yield s
    s.down()


def test_restart_keeps_chain_contract_objects_and_rows(stack):
    env = stack.up()
    store = Storage(env["PHR_S3_ENDPOINT"], env["PHR_S3_ACCESS_KEY"], env["PHR_S3_SECRET_KEY"], env["PHR_S3_BUCKET"])
    payload = secrets.token_bytes(4096)
    store.put("records/keep", payload)
    app = _app(env)
    with app.app_context():
        db.session().add(User(email="kept@example.org", role="patient", display_name="Kept", password_hash="x",
                              rsa_public_pem="pem", eth_address="0x" + "11" * 20, custody="platform"))
        db.session().commit()
    height = Ledger(stack.devnet.rpc_urls).block_number()

    stack.down()
    assert not any(stack.devnet.is_running(i) for i in range(3)) and not stack.objectstore.is_running()
    env2 = stack.up()

    assert env2 == env  # same contract, endpoints, keys, database
    chain = Ledger(stack.devnet.rpc_urls, env2["PHR_CONTRACT_ADDRESS"])
    assert chain.block_number() >= height
    assert chain.rpc("eth_getCode", [env2["PHR_CONTRACT_ADDRESS"], "latest"]) not in ("0x", "0x0")
    assert store.get("records/keep") == payload
    with _app(env2).app_context():
        assert db.session().scalars(select(User.email)).all() == ["kept@example.org"]


def test_healthz_reports_every_component_and_a_stopped_chain(stack):
    env = stack.up()
    client = _app(env).test_client()
    ok = client.get("/healthz")
    assert ok.status_code == 200
    body = ok.get_json()
    assert body["ok"] and body["database"]["ok"] and body["storage"]["ok"] and body["chain"]["ok"]
    assert body["chain"]["chain_id"] == stack.devnet.chain_id
    assert body["chain"]["signer_count"] == 3
    assert body["chain"]["contract_address"] == env["PHR_CONTRACT_ADDRESS"]
    assert body["chain"]["latest_block"] > 0

    stack.devnet.down()
    down = client.get("/healthz")
    assert down.status_code == 503
    body = down.get_json()
    assert body["chain"]["ok"] is False and "no chain node answered" in body["chain"]["error"]
    assert body["storage"]["ok"] and body["database"]["ok"]
    page = client.get("/status")
    assert page.status_code == 200 and b"FAILING" in page.data
