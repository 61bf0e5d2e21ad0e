"""Binary SHA-256 Merkle trees with domain-separated leaves and nodes (RFC 6962 style).

Used for a record's ``resourcesRoot`` (one salted leaf per bundle entry, so a
shared view can omit hidden entries yet prove the rest authentic) and for
batched anchoring (one leaf per record). ``leaf = H(0x00 || data)``,
``node = H(0x01 || left || right)``; an odd node is carried up unchanged.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

LEAF, NODE = b"\x00", b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf's data."""
    return hashlib.sha256(LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE + left + right).digest()


def salted_leaf(salt: bytes, data: bytes) -> bytes:
    """A leaf that reveals nothing about ``data`` to someone without ``salt``."""
    return leaf_hash(salt + data)


def entry_salt(disclosure_key: bytes, full_url: str) -> bytes:
    """The per-entry salt, derived from the record's secret disclosure key."""
    return hmac.new(disclosure_key, full_url.encode(), hashlib.sha256).digest()


def levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every level of the tree, from the leaf hashes up to ``[root]`` (each level hashed once)."""
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        cur = levels[-1]
        nxt = [node_hash(cur[i], cur[i + 1]) for i in range(0, len(cur) - 1, 2)]
        if len(cur) % 2:
            nxt.append(cur[-1])
        levels.append(nxt)
    return levels


def root(leaves: list[bytes]) -> bytes:
    """The root over leaf hashes ``leaves`` (in order)."""
    return levels(leaves)[-1][0]


@dataclass(frozen=True)
class Step:
    """One sibling on the path to the root; ``left`` means the sibling is on the left."""

    sibling: bytes
    left: bool


def proof(leaves: list[bytes], index: int) -> list[Step]:
    """The audit path of leaf ``index``."""
    return path_in(levels(leaves), index)


def path_in(tree_levels: list[list[bytes]], index: int) -> list[Step]:
    """The audit path of leaf ``index`` in a tree already built by :func:`levels`."""
    path = []
    for level in tree_levels[:-1]:
        sib = index ^ 1
        if sib < len(level):
            path.append(Step(level[sib], left=sib < index))
        index //= 2
    return path


def root_from_proof(leaf: bytes, path: list[Step]) -> bytes:
    """Recompute the root from a leaf hash and its audit path."""
    acc = leaf
    for step in path:
        acc = node_hash(step.sibling, acc) if step.left else node_hash(acc, step.sibling)
    return acc


def verify(leaf: bytes, path: list[Step], expected_root: bytes) -> bool:
    """True if ``leaf`` with ``path`` leads to ``expected_root``."""
    return hmac.compare_digest(root_from_proof(leaf, path), expected_root)
