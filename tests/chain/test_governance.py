"""Voting signers in and out on a private 3-signer devnet, through the nodes and through the validators page."""
from __future__ import annotations

import re

from chain_helpers import create_operator, make_app
from eth_account import Account
from web_helpers import wait_until

from phr.ledger import Ledger

MINORITY_BLOCKS = 12  # four full rotations of 3 signers: the lone voter casts its vote in each of its blocks


def _signers(net, node: int = 0) -> list[str]:
    return [a.lower() for a in net.rpc(node, "clique_getSigners", ["latest"])]


def _proposals(net, node: int) -> dict[str, bool]:
    return {a.lower(): v for a, v in net.rpc(node, "clique_proposals").items()}


def _csrf(client, path: str = "/validators/") -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _vote(operator, address: str, vote: str, htmx: bool = False):
    headers = {"HX-Request": "true", "HX-Target": "proposals"} if htmx else {}
    return operator.client.post("/validators/proposals", headers=headers,
                                data={"csrf_token": _csrf(operator.client), "address": address, "vote": vote})


def _sealed_by(ledger: Ledger, address: str, first: int, last: int) -> list[int]:
    return [n for n in range(first, last + 1) if ledger.block(n).sealer == address]


def test_minority_changes_nothing_majority_votes_a_signer_in_and_out(own_devnet, tmp_path):
    net = own_devnet
    ledger = Ledger(net.rpc_urls, net.registry)
    app = make_app(tmp_path, net.rpc_urls, net.registry)
    operator = create_operator(app, "ops1@validators.example", [net.nodes[1].rpc_url])
    genesis = sorted(a.lower() for a in net.genesis_signers)

    # A minority (1 of 3) vote for an outsider changes nothing, however long it stands.
    outsider = Account.create().address
    net.rpc(0, "clique_propose", [outsider, True])
    start = net.block_number(0)
    net.wait_for_block(start + MINORITY_BLOCKS, index=0, timeout=MINORITY_BLOCKS * 3)
    assert sorted(_signers(net)) == genesis
    net.rpc(0, "clique_discard", [outsider])

    # The operator votes through the page: it reaches their own node (node1) only, and can be discarded (htmx).
    resp = _vote(operator, outsider, "add")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/validators/")
    assert _proposals(net, 1) == {outsider.lower(): True}
    assert _proposals(net, 0) == {} and _proposals(net, 2) == {}
    page = operator.client.get("/validators/").get_data(as_text=True)
    assert outsider in page and "pending" in page and "Your node now votes to add" in page
    resp = operator.client.post("/validators/proposals/discard", headers={"HX-Request": "true"},
                                data={"csrf_token": _csrf(operator.client), "address": outsider})
    frag = resp.get_data(as_text=True)
    assert resp.status_code == 200 and frag.lstrip().startswith("<section") and "was discarded" in frag
    assert _proposals(net, 1) == {}

    # A majority (2 of 3: node0 over RPC, node1 through the page) votes a fourth node in ...
    new = net.add_node()
    wait_until(lambda: net.block_number(3) >= net.block_number(0) - 1, 30, "the new node to sync")
    net.rpc(0, "clique_propose", [new.address, True])
    resp = _vote(operator, new.address, "add", htmx=True)
    assert resp.status_code == 200 and "Your node now votes to add" in resp.get_data(as_text=True)
    wait_until(lambda: new.address.lower() in _signers(net), 30, "the 4th node to be voted in")
    joined_at = net.block_number(0)
    page = operator.client.get("/validators/").get_data(as_text=True)
    assert "passed: now a signer" in page and "Current signers (4)" in page
    # ... and it seals: its address is recovered from the seal of new blocks.
    wait_until(lambda: _sealed_by(ledger, new.address, joined_at, net.block_number(0)), 30,
               "a block sealed by the new signer")

    # A majority of the four (3 votes) votes it out; it stops being a signer and stops sealing.
    for node in (0, 2):
        net.rpc(node, "clique_propose", [new.address, False])
    assert _vote(operator, new.address, "remove").status_code == 303
    wait_until(lambda: new.address.lower() not in _signers(net), 30, "the 4th node to be voted out")
    removed_at = net.block_number(0)
    assert sorted(_signers(net)) == genesis
    net.wait_for_block(removed_at + 8, index=0, timeout=30)
    assert _sealed_by(ledger, new.address, removed_at + 1, removed_at + 8) == []
    page = operator.client.get("/validators/").get_data(as_text=True)
    section = page[page.index('id="proposals"'):]
    assert "passed: no longer a signer" in section, (net.rpc(1, "clique_proposals"), section)
    assert "Voted out recently" in page
