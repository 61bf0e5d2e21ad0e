"""Build/artifact tests for contracts/PHRRegistry.sol.

These do not execute the contract (that is the ledger module's job against a
real devnet). They prove that:

* the committed artifact contracts/PHRRegistry.json is exactly what the pinned
  compiler produces from the committed source (no stale artifact, no drift);
* the bytecode is valid for the London EVM used by geth's clique chain: a real
  disassembly walk finds no PUSH0 or later opcodes in executable code;
* the ABI is exactly the interface the platform is written against, so an
  accidental rename or signature change fails here rather than on chain.

Prerequisite: ``npm ci --prefix contracts`` (installs the exactly pinned solc-js).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
SOURCE = CONTRACTS / "PHRRegistry.sol"
ARTIFACT = CONTRACTS / "PHRRegistry.json"
LEGACY_ARTIFACT = CONTRACTS / "PHRRegistryV1.json"  # PHRRegistry/1, kept to read records anchored under it
COMPILE_JS = CONTRACTS / "compile.js"
SETUP_HINT = "run `npm ci --prefix contracts` first (installs the pinned solc-js)"


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed() -> dict:
    return json.loads(ARTIFACT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory) -> Path:
    """Compile the current source into a temporary artifact; return its path."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"`node` is not on PATH; install Node.js 20 and {SETUP_HINT}")
    if not (CONTRACTS / "node_modules" / "solc" / "package.json").is_file():
        pytest.fail(f"contracts/node_modules/solc is missing: {SETUP_HINT}")
    out = tmp_path_factory.mktemp("contract-build") / "PHRRegistry.json"
    proc = subprocess.run(
        [node, str(COMPILE_JS), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"node contracts/compile.js failed (exit {proc.returncode}); if solc is "
            f"missing or stale, {SETUP_HINT}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return out


@pytest.fixture(scope="module")
def fresh(fresh_build) -> dict:
    return json.loads(fresh_build.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# Artifact matches a fresh build
# ---------------------------------------------------------------------------

STALE = "committed contracts/PHRRegistry.json is stale: run `node contracts/compile.js` and commit it"


def test_abi_matches_committed_artifact(fresh, committed):
    assert fresh["abi"] == committed["abi"], STALE


def test_bytecode_matches_committed_artifact(fresh, committed):
    assert fresh["bytecode"] == committed["bytecode"], STALE


def test_deployed_bytecode_matches_committed_artifact(fresh, committed):
    assert fresh["deployedBytecode"] == committed["deployedBytecode"], STALE


def test_source_sha256_matches_current_source(fresh, committed):
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    assert committed["sourceSha256"] == digest, STALE
    assert fresh["sourceSha256"] == digest


def test_artifact_file_is_byte_identical_to_fresh_build(fresh_build):
    # Covers formatting, key order, trailing newline and the compiler block.
    assert fresh_build.read_bytes() == ARTIFACT.read_bytes(), STALE


def test_artifact_shape_and_compiler_settings(committed):
    assert list(committed) == [
        "contractName", "abi", "bytecode", "deployedBytecode", "compiler", "sourceSha256",
    ]
    assert committed["contractName"] == "PHRRegistry"
    for key in ("bytecode", "deployedBytecode"):
        assert re.fullmatch(r"0x(?:[0-9a-f]{2})+", committed[key]), key
    assert re.fullmatch(r"[0-9a-f]{64}", committed["sourceSha256"])
    compiler = committed["compiler"]
    assert compiler["name"] == "solc-js"
    settings = compiler["settings"]
    assert settings["evmVersion"] == "london"
    assert settings["optimizer"] == {"enabled": True, "runs": 200}
    assert settings["metadata"] == {"bytecodeHash": "none"}
    assert settings.get("viaIR") is False
    # EIP-170 runtime size limit.
    assert len(bytes.fromhex(committed["deployedBytecode"][2:])) <= 24576


def test_solc_is_exactly_pinned(committed):
    package = json.loads((CONTRACTS / "package.json").read_text(encoding="utf-8"))
    pin = package["dependencies"]["solc"]
    assert re.fullmatch(r"0\.8\.\d+", pin), f"solc must be pinned exactly, got {pin!r}"
    lock = json.loads((CONTRACTS / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/solc"]["version"] == pin
    assert committed["compiler"]["version"].startswith(pin + "+commit."), committed["compiler"]["version"]
    source = SOURCE.read_text(encoding="utf-8")
    assert f"pragma solidity {pin};" in source, "pragma must match the pinned compiler exactly"
    assert source.startswith("// SPDX-License-Identifier: Apache-2.0\n")


# ---------------------------------------------------------------------------
# EVM compatibility: disassembly walk
# ---------------------------------------------------------------------------

# Opcodes introduced after London. geth's clique chain runs London rules, so
# any of these in executable code would be an invalid instruction on chain.
POST_LONDON_OPCODES = {
    0x5F: "PUSH0 (Shanghai)",
    0x5C: "TLOAD (Cancun)",
    0x5D: "TSTORE (Cancun)",
    0x5E: "MCOPY (Cancun)",
    0x49: "BLOBHASH (Cancun)",
    0x4A: "BLOBBASEFEE (Cancun)",
}


def instructions(code: bytes):
    """Yield (offset, opcode) for each instruction, skipping PUSH1..PUSH32 immediates.

    Raises ValueError if the last PUSH's immediate runs past the end of ``code``
    (the walk is then misaligned and its result meaningless).
    """
    pc = 0
    while pc < len(code):
        op = code[pc]
        yield pc, op
        width = op - 0x5F if 0x60 <= op <= 0x7F else 0
        if pc + 1 + width > len(code):
            raise ValueError(f"PUSH{width} at offset {pc} is truncated")
        pc += 1 + width


def strip_cbor_metadata(code: bytes) -> bytes:
    """Remove solc's trailing CBOR metadata (length in the last two bytes)."""
    assert len(code) >= 2
    length = int.from_bytes(code[-2:], "big")
    trailer = code[-(length + 2):-2]
    assert len(trailer) == length and 0xA0 <= trailer[0] <= 0xB7, "no CBOR metadata trailer"
    assert b"solc" in trailer, "CBOR trailer does not name solc"
    return code[: -(length + 2)]


def forbidden_in(code: bytes) -> list[str]:
    return [f"{POST_LONDON_OPCODES[op]} at offset {pc}" for pc, op in instructions(code) if op in POST_LONDON_OPCODES]


def test_disassembler_skips_push_immediates():
    # 0x5f inside PUSH1 / PUSH2 / PUSH32 immediates is data, not PUSH0.
    assert forbidden_in(bytes([0x60, 0x5F, 0x61, 0x5F, 0x5F, 0x00])) == []
    assert forbidden_in(bytes([0x7F]) + b"\x5f" * 32 + b"\x00") == []
    # A real PUSH0 after an immediate is found at the right offset.
    assert forbidden_in(bytes([0x60, 0x01, 0x5F, 0x00])) == ["PUSH0 (Shanghai) at offset 2"]
    assert forbidden_in(bytes([0x5E])) == ["MCOPY (Cancun) at offset 0"]
    with pytest.raises(ValueError):
        list(instructions(bytes([0x61, 0x00])))


def test_deployed_bytecode_has_no_push0_or_later_opcodes(committed):
    runtime = strip_cbor_metadata(bytes.fromhex(committed["deployedBytecode"][2:]))
    assert len(runtime) > 100
    assert forbidden_in(runtime) == []


def test_creation_bytecode_has_no_push0_or_later_opcodes(committed):
    creation = bytes.fromhex(committed["bytecode"][2:])
    runtime = bytes.fromhex(committed["deployedBytecode"][2:])
    start = creation.find(runtime)
    assert start > 0, "runtime code not found inside creation code"
    # Init code (constructor) part, then the runtime part it deploys.
    assert forbidden_in(creation[:start]) == []
    assert forbidden_in(strip_cbor_metadata(runtime)) == []


# ---------------------------------------------------------------------------
# ABI: exactly the interface the platform relies on
# ---------------------------------------------------------------------------

# name -> ([(type, name), ...inputs], [(type, name), ...outputs], stateMutability)
EXPECTED_FUNCTIONS = {
    "anchor": (
        [("bytes32", "recordId"), ("bytes32", "recordHash"), ("bytes32", "resourcesRoot"),
         ("string", "storageKey"), ("address", "owner")],
        [],
        "nonpayable",
    ),
    "getAnchor": (
        [("address", "owner"), ("bytes32", "recordId")],
        [("bytes32", "recordHash"), ("bytes32", "resourcesRoot"), ("address", "author"),
         ("uint64", "anchoredAt"), ("uint64", "blockNumber"), ("string", "storageKey")],
        "view",
    ),
    "isAnchored": ([("address", "owner"), ("bytes32", "recordId")], [("bool", "")], "view"),
    "grant": (
        [("address", "reader"), ("uint64", "expiresAt"), ("bool", "writable")], [], "nonpayable",
    ),
    "grantRecord": (
        [("bytes32", "recordId"), ("address", "reader"), ("uint64", "expiresAt")], [], "nonpayable",
    ),
    "revoke": ([("address", "reader")], [], "nonpayable"),
    "revokeRecord": ([("bytes32", "recordId"), ("address", "reader")], [], "nonpayable"),
    "canRead": ([("address", "reader"), ("address", "owner"), ("bytes32", "recordId")], [("bool", "")], "view"),
    "canWrite": ([("address", "writer"), ("address", "owner")], [("bool", "")], "view"),
    "grantOf": (
        [("address", "owner"), ("address", "reader")],
        [("uint64", "expiresAt"), ("bool", "writable"), ("bool", "active")],
        "view",
    ),
    "recordGrantOf": (
        [("address", "owner"), ("bytes32", "recordId"), ("address", "reader")],
        [("uint64", "expiresAt"), ("bool", "active")],
        "view",
    ),
    "logAccess": (
        [("address", "owner"), ("bytes32", "recordId"), ("uint8", "action"), ("bytes32", "detailHash")], [],
        "nonpayable",
    ),
    "anchorBatch": ([("bytes32", "root"), ("uint32", "count")], [], "nonpayable"),
    "getBatch": (
        [("address", "submitter"), ("bytes32", "root")],
        [("uint64", "anchoredAt"), ("uint64", "blockNumber"), ("uint32", "count")],
        "view",
    ),
    "isBatchAnchored": ([("address", "submitter"), ("bytes32", "root")], [("bool", "")], "view"),
    "version": ([], [("string", "")], "pure"),
}

# name -> [(type, name, indexed), ...]
EXPECTED_EVENTS = {
    "Anchored": [
        ("bytes32", "recordId", True), ("address", "owner", True), ("address", "author", True),
        ("bytes32", "recordHash", False), ("bytes32", "resourcesRoot", False), ("string", "storageKey", False),
    ],
    "Granted": [
        ("address", "owner", True), ("address", "reader", True), ("bytes32", "recordId", True),
        ("uint64", "expiresAt", False), ("bool", "canWrite", False),
    ],
    "Revoked": [("address", "owner", True), ("address", "reader", True), ("bytes32", "recordId", True)],
    "AccessLogged": [
        ("bytes32", "recordId", True), ("address", "actor", True), ("address", "owner", True),
        ("uint8", "action", False), ("bytes32", "detailHash", False),
    ],
    "BatchAnchored": [("bytes32", "root", True), ("address", "submitter", True), ("uint32", "count", False)],
}

# name -> [(type, name), ...]; the ledger module decodes these reverts.
EXPECTED_ERRORS = {
    "ZeroRecordId": [],
    "ZeroRecordHash": [],
    "ZeroOwner": [],
    "AlreadyAnchored": [("address", "owner"), ("bytes32", "recordId")],
    "NotAuthorizedWriter": [("address", "writer"), ("address", "owner")],
    "NotAuthorizedReader": [("address", "reader"), ("address", "owner"), ("bytes32", "recordId")],
    "UnknownRecord": [("address", "owner"), ("bytes32", "recordId")],
    "InvalidReader": [("address", "reader")],
    "InvalidExpiry": [("uint64", "expiresAt")],
    "GrantNotFound": [("address", "owner"), ("address", "reader"), ("bytes32", "recordId")],
    "ZeroBatchRoot": [],
    "EmptyBatch": [],
    "BatchAlreadyAnchored": [("address", "submitter"), ("bytes32", "root")],
    "UnknownBatch": [("address", "submitter"), ("bytes32", "root")],
}


def _entries(abi, kind):
    found = {}
    for entry in abi:
        if entry["type"] == kind:
            assert entry["name"] not in found, f"overloaded {kind} {entry['name']} is not expected"
            found[entry["name"]] = entry
    return found


def test_abi_has_only_expected_entry_types(committed):
    # No constructor, fallback or receive: the contract holds no ether and has no admin.
    assert {e["type"] for e in committed["abi"]} == {"function", "event", "error"}


def test_abi_functions_are_exactly_the_platform_interface(committed):
    functions = _entries(committed["abi"], "function")
    assert set(functions) == set(EXPECTED_FUNCTIONS)
    for name, (inputs, outputs, mutability) in EXPECTED_FUNCTIONS.items():
        f = functions[name]
        assert [(i["type"], i["name"]) for i in f["inputs"]] == inputs, name
        assert [(o["type"], o["name"]) for o in f["outputs"]] == outputs, name
        assert f["stateMutability"] == mutability, name


def test_abi_events_are_exactly_the_platform_interface(committed):
    events = _entries(committed["abi"], "event")
    assert set(events) == set(EXPECTED_EVENTS)
    for name, inputs in EXPECTED_EVENTS.items():
        e = events[name]
        assert not e["anonymous"], name
        assert [(i["type"], i["name"], i["indexed"]) for i in e["inputs"]] == inputs, name


def test_abi_errors_are_exactly_the_platform_interface(committed):
    errors = _entries(committed["abi"], "error")
    assert set(errors) == set(EXPECTED_ERRORS)
    for name, inputs in EXPECTED_ERRORS.items():
        assert [(i["type"], i["name"]) for i in errors[name]["inputs"]] == inputs, name


def test_no_admin_or_self_destruct_in_source():
    source = SOURCE.read_text(encoding="utf-8")
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", source, flags=re.DOTALL)
    for banned in ("selfdestruct", "delegatecall", "onlyOwner", "constructor", "tx.origin", "assembly"):
        assert banned not in code, banned
    assert "pragma solidity ^" not in code and "pragma solidity >" not in code


def test_legacy_v1_artifact_is_kept_unchanged_for_records_anchored_under_it():
    # PHRRegistry.sol at 3f3d44e compiled with the same pinned solc; a deployment moved to version 2 still
    # reads (never writes) its old registry with this ABI (phr.ledger picks it by the contract's version()).
    legacy = json.loads(LEGACY_ARTIFACT.read_text(encoding="utf-8"))
    assert legacy["sourceSha256"] == "f09fdc9ef1f6422b18befca74492233ab85b3c699eafc04100d331b25fee5462"
    assert hashlib.sha256(LEGACY_ARTIFACT.read_bytes()).hexdigest() == "5823008dab82a5f46f54b322541a39e574601fd0216fdc32492fb41493dbac68"
    get_anchor = _entries(legacy["abi"], "function")["getAnchor"]
    assert [i["type"] for i in get_anchor["inputs"]] == ["bytes32"]
