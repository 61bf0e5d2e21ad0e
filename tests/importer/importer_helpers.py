"""Helpers for the importer tests: sample files and looking inside a bundle."""
from __future__ import annotations

from pathlib import Path

from phr.importer import ImportResult

DATA = Path(__file__).resolve().parent.parent / "data"


def read(name: str) -> bytes:
    """Bytes of a sample file, e.g. ``read("mhb/scenario.json")``."""
    return (DATA / name).read_bytes()


def resources(result: ImportResult, kind: str) -> list[dict]:
    return [e["resource"] for e in result.bundle["entry"] if e["resource"]["resourceType"] == kind]


def by_ref(result: ImportResult, reference: dict) -> dict:
    """The entry resource a ``{"reference": ...}`` points to (fails the test if it does not resolve)."""
    matches = [e["resource"] for e in result.bundle["entry"] if e["fullUrl"] == reference["reference"]]
    assert len(matches) == 1, reference
    return matches[0]


def coding(concept: dict, system_suffix: str) -> dict:
    """The one coding whose system ends with ``system_suffix``."""
    found = [c for c in concept.get("coding", []) if c["system"].endswith(system_suffix)]
    assert len(found) == 1, (concept, system_suffix)
    return found[0]
