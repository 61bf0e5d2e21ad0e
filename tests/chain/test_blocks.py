"""Block pages on the shared devnet: the paper's block fields, anchored records by visibility, the chain diagram."""
from __future__ import annotations

import re

import pytest
from auth_helpers import AuthActions
from chain_helpers import anchor_record, fund, patient_keys, save_record
from flask import render_template

from phr.blocks import service
from phr.ledger import BlockInfo


def _block(number: int, parent: str, own: str, sealer: str = "0x" + "ab" * 20) -> BlockInfo:
    return BlockInfo(number=number, hash=own, parent_hash=parent, timestamp=1_700_000_000 + number, sealer=sealer,
                     tx_hashes=(), gas_used=0)


def _crafted_chain(tamper_at: int | None = None) -> list[BlockInfo]:
    hashes = ["0x" + f"{i:02x}" * 32 for i in range(6)]
    blocks = [_block(10 + i, hashes[i - 1] if i else "0x" + "ff" * 32, hashes[i]) for i in range(1, 6)]
    if tamper_at is not None:  # a block whose pre-hash no longer names its parent
        b = blocks[tamper_at]
        blocks[tamper_at] = _block(b.number, "0x" + "ee" * 32, b.hash)
    return blocks


def test_link_checker_accepts_a_chain_and_flags_a_tampered_pair():
    assert [link.ok for link in service.check_links(_crafted_chain())] == [True] * 4
    assert [link.ok for link in service.check_links(_crafted_chain(tamper_at=2))] == [True, False, True, True]
    # A gap in numbering is no link either, even if someone copied the hash.
    a, b = _crafted_chain()[:2]
    assert not service.Link(a, _block(b.number + 1, a.hash, b.hash)).ok


def test_diagram_marks_a_broken_link_in_words(app):
    blocks = _crafted_chain(tamper_at=2)
    diagram = service.Diagram(blocks=blocks, links=service.check_links(blocks), signers=frozenset())
    with app.test_request_context():
        html = render_template("blocks/_chain.html", diagram=diagram)
    assert html.count("✓ linked") == 3 and html.count("✗ broken") == 1
    assert "3 of 4 links verified" in html and "1 broken" in html
    assert "style=" not in html and "<script" not in html  # CSP without 'unsafe-inline'


@pytest.mark.parametrize("path", ["/blocks/", "/blocks/1", "/validators/"])
def test_anonymous_is_sent_to_login(client, path):
    resp = client.get(path)
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


@pytest.fixture
def ana(chain_app) -> AuthActions:
    auth = AuthActions(chain_app.test_client(), chain_app)
    auth.register_patient("ana@example.org", name="Ana Owner")
    return auth


@pytest.fixture
def anas_record(chain_app, ana, devnet, registry):
    """A record Ana anchored with her own key, known to the platform (Record + confirmed anchor job)."""
    from phr.ledger import Ledger
    key, address = patient_keys(ana)
    ledger = Ledger(devnet.rpc_urls, registry)
    fund(ledger, devnet.faucet_key, address)
    anchored = anchor_record(ledger, key, address)
    job = save_record(chain_app, "ana@example.org", anchored)
    return anchored, job


def test_owner_sees_block_fields_and_her_anchored_record(chain_app, ana, anas_record, devnet, registry):
    anchored, _job = anas_record
    html = ana.client.get(f"/blocks/{anchored.block_number}").get_data(as_text=True)
    from phr.ledger import Ledger
    block = Ledger(devnet.rpc_urls, registry).block(anchored.block_number)
    assert f"Block #{block.number}" in html
    assert block.hash == anchored.block_hash and block.hash in html and block.parent_hash in html
    assert re.search(r'<time datetime="[0-9T:-]+\+00:00">[^<]+ UTC</time>', html)
    assert block.sealer in html and "current signer" in html and "not a current signer" not in html
    assert block.sealer in devnet.genesis_signers
    assert f"<dd>{block.gas_used}</dd>" in html and block.gas_used > 0
    # The record, as read from the block's Anchored event and checked against the platform's row.
    assert anchored.record_hash in html and anchored.storage_key in html and anchored.owner in html
    assert "You" in html and "matches the chain" in html
    assert '<time datetime="2026-01-02T03:04:05+00:00">' in html  # upload time from the platform


def test_other_patient_sees_only_a_count(chain_app, anas_record):
    anchored, _ = anas_record
    bob = AuthActions(chain_app.test_client(), chain_app)
    bob.register_patient("bob@example.org", name="Bob Other")
    html = bob.client.get(f"/blocks/{anchored.block_number}").get_data(as_text=True)
    assert "1 other record (not yours to see)" in html
    for secret in (anchored.record_hash, anchored.storage_key, anchored.owner, anchored.owner.lower(), "Ana Owner"):
        assert secret not in html


def test_doctor_sees_a_record_only_once_the_chain_lets_them_read_it(chain_app, ana, anas_record, devnet, registry):
    from phr.ledger import Ledger
    anchored, _ = anas_record
    doctor = AuthActions(chain_app.test_client(), chain_app)
    doctor.register_doctor("dr.lin@example.org")
    page = f"/blocks/{anchored.block_number}"
    assert anchored.record_hash not in doctor.client.get(page).get_data(as_text=True)
    key, _ = patient_keys(ana)
    _, doctor_address = patient_keys(doctor)
    ledger = Ledger(devnet.rpc_urls, registry)
    ledger.wait(ledger.send(ledger.sign_grant_record(key, bytes.fromhex(anchored.record_id), doctor_address)),
                timeout=30)
    html = doctor.client.get(page).get_data(as_text=True)
    assert anchored.record_hash in html and anchored.storage_key in html and "Ana Owner" in html
    assert "other record" not in html


def test_index_pages_back_and_draws_a_verified_chain(chain_app, ana, devnet):
    devnet.wait_for_block(30)
    resp = ana.client.get("/blocks/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Vary" in resp.headers
    chain = html[html.index('id="chain"'):html.index("</section>")]
    assert chain.count("✓ linked") == service.DIAGRAM_BLOCKS - 1 and "✗" not in chain
    assert 'hx-trigger="every 5s"' in chain
    assert html.count('class="block-card"') == service.PAGE_SIZE
    older = re.search(r'href="(/blocks/\?before=(\d+))" rel="next">Older', html)
    assert older, "no plain 'Older' link"
    page2 = ana.client.get(older.group(1)).get_data(as_text=True)
    assert f"Block #{int(older.group(2)) - 1}<" in page2 and 'id="chain"' not in page2 and "Newer" in page2
    # htmx refresh of the diagram alone.
    frag = ana.client.get("/blocks/", headers={"HX-Request": "true", "HX-Target": "chain"}).get_data(as_text=True)
    assert frag.lstrip().startswith("<section") and "<html" not in frag and frag.count("✓ linked") == 7


def test_unknown_block_is_404(chain_app, ana):
    assert ana.client.get("/blocks/999999999").status_code == 404
    assert "Block #0" in ana.client.get("/blocks/0").get_data(as_text=True)  # genesis has no seal, still shown


def test_chain_down_is_a_clear_503(auth):
    auth.register_patient()
    for path in ("/blocks/", "/blocks/5"):
        resp = auth.client.get(path)
        assert resp.status_code == 503 and "The chain cannot be reached right now" in resp.get_data(as_text=True)
