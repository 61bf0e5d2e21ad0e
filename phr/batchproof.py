"""Batched anchoring proofs: the owner-signed leaf, its Merkle path and the checks, with no database or chain.

In batch mode a record is not anchored by its own transaction. Instead the
owner's Ethereum key signs an EIP-191 message over the record's anchor fields
in their session, and the anchoring worker puts one leaf per record into a
Merkle tree (:mod:`phr.merkle`) whose root alone goes on chain with
``anchorBatch(root, count)``. The leaf covers the fields *and* the owner's
signature, so the root proves existence at the batch's block and the signature
proves the owner's consent (the batch submitter is only a courier).

The path is a list of sibling hashes; the direction of each step is derived
from ``leaf_index`` and the batch ``count`` (read from the chain), so an
altered index or count fails like an altered sibling. See docs/anchoring.md.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_defunct

from . import merkle

LEAF_DOMAIN = b"phr-batch-leaf/1\n"
SALT_DOMAIN = b"phr-batch-salt/1\n"
MESSAGE_TITLE = "PHR record anchor v1"


def _hex(value: str) -> str:
    """Lower-case ``0x``-prefixed hex (accepts either form)."""
    return "0x" + value.lower().removeprefix("0x")


@dataclass(frozen=True)
class LeafFields:
    """What one batch leaf commits to (the same facts ``anchor(...)`` stores per record)."""

    chain_id: int
    contract: str
    record_id: str
    record_hash: str
    resources_root: str
    storage_key: str
    owner: str

    def normalized(self) -> LeafFields:
        return LeafFields(int(self.chain_id), _hex(self.contract), _hex(self.record_id), _hex(self.record_hash),
                          _hex(self.resources_root), self.storage_key, _hex(self.owner))


def message(fields: LeafFields) -> str:
    """The text the owner signs (EIP-191 ``personal_sign``): readable in any wallet."""
    f = fields.normalized()
    return (f"{MESSAGE_TITLE}\nchain: {f.chain_id}\ncontract: {f.contract}\nrecord: {f.record_id}\n"
            f"sha256: {f.record_hash}\nresources root: {f.resources_root}\nstorage: {f.storage_key}\n"
            f"owner: {f.owner}")


def sign(fields: LeafFields, key: bytes | str) -> bytes:
    """The owner's 65-byte EIP-191 signature over :func:`message`."""
    return bytes(Account.sign_message(encode_defunct(text=message(fields)), key).signature)


def signer(fields: LeafFields, signature: bytes) -> str | None:
    """The address that produced ``signature`` over ``fields`` (None if it is not a valid signature)."""
    try:
        return Account.recover_message(encode_defunct(text=message(fields)), signature=signature)
    except Exception:  # noqa: BLE001 - eth-keys raises several types for malformed signatures; all mean "no signer"
        return None


def leaf_bytes(fields: LeafFields, signature: bytes) -> bytes:
    """The canonical leaf data: a domain tag, then sorted compact JSON of the fields and the signature."""
    doc = vars(fields.normalized()) | {"owner_signature": "0x" + bytes(signature).hex()}  # vars: asdict deep-copies
    return LEAF_DOMAIN + json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def leaf(fields: LeafFields, signature: bytes) -> bytes:
    """The leaf hash that goes into the batch tree."""
    return merkle.leaf_hash(leaf_bytes(fields, signature))


def salt_leaf(salt: bytes) -> bytes:
    """The last leaf of every batch: a random salt, so no two batches share a root, even of the same records.

    A root someone else anchored first (with another count) can then be left behind by cutting the records
    again. Its own domain tag keeps it from ever passing as a record leaf; proofs need only its hash.
    """
    return merkle.leaf_hash(SALT_DOMAIN + salt)


# ----- paths -----------------------------------------------------------------------
def path(leaves: list[bytes], index: int) -> list[bytes]:
    """Sibling hashes from leaf ``index`` up to the root (directions follow from index and count)."""
    return [step.sibling for step in merkle.proof(leaves, index)]


def tree(leaves: list[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """The root and every leaf's path, hashing each level once (``path`` per leaf would redo the tree)."""
    levels = merkle.levels(leaves)
    return levels[-1][0], [[step.sibling for step in merkle.path_in(levels, i)] for i in range(len(leaves))]


def _directions(index: int, count: int) -> list[bool]:
    """For each level that has a sibling: True if the sibling is on the left (mirrors :func:`merkle.proof`)."""
    if not 0 <= index < count:
        raise ValueError(f"leaf index {index} is outside a batch of {count}")
    out, width = [], count
    while width > 1:
        sib = index ^ 1
        if sib < width:
            out.append(sib < index)
        index //= 2
        width = (width + 1) // 2
    return out


def root_from_path(leaf_hash: bytes, index: int, count: int, siblings: list[bytes]) -> bytes:
    """The root that ``leaf_hash`` at ``index`` of ``count`` leaves reaches with ``siblings``; ValueError if malformed."""
    directions = _directions(index, count)
    if len(directions) != len(siblings):
        raise ValueError(f"a path for leaf {index} of {count} has {len(directions)} steps, not {len(siblings)}")
    return merkle.root_from_proof(leaf_hash, [merkle.Step(s, left) for s, left in zip(siblings, directions)])


def check(fields: LeafFields, signature: bytes, index: int, count: int, siblings: list[bytes],
          batch_root: bytes) -> list[str]:
    """The reasons the leaf does NOT prove ``fields`` under ``batch_root`` (empty: it does). No chain needed."""
    problems = []
    who = signer(fields, signature)
    if who is None or who.lower() != fields.owner.lower():
        problems.append(f"the owner signature was not made by the owner {fields.owner} (recovered {who})")
    try:
        computed = root_from_path(leaf(fields, signature), index, count, siblings)
    except ValueError as exc:
        return problems + [f"the Merkle path is malformed: {exc}"]
    if not hmac.compare_digest(computed, batch_root):
        problems.append(f"the leaf and Merkle path lead to root 0x{computed.hex()}, not the batch root "
                        f"0x{batch_root.hex()}")
    return problems
