"""Reading blocks and the records anchored in them, with per-user visibility.

Everything shown about a block comes from the chain, read through the gateway:
header fields through :meth:`Ledger.block` (sealer recovered from the clique
seal), and the records from the registry's ``Anchored`` events in that block
(:meth:`Ledger.anchored_events`, by block hash). The database
only adds what the chain cannot know (upload time, a display name) and is
checked against the chain.

Visibility: a user sees the details of an anchor they own, or — a doctor —
one the chain's ``canRead`` allows them; every other anchor in the block is
only counted.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

from eth_utils import to_checksum_address
from sqlalchemy import select

from .. import clock, db
from ..ledger import AnchoredEvent, BlockInfo, ChainError, Ledger
from ..models import User
from ..records.models import Record

PAGE_SIZE = 20
DIAGRAM_BLOCKS = 8
MAX_DIAGRAM_BLOCKS = 32


class BlockNotFound(Exception):
    """The chain has no block with this number (yet)."""


@dataclass(frozen=True)
class Link:
    """The connection from ``parent`` to ``child``: valid when child's pre-hash is the parent's hash."""

    parent: BlockInfo
    child: BlockInfo

    @property
    def ok(self) -> bool:
        return self.child.parent_hash == self.parent.hash and self.child.number == self.parent.number + 1


@dataclass(frozen=True)
class VisibleAnchor:
    """An anchor the viewer may see, with what the database adds and whether it agrees with the chain."""

    event: AnchoredEvent
    owner_name: str | None
    owned_by_viewer: bool
    uploaded_at: datetime | None
    matches_database: bool | None  # None: the platform has no row for this record


@dataclass(frozen=True)
class BlockView:
    block: BlockInfo
    time: datetime
    sealer_is_signer: bool
    anchors: list[VisibleAnchor]
    hidden_count: int
    head: int


@dataclass(frozen=True)
class Page:
    blocks: list[BlockInfo]
    head: int
    signers: frozenset[str]
    older: int | None  # ``before`` value of the next older page
    newer: int | None  # ``before`` value of the next newer page, None on the first page
    own_anchor_counts: dict[int, int]


@dataclass(frozen=True)
class Diagram:
    blocks: list[BlockInfo]  # ascending
    links: list[Link]  # links[i] joins blocks[i] -> blocks[i + 1]
    signers: frozenset[str]

    @property
    def verified(self) -> int:
        return sum(link.ok for link in self.links)

    @property
    def broken(self) -> int:
        return len(self.links) - self.verified


def utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def check_links(blocks: Sequence[BlockInfo]) -> list[Link]:
    """The links between consecutive ``blocks`` (ascending by number), each checked by :attr:`Link.ok`."""
    return [Link(parent, child) for parent, child in pairwise(blocks)]


# ----- chain reads ---------------------------------------------------------------
def get_block(chain: Ledger, number: int) -> BlockInfo:
    """Block ``number``; raises ``BlockNotFound`` beyond the head."""
    if number < 0 or number > chain.block_number():
        raise BlockNotFound(number)
    return chain.block(number)


def _blocks(chain: Ledger, first: int, last: int) -> list[BlockInfo]:
    return [get_block(chain, n) for n in range(max(first, 0), last + 1)]


# ----- what a user may see --------------------------------------------------------
def may_see(chain: Ledger, user: User, event: AnchoredEvent) -> bool:
    """Owners see their anchors; a doctor sees those the chain lets them read (``canRead``); nobody else."""
    if event.owner == to_checksum_address(user.eth_address):
        return True
    if user.role == "doctor":
        return chain.can_read(user.eth_address, bytes.fromhex(event.record_id), event.owner)
    return False


def _visible(event: AnchoredEvent, viewer: User) -> VisibleAnchor:
    dbs = db.session()
    record = dbs.scalar(select(Record).where(Record.anchor_id == event.record_id))
    owner = dbs.execute(select(User).where(User.eth_address == event.owner)).scalar_one_or_none()
    return VisibleAnchor(
        event=event,
        owner_name=owner.display_name if owner else None,
        owned_by_viewer=event.owner == to_checksum_address(viewer.eth_address),
        uploaded_at=clock.aware(record.created_at) if record else None,
        matches_database=None if record is None else (
            record.sha256.lower() == event.record_hash and record.storage_key == event.storage_key
            and record.owner_id == (owner.id if owner else None)),
    )


def block_view(chain: Ledger, viewer: User, number: int) -> BlockView:
    """Block ``number`` with the anchors ``viewer`` may see and a count of the others."""
    block = get_block(chain, number)
    events = chain.anchored_events(block_hash=block.hash)
    shown = [_visible(e, viewer) for e in events if may_see(chain, viewer, e)]
    return BlockView(block=block, time=utc(block.timestamp), sealer_is_signer=block.sealer in chain.signers(),
                     anchors=shown, hidden_count=len(events) - len(shown), head=chain.block_number())


def recent_blocks(chain: Ledger, viewer: User, before: int | None = None, size: int = PAGE_SIZE) -> Page:
    """Up to ``size`` blocks below ``before`` (default: from the head), newest first."""
    head = chain.block_number()
    top = head if before is None else min(before - 1, head)
    first = max(top - size + 1, 0)
    blocks = list(reversed(_blocks(chain, first, top))) if top >= 0 else []
    own: dict[int, int] = {}
    if blocks:
        for event in chain.anchored_events(owner=viewer.eth_address, from_block=first, to_block=top):
            own[event.block_number] = own.get(event.block_number, 0) + 1
    return Page(blocks=blocks, head=head, signers=frozenset(chain.signers()),
                older=first if first > 0 else None,
                newer=None if before is None else min(top + size + 1, head + 1),
                own_anchor_counts=own)


def diagram(chain: Ledger, count: int = DIAGRAM_BLOCKS) -> Diagram:
    """The newest ``count`` blocks as a chain, each link checked (pre-hash == previous hash)."""
    count = max(2, min(count, MAX_DIAGRAM_BLOCKS))
    head = chain.block_number()
    blocks = _blocks(chain, head - count + 1, head)
    return Diagram(blocks=blocks, links=check_links(blocks), signers=frozenset(chain.signers()))


__all__ = [
    "AnchoredEvent", "BlockNotFound", "BlockView", "ChainError", "Diagram", "Link", "Page", "VisibleAnchor",
    "block_view", "check_links", "diagram", "get_block", "may_see", "recent_blocks", "utc",
]
