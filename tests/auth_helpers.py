"""Helpers for the auth tests: an ``AuthActions`` driver doing real POSTs with real CSRF tokens.

Every POST carries the CSRF token read from the page it was submitted from,
exactly as a browser does; CSRF protection stays on in every test.
"""
from __future__ import annotations

import io
import re
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
