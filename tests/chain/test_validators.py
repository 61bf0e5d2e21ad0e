"""The validators page on the shared devnet: who may see and vote, address validation, the operator CLI.

Nothing here casts a vote on the shared devnet (that happens on private devnets in test_governance.py).
"""
from __future__ import annotations

import re

import pytest
from auth_helpers import AuthActions
from chain_helpers import OPERATOR_PASSWORD, create_operator

from phr import db
from phr.auth import service as auth_service
from phr.models import User
from phr.validators.service import BAD_CHECKSUM, NOT_AN_ADDRESS

ACTIONS = ["/validators/proposals", "/validators/proposals/discard"]


def _csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


@pytest.fixture
def operator(chain_app, devnet) -> AuthActions:
    return create_operator(chain_app, "ops@validators.example", [devnet.nodes[0].rpc_url])


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_non_operators_get_403_on_page_and_actions(chain_app, devnet, role):
    user = AuthActions(chain_app.test_client(), chain_app)
    (user.register_doctor if role == "doctor" else user.register_patient)()
    assert user.client.get("/validators/").status_code == 403
    token = _csrf(user.client, "/auth/account")
    for path in ACTIONS:
        resp = user.client.post(path, data={"csrf_token": token, "address": devnet.nodes[0].address, "vote": "add"})
        assert resp.status_code == 403
    assert devnet.rpc(0, "clique_proposals") == {}


@pytest.mark.parametrize("path", ACTIONS)
def test_anonymous_actions_redirect_to_login(client, path):
    token = _csrf(client, "/auth/login")
    resp = client.post(path, data={"csrf_token": token, "address": "0x" + "0" * 40})
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_operator_sees_signers_and_who_sealed(operator, devnet):
    devnet.wait_for_block(12)
    html = operator.client.get("/validators/").get_data(as_text=True)
    assert "Current signers (3)" in html and "A vote passes with 2 of 3 signers" in html
    for node in devnet.nodes[:3]:
        assert node.address in html
    counts = re.findall(r"sealed (\d+) of the last (\d+) blocks", html)
    assert len(counts) == 3 and sum(int(c) for c, _ in counts) == int(counts[0][1])  # every block has one sealer
    assert f"signs as <span class=\"mono\">{devnet.nodes[0].address}</span>" in html  # the operator's own node
    assert "(your node)" in html and "No pending votes on this node." in html
    frag = operator.client.get("/validators/", headers={"HX-Request": "true", "HX-Target": "signers"})
    assert frag.get_data(as_text=True).lstrip().startswith('<section id="signers"')


@pytest.mark.parametrize(("address", "error"), [
    ("0x1234", NOT_AN_ADDRESS),
    ("not an address", NOT_AN_ADDRESS),
    ("flip", BAD_CHECKSUM),  # a checksummed address with one letter's case flipped
    ("signer", "is already a signer"),
])
def test_bad_addresses_are_refused_next_to_the_field(operator, devnet, address, error):
    if address == "flip":
        good = devnet.nodes[1].address
        i = next(i for i, c in enumerate(good) if i > 1 and c.isalpha())
        address = good[:i] + good[i].swapcase() + good[i + 1:]
    elif address == "signer":
        address = devnet.nodes[1].address
    data = {"address": address, "vote": "add"}
    resp = operator.client.post("/validators/proposals", data={"csrf_token": _csrf(operator.client, "/validators/"),
                                                              **data})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "<html" in html
    field = html[html.index('id="address"'):]
    assert 'aria-describedby="address-errors"' in html and error in field[:field.index("</ul>")]
    # With htmx: the same error, in the proposals fragment only.
    resp = operator.client.post("/validators/proposals", headers={"HX-Request": "true"},
                                data={"csrf_token": _csrf(operator.client, "/validators/"), **data})
    assert resp.status_code == 422 and error in resp.get_data(as_text=True)
    assert resp.get_data(as_text=True).lstrip().startswith('<section id="proposals"')
    assert devnet.rpc(0, "clique_proposals") == {}


def test_operator_without_a_configured_node_cannot_vote(chain_app, devnet):
    operator = create_operator(chain_app, "lonely@validators.example", [devnet.nodes[0].rpc_url])
    chain_app.config["VALIDATOR_NODE_URLS"] = {}
    assert "No node is configured for your account" in operator.client.get("/validators/").get_data(as_text=True)
    resp = operator.client.post("/validators/proposals", data={
        "csrf_token": _csrf(operator.client, "/validators/"), "address": devnet.nodes[1].address, "vote": "remove"})
    assert resp.status_code == 422 and "No node is configured for your account" in resp.get_data(as_text=True)
    assert all(devnet.rpc(i, "clique_proposals") == {} for i in range(3))


def test_cli_creates_operators_and_sign_up_cannot(chain_app, devnet, tmp_path):
    create_operator(chain_app, "ops@validators.example", [devnet.nodes[0].rpc_url])
    with chain_app.app_context():
        user = db.session().query(User).filter_by(email="ops@validators.example").one()
        assert user.role == "validator" and user.custody == "platform"
    assert '"ops@validators.example"' in (tmp_path / "validator-nodes.json").read_text()
    runner = chain_app.test_cli_runner()
    again = runner.invoke(args=["create-validator", "--email", "ops@validators.example", "--name", "X",
                                "--node-url", devnet.nodes[0].rpc_url, "--password", OPERATOR_PASSWORD])
    assert again.exit_code != 0 and "already exists" in again.output
    dead = runner.invoke(args=["create-validator", "--email", "new@validators.example", "--name", "X",
                               "--node-url", "http://127.0.0.1:9", "--password", OPERATOR_PASSWORD])
    assert dead.exit_code != 0 and "did not answer" in dead.output
    # Public sign-up still offers patient and doctor only.
    with chain_app.app_context(), pytest.raises(ValueError):
        auth_service.register(email="v@example.org", password=OPERATOR_PASSWORD, role="validator",
                              display_name="V", custody_mode="platform")
    browser = AuthActions(chain_app.test_client(), chain_app)
    assert browser.register("v@example.org", role="validator").status_code == 422
