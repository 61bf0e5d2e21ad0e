"""The record commitment anchored on chain: SHA-256(salt || bundle bytes), with a random salt per record.

An unsalted SHA-256 of a deterministic bundle lets anyone who can guess a
record's exact content confirm the guess against the public chain. With a
random 32-byte salt kept off chain (with the record, and in the exported proof
that accompanies the bundle), the anchored value says nothing about the content
to someone without the salt, while the holder of bundle + proof still checks it
offline. Records anchored before salting have no salt: their commitment is the
plain SHA-256 of the bundle. This module is the one place a record's hash is
computed (upload, re-anchoring, verification, the importer's ``sha256``).
"""
from __future__ import annotations

import secrets

from .vault import digest

SALT_BYTES = 32
SALTED = "sha256(salt||bundle)"
PLAIN = "sha256"


def new_salt() -> bytes:
    """A fresh random salt for one record."""
    return secrets.token_bytes(SALT_BYTES)


def commit(bundle: bytes, salt: bytes | None) -> bytes:
    """The 32-byte commitment to ``bundle`` under ``salt`` (the plain SHA-256 when ``salt`` is None)."""
    if salt is None:
        return digest(bundle)
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a commitment salt is {SALT_BYTES} bytes")
    return digest(salt + bundle)


def scheme(salt: bytes | None) -> str:
    """How the commitment is computed, as proof files name it."""
    return PLAIN if salt is None else SALTED
