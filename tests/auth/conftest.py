"""Auth fixtures: a second browser and a KDF counter (``auth`` and the fast KDF profile come from tests/conftest.py)."""
from __future__ import annotations

from collections import Counter

import pytest
from argon2 import PasswordHasher
from auth_helpers import AuthActions
from eth_keyfile import keyfile
from flask import Flask

from phr import vault


@pytest.fixture
def other_auth(app: Flask) -> AuthActions:
    """A second browser on the same app."""
    return AuthActions(app.test_client(), app)


@pytest.fixture
def kdf_runs(monkeypatch) -> Counter:
    """Every password-based key derivation the app runs, counted by kind; the real functions still run.

    Argon2id key wrapping (``vault._derive``), PBKDF2 of version-1 PEMs
    (``vault._pbkdf2``), the scrypt/PBKDF2 of Ethereum keystores, and Argon2 login hashes.
    """
    runs: Counter = Counter()

    def counted(kind, real):
        def run(*args, **kwargs):
            runs[kind] += 1
            return real(*args, **kwargs)
        return run

    for owner, name, kind in ((vault, "_derive", "argon2id"), (vault, "_pbkdf2", "pbkdf2"),
                              (keyfile, "_scrypt_hash", "keystore scrypt"),
                              (keyfile, "_pbkdf2_hash", "keystore pbkdf2"),
                              (PasswordHasher, "hash", "password hash"), (PasswordHasher, "verify", "password hash")):
        # raising=False: on code without the function (an older version) it is simply never called.
        monkeypatch.setattr(owner, name, counted(kind, getattr(owner, name, None)), raising=False)
    return runs
