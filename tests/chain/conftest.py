"""Fixtures for the block and validator pages on real geth clique nodes.

Tests that stop nodes or change the signer set get their own devnet
(``own_devnet``), so the shared session devnet is never disturbed.
"""
from __future__ import annotations

import pytest
from chain_helpers import make_app

from phr.devnet import Devnet
from phr.ledger import Ledger


@pytest.fixture
def chain_app(tmp_path, devnet, registry):
    """An app wired to the shared devnet and registry."""
    return make_app(tmp_path, devnet.rpc_urls, registry)


@pytest.fixture
def own_devnet(tmp_path):
    """A private 3-signer devnet with its own registry, for tests that stop nodes or vote."""
    net = Devnet(tmp_path / "dn", signers=3, period=1, base_port=None)
    try:
        net.up()
        net.registry = Ledger(net.rpc_urls).deploy(net.faucet_key)
        yield net
    finally:
        net.down()

