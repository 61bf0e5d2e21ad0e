"""Offline verification of an exported record: ``python -m phr.verify BUNDLE PROOF --rpc URL``.

Needs no platform account and no database — only the exported FHIR bundle,
its proof file and any JSON-RPC endpoint of the chain. It recomputes the
bundle's SHA-256 and checks it, the record id and the owner against the
registry contract, and that the anchoring transaction sits in the canonical
block the proof names. Batch proofs (``phr-proof/2``) are checked through the
owner-signed leaf and its Merkle path up to the batch root (docs/anchoring.md).
Exit status 0: verified; 1: not verified; 2: usage.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from . import batchproof
from .ledger import ChainError, Ledger


def verify(bundle: bytes, proof: dict, rpc_urls: list[str]) -> list[str]:
    """Return the reasons ``bundle`` is NOT verified by ``proof`` on the chain (empty list: verified)."""
    problems = []
    digest = "0x" + hashlib.sha256(bundle).hexdigest()
    if proof.get("format") == "phr-proof/2":
        return verify_batched(bundle, proof, rpc_urls)
    if proof.get("format") != "phr-proof/1":
        return [f"unknown proof format {proof.get('format')!r}"]
    if digest != proof["record_hash"]:
        problems.append(f"bundle hash {digest} differs from the proof's record hash {proof['record_hash']}")
    chain = Ledger(rpc_urls, proof["contract_address"])
    try:
        if chain.chain_id() != proof["chain_id"]:
            return problems + [f"the RPC endpoint serves chain {chain.chain_id()}, the proof is for {proof['chain_id']}"]
        anchor = chain.get_anchor(bytes.fromhex(proof["record_id"][2:]))
        if anchor is None:
            return problems + ["the record id is not anchored on this chain"]
        if "0x" + anchor.record_hash.hex() != digest:
            problems.append(f"the chain anchors hash 0x{anchor.record_hash.hex()} for this record, not {digest}")
        if anchor.owner.lower() != proof["owner"].lower():
            problems.append(f"the chain names owner {anchor.owner}, the proof {proof['owner']}")
        if anchor.storage_key != proof["storage_key"]:
            problems.append("the chain's storage index differs from the proof's")
        if anchor.block_number != proof["block_number"]:
            problems.append(f"anchored in block {anchor.block_number}, the proof says {proof['block_number']}")
        problems += _check_transaction(chain, proof, "anchoring")
    except ChainError as exc:
        problems.append(f"chain unreachable: {exc}")
    return problems


def verify_batched(bundle: bytes, proof: dict, rpc_urls: list[str]) -> list[str]:
    """``phr-proof/2``: bundle hash → owner-signed leaf → Merkle path → ``getBatch(root)`` on chain."""
    problems = []
    digest = "0x" + hashlib.sha256(bundle).hexdigest()
    if digest != proof["record_hash"]:
        problems.append(f"bundle hash {digest} differs from the proof's record hash {proof['record_hash']}")
    # The leaf is rebuilt from the bundle's own hash, so altered bytes also fail the path below.
    fields = batchproof.LeafFields(proof["chain_id"], proof["contract_address"], proof["record_id"], digest,
                                   proof["resources_root"], proof["storage_key"], proof["owner"])
    signature = bytes.fromhex(proof["owner_signature"].removeprefix("0x"))
    root = bytes.fromhex(proof["batch_root"].removeprefix("0x"))
    siblings = [bytes.fromhex(h.removeprefix("0x")) for h in proof["merkle_path"]]
    chain = Ledger(rpc_urls, proof["contract_address"])
    try:
        if chain.chain_id() != proof["chain_id"]:
            return problems + [f"the RPC endpoint serves chain {chain.chain_id()}, the proof is for {proof['chain_id']}"]
        batch = chain.get_batch(root)
        if batch is None:
            return problems + [f"no batch is anchored under root {proof['batch_root']} on this chain"]
        problems += batchproof.check(fields, signature, int(proof["leaf_index"]), batch.count, siblings, root)
        if batch.block_number != proof["block_number"]:
            problems.append(f"the batch was anchored in block {batch.block_number}, the proof says "
                            f"{proof['block_number']}")
        if batch.submitter.lower() != proof["batch_submitter"].lower():
            problems.append(f"the chain names submitter {batch.submitter}, the proof {proof['batch_submitter']}")
        problems += _check_transaction(chain, proof, "batch")
    except ChainError as exc:
        problems.append(f"chain unreachable: {exc}")
    return problems


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
           if proof.get("format") == "phr-proof/2" else f"anchored by {proof['owner']}")
    print(f"VERIFIED: record {proof['record_id']} (sha256 {proof['record_hash']}) {how}\n"
          f"  in block {proof['block_number']} ({proof['block_hash']}), tx {proof['tx_hash']}, chain {proof['chain_id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
