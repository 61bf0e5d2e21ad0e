"""Clique governance through the operator's own node(s).

Votes (``clique_propose`` / ``clique_discard``) are a node's own: each signer
node casts the votes its operator proposed on it, in the blocks it seals. So
they are sent only to the node(s) configured for the logged-in operator
(``VALIDATOR_NODE_URLS``, env ``PHR_VALIDATOR_NODES``), never to the app's
shared RPC URLs. Each call goes through the chain gateway (a :class:`~phr.ledger.Ledger`
on that one node, with its timeout); only the clique methods that geth and Besu both
serve are used: ``clique_getSigners``, ``clique_proposals``, ``clique_propose``,
``clique_discard`` (see docs/governance.md).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from eth_utils import is_checksum_address, is_hex_address

from ..auth.service import normalise_email
from ..ledger import ChainError, ChainUnavailable, Ledger
from ..models import User

SEALER_WINDOW = 50
NODE_TIMEOUT = 5.0
NOT_AN_ADDRESS = "Enter an Ethereum address: 0x followed by 40 hexadecimal digits."
BAD_CHECKSUM = ("This address fails its EIP-55 checksum (mixed upper/lower case). "
                "Copy it again from the node operator; a typo here would vote for the wrong account.")


class GovernanceError(Exception):
    """A refusal the operator should read (shown next to the form)."""


class NodeError(GovernanceError):
    """The operator's node did not answer or refused the call."""


class NoOwnNode(GovernanceError):
    """No node is configured for this operator."""

    def __init__(self):
        super().__init__("No node is configured for your account, so you cannot vote. Ask the platform administrator "
                         "to add your node's RPC URL to PHR_VALIDATOR_NODES.")


@dataclass(frozen=True)
class Proposal:
    address: str
    authorize: bool  # True: vote to add; False: vote to remove
    passed: bool  # the signer set already reflects it (the majority agreed)


@dataclass(frozen=True)
class NodeProposals:
    url: str
    signer: str | None  # the node's own sealing account (eth_coinbase), if it says
    proposals: list[Proposal]
    error: str | None = None


@dataclass(frozen=True)
class Overview:
    signers: list[str]
    sealed: dict[str, int]  # blocks sealed in the window, per sealer
    window: tuple[int, int]  # first and last block counted
    joined: list[str]  # became signers within the window
    left: list[str]  # stopped being signers within the window (were signers before it, or sealed in it)

    @property
    def majority(self) -> int:
        """Votes a proposal needs to pass: more than half of the signers."""
        return len(self.signers) // 2 + 1


def checksum_address(text: str) -> str:
    """The address in ``text`` if it is a valid EIP-55 checksummed address; ``ValueError`` with the reason otherwise."""
    text = (text or "").strip()
    if not is_hex_address(text) or not text.startswith("0x"):
        raise ValueError(NOT_AN_ADDRESS)
    if not is_checksum_address(text):
        raise ValueError(BAD_CHECKSUM)
    return text


def node_urls_for(user: User, config: Mapping[str, list[str]]) -> list[str]:
    """The operator's own node RPC URLs, keyed in config by email or eth address (any case)."""
    by_key = {k.strip().lower(): v for k, v in (config or {}).items()}
    urls = by_key.get(normalise_email(user.email)) or by_key.get(user.eth_address.lower()) or []
    return [urls] if isinstance(urls, str) else list(urls)


T = TypeVar("T")


def _on_node(url: str, call: Callable[[Ledger], T]) -> T:
    """``call`` on a gateway client for the operator's node at ``url``; its failures as ``NodeError``."""
    try:
        return call(Ledger([url], timeout=NODE_TIMEOUT))
    except ChainUnavailable as exc:
        raise NodeError(f"Your node at {url} did not answer ({type(exc.__cause__).__name__}).") from None
    except ChainError as exc:  # "method: reason"
        raise NodeError(f"Your node at {url} refused {exc}") from None


def check_node(url: str) -> list[str]:
    """Make sure ``url`` is a clique node's RPC (answers ``clique_getSigners``); returns its signer set."""
    return _on_node(url, lambda node: node.signers())


# ----- reading --------------------------------------------------------------------
def overview(chain: Ledger, window: int = SEALER_WINDOW) -> Overview:
    """Current signers, how many of the last ``window`` blocks each sealed, and who joined or left meanwhile."""
    head = chain.block_number()
    first = max(head - window + 1, 1)
    sealed = Counter(chain.block(n).sealer for n in range(first, head + 1))
    now, before = chain.signers(head), chain.signers(first - 1)
    # Whoever sealed a block in the window was a signer then (the chain checks it), so a sealer that is
    # no signer now was voted out within the window, even if it had also joined within it.
    was = before + [a for a in sealed if a not in before]
    return Overview(signers=now, sealed=dict(sealed), window=(first, head),
                    joined=[a for a in now if a not in before], left=[a for a in was if a not in now])


def node_proposals(urls: list[str], signers: list[str]) -> list[NodeProposals]:
    """Each own node's pending proposals, marked passed once the signer set reflects them."""
    out = []
    for url in urls:
        try:
            pending = _on_node(url, lambda node: node.proposals())
        except NodeError as exc:
            out.append(NodeProposals(url, None, [], str(exc)))
            continue
        try:
            signer = _on_node(url, lambda node: node.coinbase())
        except (NodeError, ValueError, TypeError):
            signer = None
        proposals = [Proposal(a, auth, (a in signers) == auth) for a, auth in sorted(pending.items(),
                                                                                      key=lambda p: p[0].lower())]
        out.append(NodeProposals(url, signer, proposals))
    return out


# ----- voting ---------------------------------------------------------------------
def propose(urls: list[str], address: str, authorize: bool, signers: list[str]) -> list[str]:
    """Have each own node vote to add (``authorize``) or remove ``address``; returns the nodes that accepted.

    Raises ``NoOwnNode``, ``GovernanceError`` for a vote that cannot change anything, ``NodeError``.
    """
    if not urls:
        raise NoOwnNode()
    address = checksum_address(address)
    if authorize and address in signers:
        raise GovernanceError(f"{address} is already a signer.")
    if not authorize and address not in signers:
        raise GovernanceError(f"{address} is not a signer, so there is nothing to remove.")
    for url in urls:
        _on_node(url, lambda node: node.propose(address, authorize))
    return urls


def discard(urls: list[str], address: str) -> None:
    """Withdraw the own nodes' pending vote about ``address``. Raises ``NoOwnNode``, ``NodeError``."""
    if not urls:
        raise NoOwnNode()
    address = checksum_address(address)
    for url in urls:
        _on_node(url, lambda node: node.discard(address))


__all__ = [
    "ChainError", "GovernanceError", "NoOwnNode", "NodeError", "NodeProposals", "Overview", "Proposal",
    "check_node", "checksum_address", "discard", "node_proposals", "node_urls_for", "overview", "propose",
]
