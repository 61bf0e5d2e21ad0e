"""Offline verification of an exported record: ``python -m phr.verify BUNDLE PROOF --rpc URL``.

Needs no platform account and no database — only the exported FHIR bundle,
its proof file and any JSON-RPC endpoint of the chain. It recomputes the
bundle's commitment — SHA-256(salt || bundle) with the proof's salt
(``phr-proof/3``), or the plain SHA-256 of proofs from before salting — and
checks it, the record id and the owner against the registry contract the proof
names (in the version that contract reports), and that the anchoring
transaction sits in the canonical block the proof names. Batch proofs
(``phr-proof/2``, and ``phr-proof/3`` with ``"anchoring": "batch"``) are
checked through the owner-signed leaf and its Merkle path up to the batch root
(docs/anchoring.md). Exit status 0: verified; 1: not verified; 2: usage.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import batchproof, commitment
from .ledger import ChainError, Ledger

FORMATS = ("phr-proof/1", "phr-proof/2", "phr-proof/3")


def _digest(bundle: bytes, proof: dict) -> str:
    """The commitment the proof says was anchored, recomputed from ``bundle`` (and the proof's salt)."""
    salt = None
    if proof["format"] == "phr-proof/3" and proof["commitment"] == commitment.SALTED:
        salt = bytes.fromhex(proof["salt"].removeprefix("0x"))
    elif proof["format"] == "phr-proof/3" and proof["commitment"] != commitment.PLAIN:
        raise ValueError(f"unknown commitment {proof['commitment']!r}")
    return "0x" + commitment.commit(bundle, salt).hex()


def _batched(proof: dict) -> bool:
    return proof["format"] == "phr-proof/2" or proof.get("anchoring") == "batch"


def verify(bundle: bytes, proof: dict, rpc_urls: list[str]) -> list[str]:
    """Return the reasons ``bundle`` is NOT verified by ``proof`` on the chain (empty list: verified)."""
    if proof.get("format") not in FORMATS:
        return [f"unknown proof format {proof.get('format')!r}"]
    problems = []
    digest = _digest(bundle, proof)
    if digest != proof["record_hash"]:
        problems.append(f"bundle commitment {digest} differs from the proof's record hash {proof['record_hash']}")
    try:
        chain = Ledger.for_registry(rpc_urls, proof["contract_address"])
        if chain.chain_id() != proof["chain_id"]:
            return problems + [f"the RPC endpoint serves chain {chain.chain_id()}, the proof is for {proof['chain_id']}"]
        if proof.get("contract_version", chain.version) != chain.version:
            return problems + [f"the contract is {chain.version}, the proof says {proof['contract_version']}"]
        check = _check_batch if _batched(proof) else _check_anchor
        problems += check(chain, digest, proof)
    except ChainError as exc:
        problems.append(f"chain unreachable: {exc}")
    return problems


def _check_anchor(chain: Ledger, digest: str, proof: dict) -> list[str]:
    """``anchor`` proofs: the registry's anchor for (owner, record id) holds this commitment."""
    problems = []
    anchor = chain.get_anchor(bytes.fromhex(proof["record_id"][2:]), proof["owner"])
    if anchor is None:
        return ["the record id is not anchored for this owner on this chain"]
    if "0x" + anchor.record_hash.hex() != digest:
        problems.append(f"the chain anchors hash 0x{anchor.record_hash.hex()} for this record, not {digest}")
    if anchor.owner.lower() != proof["owner"].lower():
        problems.append(f"the chain names owner {anchor.owner}, the proof {proof['owner']}")
    if anchor.storage_key != proof["storage_key"]:
        problems.append("the chain's storage index differs from the proof's")
    if "resources_root" in proof and "0x" + anchor.resources_root.hex() != proof["resources_root"]:
        problems.append("the chain's resources root differs from the proof's")
    if anchor.block_number != proof["block_number"]:
        problems.append(f"anchored in block {anchor.block_number}, the proof says {proof['block_number']}")
    return problems + _check_transaction(chain, proof, "anchoring")


def _check_batch(chain: Ledger, digest: str, proof: dict) -> list[str]:
    """Batch proofs: commitment → owner-signed leaf → Merkle path → the submitter's ``getBatch(root)`` on chain."""
    # The leaf is rebuilt from the bundle's own commitment, so altered bytes also fail the path below.
    fields = batchproof.LeafFields(proof["chain_id"], proof["contract_address"], proof["record_id"], digest,
                                   proof["resources_root"], proof["storage_key"], proof["owner"])
    signature = bytes.fromhex(proof["owner_signature"].removeprefix("0x"))
    root = bytes.fromhex(proof["batch_root"].removeprefix("0x"))
    siblings = [bytes.fromhex(h.removeprefix("0x")) for h in proof["merkle_path"]]
    batch = chain.get_batch(root, proof["batch_submitter"])
    if batch is None:
        return [f"no batch is anchored under root {proof['batch_root']} on this chain"]
    problems = batchproof.check(fields, signature, int(proof["leaf_index"]), batch.count, siblings, root)
    if batch.block_number != proof["block_number"]:
        problems.append(f"the batch was anchored in block {batch.block_number}, the proof says {proof['block_number']}")
    if batch.submitter.lower() != proof["batch_submitter"].lower():
        problems.append(f"the chain names submitter {batch.submitter}, the proof {proof['batch_submitter']}")
    return problems + _check_transaction(chain, proof, "batch")


def _check_transaction(chain: Ledger, proof: dict, kind: str) -> list[str]:
    """Problems with the proof's ``kind`` transaction: failed or missing, in another block, or off the canonical chain."""
    receipt = chain.receipt(proof["tx_hash"])
    if receipt is None or receipt["status"] != 1:
        return [f"the {kind} transaction is not on the chain"]
    if receipt["blockHash"].to_0x_hex() != proof["block_hash"]:
        return [f"the {kind} transaction is in a different block than the proof says"]
    if chain.block(proof["block_number"]).hash != proof["block_hash"]:
        return ["the proof's block is no longer canonical"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m phr.verify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path, help="the exported FHIR bundle (.json), byte for byte")
    parser.add_argument("proof", type=Path, help="the exported proof file (.proof.json)")
    parser.add_argument("--rpc", action="append", required=True, help="JSON-RPC URL of a chain node (repeatable)")
    args = parser.parse_args(argv)
    try:
        proof = json.loads(args.proof.read_text())
        bundle = args.bundle.read_bytes()
    except (OSError, ValueError) as exc:
        print(f"cannot read input: {exc}", file=sys.stderr)
        return 2
    try:
        problems = verify(bundle, proof, args.rpc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problems = [f"the proof file is malformed ({type(exc).__name__}: {exc})"]
    if problems:
        print("NOT VERIFIED")
        for p in problems:
            print(f"  - {p}")
        return 1
    how = (f"signed by {proof['owner']}, leaf {proof['leaf_index']} under batch root {proof['batch_root']}"
           if _batched(proof) else f"anchored by {proof['owner']}")
    print(f"VERIFIED: record {proof['record_id']} (commitment {proof['record_hash']}) {how}\n"
          f"  in block {proof['block_number']} ({proof['block_hash']}), tx {proof['tx_hash']}, chain {proof['chain_id']}, "
          f"registry {proof['contract_address']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
