"""Key custody: each user's RSA key and Ethereum key, and who can unlock them.

Plain functions over :mod:`phr.vault` and the database; no Flask request
access. A user's two private keys travel together as a :class:`KeyBundle`,
which is only ever stored wrapped:

* platform-held: under the login password (``User.wrapped_keys``) and under a
  random recovery code shown once (``User.recovery_wrapped_keys``);
* self-held: nowhere on the platform; the user keeps a key file
  (:func:`export_key_file`) and uploads it to unlock (:func:`read_key_file`
  checks every cost in it before :func:`open_key_file` runs any KDF);
* for the length of a login: under a random session secret that lives only in
  the user's signed cookie (:class:`phr.models.KeySession`).
"""
from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from eth_account import Account
from eth_account.messages import encode_defunct
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from . import clock, db, vault
from .models import KeySession

BUNDLE_V1 = 0x01
ETH_KEY_BYTES = 32
KEY_FILE_FORMAT = "phr-key-file"
KEY_FILE_VERSION = 2  # both keys in one Argon2id-wrapped bundle; version 1 (PKCS#8 PEM + keystore) is still read
KEY_FILE_MAX_BYTES = 64 * 1024  # a genuine file is about 4 KB
RECOVERY_CODE_BYTES = 20  # 160 bits -> 32 base32 characters
RECOVERY_GROUP = 4
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)  # record activity at most this often (one DB write per minute per login)
# Version 1 keystores: the scrypt costs eth-account wrote for this platform (n = 2**18 at most, r = 8, p = 1).
_MAX_SCRYPT_N = 2**18
_SCRYPT_R, _SCRYPT_P, _SCRYPT_DKLEN = 8, 1, 32

NOT_A_KEY_FILE = _l("This is not a PHR key file, or it asks for more work than a PHR key file needs.")
WRONG_PASSPHRASE = _l("The key file passphrase is incorrect.")
FOREIGN_KEY_FILE = _l("This key file belongs to another account.")

_PASSWORD_AAD = b"phr-keys:password:v1"
_RECOVERY_AAD = b"phr-keys:recovery:v1"
_KEY_FILE_AAD = b"phr-keys:key-file:v2"


class KeysLocked(Exception):
    """The operation needs the user's private keys and this session has not unlocked them."""


class KeyFileError(Exception):
    """An uploaded key file is malformed, belongs to someone else, or its passphrase is wrong."""


class KeyFileRefused(KeyFileError):
    """An uploaded key file is not one this platform writes (or costs more to open): refused before any KDF."""


@dataclass(frozen=True)
class KdfProfile:
    """Costs of every password-based derivation: key wrapping (key files included) and login hashes."""

    wrap: vault.KdfParams
    password_hash: Parameters


KDF_PROFILES = {
    "strong": KdfProfile(vault.KDF_STRONG, profiles.RFC_9106_LOW_MEMORY),
    "fast": KdfProfile(vault.KDF_FAST, profiles.CHEAPEST),  # tests only
}


@dataclass(frozen=True)
class KeyBundle:
    """A user's two private keys: RSA (records) and secp256k1 (chain transactions)."""

    rsa_private: vault.PrivateKey
    eth_private: bytes

    @classmethod
    def generate(cls) -> KeyBundle:
        """A fresh RSA-3072 key and a fresh Ethereum account."""
        return cls(vault.generate_rsa_key(), bytes(Account.create().key))

    def to_bytes(self) -> bytes:
        """``0x01 | len(der) (2) | RSA PKCS#8 DER | eth key (32)``: plaintext, only for wrapping."""
        der = vault.private_der(self.rsa_private)
        return bytes([BUNDLE_V1]) + len(der).to_bytes(2, "big") + der + self.eth_private

    @classmethod
    def from_bytes(cls, data: bytes, *, authenticated: bool = False) -> KeyBundle:
        """Parse :meth:`to_bytes`; ``ValueError`` if malformed (``authenticated``: see vault.load_private_der)."""
        if len(data) < 3 + ETH_KEY_BYTES or data[0] != BUNDLE_V1:
            raise ValueError("not a key bundle")
        n = int.from_bytes(data[1:3], "big")
        if len(data) != 3 + n + ETH_KEY_BYTES:
            raise ValueError("not a key bundle")
        return cls(vault.load_private_der(data[3:3 + n], authenticated=authenticated), data[3 + n:])

    @property
    def public_pem(self) -> bytes:
        """PEM of the RSA public key."""
        return vault.public_pem(self.rsa_private)

    @property
    def eth_address(self) -> str:
        """Checksummed Ethereum address of the secp256k1 key."""
        return Account.from_key(self.eth_private).address

    def matches(self, rsa_public_pem: str, eth_address: str) -> bool:
        """Prove both private keys work and belong to these public identities.

        Seals a random challenge to ``rsa_public_pem`` and opens it with the
        private key, and signs a random message whose signer must recover to
        ``eth_address``.
        """
        challenge = vault.generate_key()
        aad = b"phr-key-check:v1"
        sealed = vault.seal(challenge, aad, {"me": vault.load_public_pem(rsa_public_pem.encode())})
        try:
            opened = vault.open_sealed(sealed.ciphertext, sealed.wrapped_keys["me"], self.rsa_private, aad)
        except vault.VaultError:
            return False
        message = encode_defunct(primitive=challenge)
        signer = Account.recover_message(message, signature=Account.sign_message(message, self.eth_private).signature)
        return opened == challenge and signer.lower() == eth_address.lower()


