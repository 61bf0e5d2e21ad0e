"""Helpers for the auth tests: an ``AuthActions`` driver doing real POSTs with real CSRF tokens.

Every POST carries the CSRF token read from the page it was submitted from,
exactly as a browser does; CSRF protection stays on in every test.
"""
from __future__ import annotations

import base64
import io
import json
import re
import threading
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from phr import custody
from phr.auth.service import SESSION_KEY

PASSWORD = "correct horse battery"
PASSPHRASE = "key file passphrase 42"
DOCTOR = {"country": "Taiwan", "institution": "National Taiwan University Hospital", "licence_no": "TW-MD-123456"}

_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
_CODE = re.compile(r'class="mono recovery-code">([^<]+)<')


@dataclass
class Account:
    """What a user knows after registering: credentials and their recovery kit."""

    email: str
    password: str
    custody: str
    recovery_code: str | None = None
    key_file: bytes | None = None
    passphrase: str | None = None


class AuthActions:
    """Drive the account pages through a test client, like a person with a browser."""

    def __init__(self, client: FlaskClient, app: Flask):
        self.client, self.app = client, app

    def csrf(self, path: str) -> str:
        page = self.client.get(path)
        match = _CSRF.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, form_path: str, data: dict, action: str | None = None, **kw):
        """Submit ``data`` to the form on ``form_path`` (to ``action`` if it posts elsewhere)."""
        return self.client.post(action or form_path, data={"csrf_token": self.csrf(form_path), **data}, **kw)

    def register(self, email: str, *, password: str = PASSWORD, role: str = "patient", custody_mode: str = "platform",
                 passphrase: str | None = None, name: str = "Test User", **extra):
        data = {"email": email, "display_name": name, "password": password, "confirm": password,
                "role": role, "custody": custody_mode, **extra}
        if passphrase:
            data |= {"key_file_passphrase": passphrase, "key_file_confirm": passphrase}
        return self.post("/auth/register", data)

    def register_patient(self, email: str = "ana@example.org", custody_mode: str = "platform", **kw) -> Account:
        """Register, collect the recovery kit (code or key file) and confirm it was saved."""
        passphrase = PASSPHRASE if custody_mode == "self" else None
        resp = self.register(email, custody_mode=custody_mode, passphrase=passphrase, **kw)
        assert resp.status_code == 303 and resp.headers["Location"].endswith("/auth/kit"), resp.get_data(as_text=True)
        account = Account(email.strip().lower(), kw.get("password", PASSWORD), custody_mode, passphrase=passphrase)
        kit_page = self.client.get("/auth/kit").get_data(as_text=True)
        if custody_mode == "platform":
            account.recovery_code = _CODE.search(kit_page).group(1)
        else:
            account.key_file = self.client.get("/auth/kit/key-file.json").data
        assert self.post("/auth/kit", {}, action="/auth/kit/done").status_code == 303
        return account

    def register_doctor(self, email: str = "dr.lin@example.org", **kw) -> Account:
        return self.register_patient(email, role="doctor", name="Dr Lin", **DOCTOR, **kw)

    def login(self, email: str, password: str = PASSWORD):
        return self.post("/auth/login", {"email": email, "password": password})

    def logout(self):
        return self.post("/auth/account", {}, action="/auth/logout")

    def unlock(self, key_file: bytes, passphrase: str = PASSPHRASE):
        return self.post("/auth/unlock", {"passphrase": passphrase,
                                          "key_file": (io.BytesIO(key_file), "keys.json")},
                         content_type="multipart/form-data")

    def cookie_ref(self) -> tuple[str, bytes] | None:
        """The (key_session_id, session_secret) pair the cookie holds, as an attacker stealing it would see it."""
        with self.client.session_transaction() as sess:
            value = sess.get(SESSION_KEY)
        return (value[0], bytes.fromhex(value[1])) if value else None

    def keys(self) -> custody.KeyBundle:
        """The keys this client's login unlocks, through the same path any worker uses."""
        session_id, secret = self.cookie_ref()
        with self.app.app_context():
            return custody.unlocked_keys(session_id, secret)


# ----- key files as version 1 wrote them (and as an attacker can craft them) ----
def v1_key_file(bundle: custody.KeyBundle, passphrase: str, email: str, *, pem: bytes | None = None,
                scrypt_n: int = 2**10) -> bytes:
    """A key file of version 1, exactly as the platform exported it before version 2 (PEM + keystore v3).

    ``pem`` replaces the encrypted PKCS#8 PEM (to plant a crafted one).
    """
    from cryptography.hazmat.primitives import serialization
    from eth_account import Account

    from phr import vault

    pem = pem or bundle.rsa_private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()))
    return json.dumps({
        "format": "phr-key-file", "version": 1, "email": email,
        "rsa_fingerprint": vault.fingerprint(bundle.public_pem), "eth_address": bundle.eth_address,
        "rsa_private_key": pem.decode(),
        "eth_keystore": Account.encrypt(bundle.eth_private, passphrase, kdf="scrypt", iterations=scrypt_n),
    }, indent=2).encode()


def pkcs8_pem(iterations: int, ciphertext: bytes = b"\0" * 1808) -> bytes:
    """An encrypted PKCS#8 PEM (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) with any round count: the attacker's file."""
    def der(tag: int, body: bytes) -> bytes:
        n = len(body)
        size = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes(
            (n.bit_length() + 7) // 8, "big")
        return bytes([tag]) + size + body

    rounds = iterations.to_bytes((iterations.bit_length() + 8) // 8, "big")
    pbkdf2 = der(0x30, bytes.fromhex("06092a864886f70d01050c") + der(
        0x30, der(0x04, b"s" * 16) + der(0x02, rounds) + bytes.fromhex("300c06082a864886f70d02090500")))
    aes = der(0x30, bytes.fromhex("060960864801650304012a") + der(0x04, b"i" * 16))
    algorithm = der(0x30, bytes.fromhex("06092a864886f70d01050d") + der(0x30, pbkdf2 + aes))
    body = base64.encodebytes(der(0x30, algorithm + der(0x04, ciphertext))).decode()
    return f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}-----END ENCRYPTED PRIVATE KEY-----\n".encode()


def parallel_logins(app: Flask, email: str, password: str, n: int) -> list[int]:
    """``n`` browsers post the login form at the same instant; their HTTP statuses.

    Each browser fetches its form (and CSRF token) first, then all wait at a
    barrier and post together, as an attacker firing parallel requests does.
    """
    barrier, statuses, errors = threading.Barrier(n), [], []

    def one() -> None:
        try:
            browser = AuthActions(app.test_client(), app)
            token = browser.csrf("/auth/login")
            barrier.wait(timeout=60)
            statuses.append(browser.client.post("/auth/login", data={
                "csrf_token": token, "email": email, "password": password}).status_code)
        except Exception as exc:  # collected and raised below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return sorted(statuses)


def checks_until_locked(app: Flask, email: str, burst: int) -> tuple[list[int], int]:
    """A burst of ``burst`` parallel wrong logins, then one at a time until refused.

    Returns the burst's statuses and how many attempts in all had their
    password checked (422) before the first sequential refusal (429).
    """
    statuses = parallel_logins(app, email, "wrong password!", burst)
    assert set(statuses) <= {422, 429}, statuses
    checked, browser = statuses.count(422), AuthActions(app.test_client(), app)
    for _ in range(burst):
        status = browser.login(email, "wrong password!").status_code
        if status == 429:
            return statuses, checked
        assert status == 422
        checked += 1
    raise AssertionError("never locked")
