"""Batch proofs on their own (no chain): a valid path verifies, and any altered part of it fails."""
import dataclasses
import secrets

import pytest
from eth_account import Account

from phr import batchproof, merkle

CONTRACT = "0x" + "ab" * 20


def _fields(owner: str) -> batchproof.LeafFields:
    return batchproof.LeafFields(1337, CONTRACT, secrets.token_hex(32), secrets.token_hex(32), secrets.token_hex(32),
                                 f"records/{secrets.token_hex(16)}", owner)


def _batch(count: int):
    """``count`` owner-signed leaves, their root and every leaf's path."""
    members = []
    for _ in range(count):
        acct = Account.create()
        fields = _fields(acct.address)
        members.append((fields, batchproof.sign(fields, acct.key)))
    root, paths = batchproof.tree([batchproof.leaf(f, s) for f, s in members])
    return members, root, paths


def _flip(data: bytes, pos: int = 0) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1:]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7, 8, 13])
def test_every_leaf_of_a_batch_verifies_and_tree_matches_merkle(count):
    members, root, paths = _batch(count)
    leaves = [batchproof.leaf(f, s) for f, s in members]
    assert root == merkle.root(leaves)
    for i, (fields, sig) in enumerate(members):
        assert paths[i] == batchproof.path(leaves, i)
        assert batchproof.check(fields, sig, i, count, paths[i], root) == []


@pytest.mark.parametrize("count", [2, 3, 5, 8, 13])
def test_any_altered_sibling_fails(count):
    members, root, paths = _batch(count)
    for i, (fields, sig) in enumerate(members):
        for j in range(len(paths[i])):
            altered = list(paths[i])
            altered[j] = _flip(altered[j], j % 32)
            assert batchproof.check(fields, sig, i, count, altered, root), (i, j)
        assert batchproof.check(fields, sig, i, count, paths[i][:-1], root)  # a step dropped
        assert batchproof.check(fields, sig, i, count, paths[i] + [root], root)  # a step added


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(batchproof.LeafFields)])
def test_any_altered_leaf_field_fails(name):
    members, root, paths = _batch(5)
    fields, sig = members[3]
    value = getattr(fields, name)
    if name == "chain_id":
        altered = value + 1
    elif name == "storage_key":
        altered = value + "x"
    else:
        altered = value[:-1] + ("0" if value[-1] != "0" else "1")
    problems = batchproof.check(dataclasses.replace(fields, **{name: altered}), sig, 3, 5, paths[3], root)
    assert problems and any("root" in p for p in problems)


def test_any_altered_signature_fails():
    members, root, paths = _batch(4)
    fields, sig = members[1]
    for pos in (0, 31, 32, 63, 64):
        assert batchproof.check(fields, _flip(sig, pos), 1, 4, paths[1], root)
    assert batchproof.check(fields, b"", 1, 4, paths[1], root)


def test_a_leaf_signed_by_someone_else_fails_even_with_a_valid_path():
    """The root only proves existence; the owner's signature proves consent (the submitter is a courier)."""
    owner, mallory = Account.create(), Account.create()
    fields = _fields(owner.address)
    forged = batchproof.sign(fields, mallory.key)
    root, paths = batchproof.tree([batchproof.leaf(fields, forged), batchproof.leaf(*_signed_other())])
    problems = batchproof.check(fields, forged, 0, 2, paths[0], root)
    assert len(problems) == 1 and "owner signature" in problems[0]


def _signed_other():
    acct = Account.create()
    fields = _fields(acct.address)
    return fields, batchproof.sign(fields, acct.key)


@pytest.mark.parametrize("count", [2, 3, 5, 7, 8, 13])
def test_any_other_index_or_count_fails(count):
    members, root, paths = _batch(count)
    for i, (fields, sig) in enumerate(members):
        for j in range(-1, count + 1):
            if j != i:
                assert batchproof.check(fields, sig, j, count, paths[i], root), (i, j)
        for other in {count - 1, count + 1, 2 * count} - {count}:
            if other > i:
                assert batchproof.check(fields, sig, i, other, paths[i], root) or \
                    batchproof._directions(i, other) == batchproof._directions(i, count), (i, other)


def test_any_altered_root_fails():
    members, root, paths = _batch(6)
    fields, sig = members[2]
    for pos in (0, 15, 31):
        assert batchproof.check(fields, sig, 2, 6, paths[2], _flip(root, pos))
    _members, other_root, _ = _batch(6)
    assert batchproof.check(fields, sig, 2, 6, paths[2], other_root)


def test_message_is_readable_and_names_every_field():
    fields = _fields("0x" + "Cd" * 20)
    text = batchproof.message(fields)
    for value in (fields.record_id, fields.record_hash, fields.resources_root, fields.storage_key,
                  fields.owner.lower(), CONTRACT, "1337"):
        assert value.lower().removeprefix("0x") in text.lower()