# ----- login passwords ---------------------------------------------------------
def hash_password(password: str, profile: KdfProfile) -> str:
    """Argon2id hash for login checks (independent of the key-wrapping salt)."""
    return PasswordHasher.from_parameters(profile.password_hash).hash(password)


def verify_password(password_hash: str | None, password: str, profile: KdfProfile) -> bool:
    """True if ``password`` matches; with no hash (unknown user) burns the same time and returns False."""
    hasher = PasswordHasher.from_parameters(profile.password_hash)
    if password_hash is None:
        hasher.hash(password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# ----- platform-held wrapping --------------------------------------------------
def wrap_for_password(bundle: KeyBundle, password: str, profile: KdfProfile) -> bytes:
    """The bundle under the login password (``User.wrapped_keys``)."""
    return vault.wrap_secret(bundle.to_bytes(), password, _PASSWORD_AAD, profile.wrap)


def unwrap_with_password(blob: bytes, password: str) -> KeyBundle:
    """Open ``User.wrapped_keys``; ``vault.VaultError`` on a wrong password."""
    return KeyBundle.from_bytes(vault.unwrap_secret(blob, password, _PASSWORD_AAD))


def new_recovery_code() -> str:
    """A random 160-bit recovery code: 8 groups of 4 base32 characters (A-Z, 2-7)."""
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode()
    return "-".join(raw[i:i + RECOVERY_GROUP] for i in range(0, len(raw), RECOVERY_GROUP))


def normalise_recovery_code(code: str) -> str:
    """Canonical form of a typed code: upper case, 0/1/8 read as O/L/B, grouped with dashes."""
    cleaned = "".join(c for c in code.upper() if c.isalnum()).translate(str.maketrans("018", "OLB"))
    return "-".join(cleaned[i:i + RECOVERY_GROUP] for i in range(0, len(cleaned), RECOVERY_GROUP))


def wrap_for_recovery(bundle: KeyBundle, code: str, profile: KdfProfile) -> bytes:
    """The bundle under the recovery code (``User.recovery_wrapped_keys``)."""
    return vault.wrap_secret(bundle.to_bytes(), normalise_recovery_code(code), _RECOVERY_AAD, profile.wrap)


def unwrap_with_recovery(blob: bytes, code: str) -> KeyBundle:
    """Open ``User.recovery_wrapped_keys``; ``vault.VaultError`` on a wrong code."""
    return KeyBundle.from_bytes(vault.unwrap_secret(blob, normalise_recovery_code(code), _RECOVERY_AAD))


def spend_recovery_work(profile: KdfProfile) -> None:
    """The KDF work of :func:`unwrap_with_recovery`, for a recovery that has nothing to unwrap (unknown email)."""
    vault.spend_unwrap_work("-", profile.wrap)


# ----- self-held key file ------------------------------------------------------
@dataclass(frozen=True)
class KeyFile:
    """An uploaded key file, parsed and its costs checked, not yet opened.

    Version 2 holds ``keys``, the bundle under :func:`vault.wrap_secret` (one
    Argon2id derivation protects both keys). Version 1 holds an encrypted
    PKCS#8 PEM (``legacy_pem``) and an Ethereum keystore v3 (``legacy_keystore``).
    """

    version: int
    keys: bytes = b""
    legacy_pem: vault.LegacyPem | None = None
    legacy_keystore: dict | None = None

    @property
    def outdated(self) -> bool:
        """An older version, whose owner should make a new file (a reissue writes the current version)."""
        return self.version < KEY_FILE_VERSION


def export_key_file(bundle: KeyBundle, passphrase: str, email: str, profile: KdfProfile) -> bytes:
    """A JSON key file (version 2): the key bundle wrapped under ``passphrase`` with the profile's Argon2id."""
    doc = {
        "format": KEY_FILE_FORMAT,
        "version": KEY_FILE_VERSION,
        "email": email,
        "rsa_fingerprint": vault.fingerprint(bundle.public_pem),
        "eth_address": bundle.eth_address,
        "keys": base64.b64encode(vault.wrap_secret(bundle.to_bytes(), passphrase, _KEY_FILE_AAD,
                                                   profile.wrap)).decode(),
    }
    return json.dumps(doc, indent=2).encode()


def read_key_file(data: bytes) -> KeyFile:
    """Parse an uploaded key file and check every KDF parameter in it; no key derivation runs here.

    ``KeyFileRefused`` unless it is a key file this platform writes, with costs
    no higher than the platform's own (so opening it costs no more than opening a genuine file).
    """
    try:
        if len(data) > KEY_FILE_MAX_BYTES:
            raise ValueError("too large for a key file")
        doc = json.loads(data)
        if doc["format"] != KEY_FILE_FORMAT or type(doc["version"]) is not int:
            raise ValueError("not a PHR key file")
        if doc["version"] == KEY_FILE_VERSION:
            keys = base64.b64decode(doc["keys"], validate=True)
            vault.secret_kdf_params(keys)
            return KeyFile(KEY_FILE_VERSION, keys=keys)
        if doc["version"] == 1:
            keystore = doc["eth_keystore"]
            _check_legacy_keystore(keystore)
            return KeyFile(1, legacy_pem=vault.parse_legacy_pem(doc["rsa_private_key"].encode()),
                           legacy_keystore=keystore)
        raise ValueError("unknown key file version")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise KeyFileRefused(NOT_A_KEY_FILE) from exc


def open_key_file(key_file: KeyFile, passphrase: str) -> KeyBundle:
    """Run the (checked) KDF of ``key_file`` and return its keys; ``KeyFileError`` on a wrong passphrase."""
    try:
        if key_file.version == KEY_FILE_VERSION:
            return KeyBundle.from_bytes(vault.unwrap_secret(key_file.keys, passphrase, _KEY_FILE_AAD))
        return KeyBundle(vault.open_legacy_pem(key_file.legacy_pem, passphrase),
                         bytes(Account.decrypt(key_file.legacy_keystore, passphrase)))
    except (vault.VaultError, ValueError, KeyError, TypeError) as exc:  # eth-account: wrong MAC or odd fields
        raise KeyFileError(WRONG_PASSPHRASE) from exc


def import_key_file(data: bytes, passphrase: str, rsa_public_pem: str, eth_address: str) -> KeyBundle:
    """Read and open a key file and check it holds the keys of ``rsa_public_pem``/``eth_address``.

    ``KeyFileError`` (with a message fit for the user) if it is not a key
    file (``KeyFileRefused``), the passphrase is wrong, or the keys are someone else's.
    """
    return check_key_file_owner(open_key_file(read_key_file(data), passphrase), rsa_public_pem, eth_address)


def check_key_file_owner(bundle: KeyBundle, rsa_public_pem: str, eth_address: str) -> KeyBundle:
    """``bundle`` if it holds the keys of ``rsa_public_pem``/``eth_address``; ``KeyFileError`` otherwise."""
    if not bundle.matches(rsa_public_pem, eth_address):
        raise KeyFileError(FOREIGN_KEY_FILE)
    return bundle


def _check_legacy_keystore(keystore: dict) -> None:
    """A version-1 Ethereum keystore must be v3 scrypt with at most the costs eth-account wrote for us."""
    crypto = keystore["crypto"]
    params = crypto["kdfparams"]
    n, r, p, dklen = params["n"], params["r"], params["p"], params["dklen"]
    if not all(type(v) is int for v in (n, r, p, dklen)) or keystore["version"] != 3 or crypto["kdf"] != "scrypt":
        raise ValueError("not the keystore this platform writes")
    if not (2 <= n <= _MAX_SCRYPT_N and n & (n - 1) == 0 and r == _SCRYPT_R and p == _SCRYPT_P
            and dklen == _SCRYPT_DKLEN and type(params["salt"]) is str and len(params["salt"]) <= 64):
        raise ValueError("keystore scrypt parameters outside what this platform writes")


# ----- key sessions ------------------------------------------------------------
def open_key_session(user_id: int, bundle: KeyBundle | None, *, now: datetime | None = None,
                     absolute: timedelta = ABSOLUTE_TIMEOUT) -> tuple[str, bytes]:
    """Start a login; returns ``(key_session_id, session_secret)`` for the cookie, and nothing else keeps the secret.

    With a ``bundle`` the keys are unlocked at once (platform-held login);
    without, they stay locked until :func:`attach_keys` (self-held unlock).
    """
    now = now or clock.now()
    session_id, secret = secrets.token_urlsafe(32), vault.generate_key()
    row = KeySession(id=session_id, user_id=user_id, created_at=now, last_used_at=now, expires_at=now + absolute)
    if bundle is not None:
        row.ciphertext = vault.wrap_with_key(bundle.to_bytes(), secret, _session_aad(session_id, user_id))
    dbs = db.session()
    dbs.execute(delete(KeySession).where(KeySession.expires_at < now))
    dbs.add(row)
    dbs.commit()
    return session_id, secret


def live_key_session(session_id: str, user_id: int, *, now: datetime | None = None,
                     idle: timedelta = IDLE_TIMEOUT) -> bool:
    """True while the login ``session_id`` of ``user_id`` exists and is neither idle nor past its end.

    Records the use (so it stays alive) and deletes it once expired.
    """
    row = _live_row(session_id, now or clock.now(), idle)
    return row is not None and row.user_id == user_id


def unlocked_keys(session_id: str, session_secret: bytes, *, now: datetime | None = None,
                  idle: timedelta = IDLE_TIMEOUT) -> KeyBundle:
    """The key bundle of a live, unlocked key session; ``KeysLocked`` otherwise (expired, logged out, wrong secret)."""
    row = _live_row(session_id, now or clock.now(), idle)
    if row is None or row.ciphertext is None:
        raise KeysLocked("keys are locked")
    try:
        # Every request of a logged-in user lands here: the bundle was validated when the session was opened and
        # has just been authenticated by AES-GCM, so the costly RSA key check is not repeated per request.
        return KeyBundle.from_bytes(
            vault.unwrap_with_key(row.ciphertext, session_secret, _session_aad(row.id, row.user_id)),
            authenticated=True)
    except (vault.VaultError, ValueError) as exc:
        raise KeysLocked("keys are locked") from exc


def attach_keys(session_id: str, session_secret: bytes, bundle: KeyBundle) -> None:
    """Unlock an existing key session with a bundle (after a key-file upload or a password re-entry)."""
    row = db.session().get(KeySession, session_id)
    if row is None:
        raise KeysLocked("session has ended")
    row.ciphertext = vault.wrap_with_key(bundle.to_bytes(), session_secret, _session_aad(row.id, row.user_id))
    db.session().commit()


def set_kit(session_id: str, session_secret: bytes, kit: dict[str, str] | None) -> None:
    """Keep the one-time recovery kit (code and/or key file) for this login only, or forget it (``None``)."""
    row = db.session().get(KeySession, session_id)
    if row is None:
        raise KeysLocked("session has ended")
    row.kit = None if kit is None else vault.wrap_with_key(
        json.dumps(kit).encode(), session_secret, b"phr-kit:v1:" + session_id.encode())
    db.session().commit()


def read_kit(session_id: str, session_secret: bytes) -> dict[str, str] | None:
    """The recovery kit kept by :func:`set_kit`, or ``None`` once saved or if the session is gone."""
    row = db.session().get(KeySession, session_id)
    if row is None or row.kit is None:
        return None
    try:
        return json.loads(vault.unwrap_with_key(row.kit, session_secret, b"phr-kit:v1:" + session_id.encode()))
    except vault.VaultError:
        return None


def close_key_session(session_id: str) -> None:
    """Forget a login: its keys can no longer be unlocked by anyone, even with the cookie."""
    db.session().execute(delete(KeySession).where(KeySession.id == session_id))
    db.session().commit()


def close_other_key_sessions(user_id: int, keep: str | None = None) -> None:
    """End every login of ``user_id`` except ``keep`` (after a password change or a recovery)."""
    db.session().execute(delete(KeySession).where(KeySession.user_id == user_id, KeySession.id != (keep or "")))
    db.session().commit()


def _live_row(session_id: str, now: datetime, idle: timedelta) -> KeySession | None:
    dbs = db.session()
    row = dbs.execute(select(KeySession).where(KeySession.id == session_id)).scalar_one_or_none()
    if row is None:
        return None
    if clock.aware(row.expires_at) <= now or clock.aware(row.last_used_at) + idle <= now:
        dbs.delete(row)
        dbs.commit()
        return None
    if now - clock.aware(row.last_used_at) >= TOUCH_EVERY:
        row.last_used_at = now
        dbs.commit()
    return row


def _session_aad(session_id: str, user_id: int) -> bytes:
    return f"phr-key-session:v1:{session_id}:{user_id}".encode()
