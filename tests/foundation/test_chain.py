"""The clique devnet and the registry contract, on real geth nodes."""
import os
from itertools import pairwise

import pytest
from eth_account import Account

from phr.ledger import TxReverted

ZERO = b"\0" * 32


def test_three_signers_seal_in_turn_and_blocks_link(devnet, ledger):
    start = ledger.block_number()
    # Read blocks a few behind the head: clique may briefly reorg its newest blocks.
    devnet.wait_for_block(start + 12)
    blocks = [ledger.block(n) for n in range(start, start + 10)]
    signers = set(ledger.signers())
    assert len(signers) == 3 and signers == set(devnet.genesis_signers)
    for prev, block in pairwise(blocks):
        assert block.parent_hash == prev.hash
        assert block.number == prev.number + 1
        # EIP-225: with 3 signers none may seal twice within 2 consecutive blocks.
        assert block.sealer != prev.sealer
    assert {b.sealer for b in blocks} == signers


def test_sealer_recovered_from_seal_matches_node(devnet, ledger):
    for n in range(1, 6):
        assert ledger.block(n).sealer.lower() == devnet.rpc(0, "clique_getSigner", [hex(n)]).lower()


def test_user_key_anchors_and_reads_back(devnet, ledger, funded_account):
    record_id, digest, root = os.urandom(32), os.urandom(32), os.urandom(32)
    receipt = ledger.wait(ledger.send(ledger.sign_anchor(funded_account.key, record_id, digest, root, "objects/abc",
                                                               funded_account.address)))
    anchor = ledger.get_anchor(record_id, funded_account.address)
    assert (anchor.record_hash, anchor.resources_root, anchor.storage_key) == (digest, root, "objects/abc")
    assert anchor.owner == anchor.author == funded_account.address
    assert anchor.block_number == receipt["blockNumber"]
    # Signed locally: the node holds no key for the user, yet the chain records the user as sender.
    assert funded_account.address not in devnet.rpc(0, "eth_accounts")
    assert receipt["from"] == funded_account.address


def test_second_anchor_of_same_id_is_rejected(ledger, funded_account):
    record_id = os.urandom(32)
    ledger.wait(ledger.send(ledger.sign_anchor(funded_account.key, record_id, os.urandom(32), ZERO, "k1",
                                               funded_account.address)))
    with pytest.raises(TxReverted, match="AlreadyAnchored"):
        ledger.send(ledger.sign_anchor(funded_account.key, record_id, os.urandom(32), ZERO, "k2",
                                       funded_account.address))
    assert ledger.get_anchor(record_id, funded_account.address).storage_key == "k1"


def test_non_owner_cannot_grant_or_anchor_for_owner(devnet, ledger, funded_account):
    stranger = Account.create()
    ledger.wait(ledger.transfer(devnet.faucet_key, stranger.address, 10**17))
    record_id = os.urandom(32)
    ledger.wait(ledger.send(ledger.sign_anchor(funded_account.key, record_id, os.urandom(32), ZERO, "k",
                                               funded_account.address)))
    # Anchors are keyed by (owner, id): the stranger has no anchor of their own under this id to grant.
    with pytest.raises(TxReverted, match="UnknownRecord"):
        ledger.send(ledger.sign_grant_record(stranger.key, record_id, stranger.address))
    with pytest.raises(TxReverted, match="NotAuthorizedWriter"):
        ledger.send(ledger.sign_anchor(stranger.key, os.urandom(32), os.urandom(32), ZERO, "k", funded_account.address))
    assert not ledger.can_read(stranger.address, record_id, funded_account.address)
    # The owner's grant, by contrast, takes effect.
    ledger.wait(ledger.send(ledger.sign_grant_record(funded_account.key, record_id, stranger.address)))
    assert ledger.can_read(stranger.address, record_id, funded_account.address)
