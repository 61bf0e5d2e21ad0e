"""An attacker with a copy of the database and of every sealed object, but no password, key file or cookie.

They also know SECRET_KEY (a server-config leak) and every format in this
codebase. Nothing they hold decrypts anything; the legitimate owners still can.
"""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from auth_helpers import PASSWORD, AuthActions

from phr import custody, vault
from phr.custody import KeyBundle

USERS = [("ana@example.org", "platform"), ("ben@example.org", "platform"), ("sam@example.org", "self"),
         ("dr.lin@example.org", "platform")]


def aad(record_id: str) -> bytes:
    return b"phr-record:v1:" + record_id.encode()


@pytest.fixture
def world(app, tmp_path):
    """Four users logged in (one self-held, unlocked with the key file), two records per patient shared with the doctor."""
    browsers, accounts = {}, {}
    for email, mode in USERS:
        actions = AuthActions(app.test_client(), app)
        if email.startswith("dr."):
            accounts[email] = actions.register_doctor(email)
        else:
            accounts[email] = actions.register_patient(email, custody_mode=mode)
        browsers[email] = actions
    browsers["sam@example.org"].logout()
    browsers["sam@example.org"].login("sam@example.org")
    browsers["sam@example.org"].unlock(accounts["sam@example.org"].key_file)

    keys = {email: b.keys() for email, b in browsers.items()}
    doctor_pub = keys["dr.lin@example.org"].rsa_private.public_key()
    objects = tmp_path / "objects"
    objects.mkdir()
    records = {}
    for email in ("ana@example.org", "ben@example.org", "sam@example.org"):
        for n in range(2):
            record_id = f"{email.split('@')[0]}-{n}"
            plaintext = f"Observation {n} of {email}: glucose {90 + n} mg/dL".encode()
            sealed = vault.seal(plaintext, aad(record_id), {"owner": keys[email].rsa_private.public_key(),
                                                            "doctor": doctor_pub})
            (objects / f"{record_id}.bin").write_bytes(sealed.ciphertext)
            records[record_id] = (email, plaintext, sealed)
    return {"browsers": browsers, "keys": keys, "records": records, "objects": objects}


def test_a_dump_of_the_database_and_object_store_decrypts_nothing(app, tmp_path, world):
    # ---- the attacker's copy: database files and sealed objects, nothing else ----
    db_file = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    for f in db_file.parent.glob(db_file.name + "*"):
        shutil.copy(f, stolen / f.name)
    dump_bytes = b"".join(f.read_bytes() for f in stolen.iterdir())
    con = sqlite3.connect(stolen / db_file.name)
    users = con.execute("SELECT id, email, display_name, wrapped_keys, recovery_wrapped_keys FROM users").fetchall()
    sessions = con.execute("SELECT id, user_id, ciphertext, kit FROM key_sessions").fetchall()
    con.close()
    objects = {p.stem: p.read_bytes() for p in world["objects"].iterdir()}
    wrapped_data_keys = [(rid, w) for rid, (_, _, s) in world["records"].items() for w in s.wrapped_keys.values()]
    assert len(users) == 4 and len(sessions) == 4 and len(objects) == 6

    secret_key = app.config["SECRET_KEY"]
    blobs = [b for _, _, _, w, r in users for b in (w, r) if b] + [b for _, _, c, k in sessions for b in (c, k) if b]
    blobs += [w for _, w in wrapped_data_keys] + list(objects.values())
    assert len(blobs) == 3 * 2 + 4 + 6 * 2 + 6  # 3 platform users x 2, 4 sessions, 12 wrapped keys, 6 objects

    # 1. Password-wrapped key bundles against obvious guesses.
    guesses = ["", "password", "123456", secret_key]
    for _, email, name, wrapped, recovery in users:
        for blob in (wrapped, recovery):
            if blob is None:
                continue
            for guess in guesses + [email, email.split("@")[0], name]:
                for opener in (custody.unwrap_with_password, custody.unwrap_with_recovery):
                    with pytest.raises(vault.VaultError):
                        opener(blob, guess)

    # 2. Session ciphertexts against keys derivable from what the attacker has.
    candidate_keys = [hashlib.sha256(secret_key.encode()).digest(), secret_key.encode()[:32].ljust(32, b"\0"),
                      bytes(32)]
    for blob in blobs:  # every stored blob, read as key material
        candidate_keys += [blob[:32], blob[-32:]] if len(blob) >= 32 else []
    for session_id, user_id, ciphertext, kit in sessions:
        keys = candidate_keys + [hashlib.sha256(session_id.encode()).digest()]
        for key in keys:
            with pytest.raises(vault.VaultError):
                vault.unwrap_with_key(ciphertext, key, custody._session_aad(session_id, user_id))
            if kit:
                with pytest.raises(vault.VaultError):
                    vault.unwrap_with_key(kit, key, b"phr-kit:v1:" + session_id.encode())

    # 3. Sealed records: every blob as a raw data key, and any private key the attacker can find or make.
    for record_id, ciphertext in objects.items():
        for key in candidate_keys:
            with pytest.raises(vault.VaultError):
                vault._open_envelope(key, ciphertext, aad(record_id))
    found_private_keys = []
    for blob in blobs:
        for parse in (KeyBundle.from_bytes, vault.load_private_der):
            try:
                found_private_keys.append(parse(blob))
            except ValueError:
                pass
    assert found_private_keys == []
    attacker_key = vault.generate_rsa_key()
    for record_id, wrapped in wrapped_data_keys:
        with pytest.raises(vault.VaultError):
            vault.open_sealed(objects[record_id], wrapped, attacker_key, aad(record_id))

    # 4. No private key in the clear anywhere in the database files.
    assert b"PRIVATE KEY" not in dump_bytes
    for bundle in world["keys"].values():
        assert bundle.eth_private not in dump_bytes
        assert bundle.eth_private.hex().encode() not in dump_bytes
        assert vault.private_der(bundle.rsa_private)[-64:] not in dump_bytes
    assert PASSWORD.encode() not in dump_bytes

    # Control: the same data is readable by its owners and by the doctor they shared it with.
    for record_id, (email, plaintext, sealed) in world["records"].items():
        owner = world["browsers"][email].keys().rsa_private
        doctor = world["browsers"]["dr.lin@example.org"].keys().rsa_private
        assert vault.open_sealed(objects[record_id], sealed.wrapped_keys["owner"], owner, aad(record_id)) == plaintext
        assert vault.open_sealed(objects[record_id], sealed.wrapped_keys["doctor"], doctor, aad(record_id)) == plaintext
