"""Known-answer vectors for phr.merkle and phr.batchproof, checkable by hand with hashlib (scheme: docs/anchoring.md).

``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || left || right)``, and a
node without a partner is carried up unchanged. The expected hex values were
computed once with hashlib alone; the tests also rebuild them step by step, so
a change to the scheme (or to either level builder) fails here, not in a
verifier years later.
"""
import hashlib
import hmac

import pytest
from eth_account import Account

from phr import batchproof, merkle


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


A, B, C, D, E = (_leaf(x) for x in (b"a", b"b", b"c", b"d", b"e"))
AB, CD = _node(A, B), _node(C, D)
ABCD = _node(AB, CD)
LEAVES = [A, B, C, D, E]

LEAF_A = "022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c"
ROOTS = {  # leaves a..e taken n at a time -> root
    1: LEAF_A,  # one leaf: the root is the leaf hash itself
    2: "b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb",  # node(a, b)
    3: "36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1",  # node(node(a, b), c)
    5: "fe14a5426fbd70c0fa73f52342afed0da0bd23c4838662ccf6b88a3070ead97b",  # node(node(ab, cd), e)
}
# Audit paths in the five-leaf tree: e has no partner on the two lowest levels, so its path is one step.
PATHS_OF_FIVE = [[B, CD, E], [A, CD, E], [D, AB, E], [C, AB, E], [ABCD]]
SIDES_OF_FIVE = [[False, False, False], [True, False, False], [False, True, False], [True, True, False], [True]]


def test_leaf_and_node_hashes_are_domain_separated_sha256():
    assert merkle.leaf_hash(b"a").hex() == LEAF_A == A.hex()
    assert merkle.node_hash(A, B) == AB
    assert merkle.leaf_hash(A + B) != merkle.node_hash(A, B)  # a node can never pass as a leaf


@pytest.mark.parametrize("count", sorted(ROOTS))
def test_roots(count):
    assert merkle.root(LEAVES[:count]).hex() == ROOTS[count]
    assert batchproof.tree(LEAVES[:count])[0].hex() == ROOTS[count]


def test_the_expected_roots_follow_from_the_scheme():
    assert ROOTS[2] == AB.hex()
    assert ROOTS[3] == _node(AB, C).hex()
    assert ROOTS[5] == _node(ABCD, E).hex()


def test_one_leaf_has_an_empty_path():
    assert merkle.proof([A], 0) == []
    assert batchproof.tree([A]) == (A, [[]])
    assert batchproof.root_from_path(A, 0, 1, []) == A


def test_no_leaves_is_an_error():
    with pytest.raises(ValueError):
        merkle.root([])


@pytest.mark.parametrize("index", range(5))
def test_paths_of_an_odd_tree(index):
    steps = merkle.proof(LEAVES, index)
    assert [s.sibling for s in steps] == PATHS_OF_FIVE[index]
    assert [s.left for s in steps] == SIDES_OF_FIVE[index]
    assert batchproof.path(LEAVES, index) == PATHS_OF_FIVE[index]
    assert batchproof.tree(LEAVES)[1][index] == PATHS_OF_FIVE[index]
    root = bytes.fromhex(ROOTS[5])
    assert merkle.verify(LEAVES[index], steps, root)
    assert batchproof.root_from_path(LEAVES[index], index, 5, PATHS_OF_FIVE[index]) == root


def test_a_path_verifies_only_its_own_leaf_and_position():
    root = bytes.fromhex(ROOTS[5])
    assert not merkle.verify(B, merkle.proof(LEAVES, 0), root)
    assert batchproof.root_from_path(E, 3, 5, PATHS_OF_FIVE[3]) != root
    with pytest.raises(ValueError):  # e's one-step path is too short for index 3
        batchproof.root_from_path(E, 3, 5, PATHS_OF_FIVE[4])


def test_salted_entry_leaf():
    key = b"k" * 32
    salt = hmac.new(key, b"urn:uuid:1", hashlib.sha256).digest()
    assert merkle.entry_salt(key, "urn:uuid:1").hex() == (
        "ca3082771951c8079ee61f070d9a2333bbac4d75ba1821719eeb623c435c3398")
    assert merkle.salted_leaf(salt, b"{}") == _leaf(salt + b"{}")


# ----- a batch leaf ----------------------------------------------------------------------
KEY = "0x" + "01" * 32
OWNER = "0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1"
FIELDS = batchproof.LeafFields(1337, "0x" + "AB" * 20, "11" * 32, "0x" + "22" * 32, "33" * 32, "records/abc", OWNER)
MESSAGE = """PHR record anchor v1
chain: 1337
contract: 0xabababababababababababababababababababab
record: 0x1111111111111111111111111111111111111111111111111111111111111111
sha256: 0x2222222222222222222222222222222222222222222222222222222222222222
resources root: 0x3333333333333333333333333333333333333333333333333333333333333333
storage: records/abc
owner: 0x1a642f0e3c3af545e7acbd38b07251b3990914f1"""
SIGNATURE = bytes.fromhex(  # EIP-191 over MESSAGE with KEY (RFC 6979 nonces: deterministic)
    "6e9b846f1a5afc47392c2d8f97894f7a9da0a5f6f8e749efb8ec3696727b26dc"
    "1b1c3bf8431c4feafc3ab7533453f5462bdc36ad4a41ffd73918db9610e55cea1c")
LEAF_DATA = (
    b'phr-batch-leaf/1\n{"chain_id":1337,"contract":"0x' + b"ab" * 20 + b'",'
    b'"owner":"0x1a642f0e3c3af545e7acbd38b07251b3990914f1","owner_signature":"0x' + SIGNATURE.hex().encode() + b'",'
    b'"record_hash":"0x' + b"22" * 32 + b'","record_id":"0x' + b"11" * 32 + b'",'
    b'"resources_root":"0x' + b"33" * 32 + b'","storage_key":"records/abc"}')


def test_batch_leaf_vector():
    assert Account.from_key(KEY).address == OWNER
    assert batchproof.message(FIELDS) == MESSAGE
    assert batchproof.sign(FIELDS, KEY) == SIGNATURE
    assert batchproof.leaf_bytes(FIELDS, SIGNATURE) == LEAF_DATA
    assert batchproof.leaf(FIELDS, SIGNATURE) == _leaf(LEAF_DATA)
    assert batchproof.leaf(FIELDS, SIGNATURE).hex() == (
        "8ee3ba9fb651553100e510693b0a215f21e51d3426384260ecb308cd6b2e2c1f")


def test_batch_of_the_vector_leaf_and_a_salt_leaf():
    salt_leaf = _leaf(b"phr-batch-salt/1\n" + bytes(32))
    assert batchproof.salt_leaf(bytes(32)) == salt_leaf
    leaf = _leaf(LEAF_DATA)
    root = _node(leaf, salt_leaf)
    assert batchproof.tree([leaf, salt_leaf]) == (root, [[salt_leaf], [leaf]])
    assert batchproof.check(FIELDS, SIGNATURE, 0, 2, [salt_leaf], root) == []
    assert batchproof.check(FIELDS, SIGNATURE, 1, 2, [salt_leaf], root) != []
