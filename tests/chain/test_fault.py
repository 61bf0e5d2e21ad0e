"""A stopped signer does not stop the chain, and catches up when it comes back (private devnet)."""
from __future__ import annotations

from auth_helpers import AuthActions
from chain_helpers import anchor_record, fund, make_app, patient_keys
from web_helpers import wait_until

from phr.ledger import Ledger


def test_chain_seals_and_anchors_with_a_signer_down_and_the_node_catches_up(own_devnet, tmp_path):
    net = own_devnet
    stopped = net.nodes[2]
    # The stopped node comes first in the URL lists: clients fail over to the live ones.
    urls = [stopped.rpc_url, *net.rpc_urls[:2]]
    ledger = Ledger(urls, net.registry, timeout=2.0)
    app = make_app(tmp_path, urls, net.registry)
    patient = AuthActions(app.test_client(), app)
    patient.register_patient("ana@example.org")
    key, address = patient_keys(patient)
    fund(ledger, net.faucet_key, address)

    net.stop_node(2)
    start = net.block_number(0)
    net.wait_for_block(start + 3, index=0, timeout=20)
    anchored = anchor_record(ledger, key, address)
    assert ledger.get_anchor(bytes.fromhex(anchored.record_id), address).storage_key == anchored.storage_key
    head = net.block_number(0)
    assert stopped.address not in {ledger.block(n).sealer for n in range(start + 2, head + 1)}
    html = patient.client.get(f"/blocks/{anchored.block_number}").get_data(as_text=True)
    assert anchored.record_hash in html and anchored.storage_key in html

    net.start_node(2)
    head = net.block_number(0)
    wait_until(lambda: net.block_number(2) >= head, 30, f"restarted node2 to catch up to block {head}")
    assert net.rpc(2, "eth_getBlockByNumber", [hex(head), False])["hash"] == \
        net.rpc(0, "eth_getBlockByNumber", [hex(head), False])["hash"]
    wait_until(lambda: any(ledger.block(n).sealer == stopped.address
                           for n in range(head + 1, net.block_number(0) + 1)), 30, "node2 to seal again")
