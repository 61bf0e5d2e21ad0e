"""Accounts: registration, login, password change, recovery and key unlocking.

The functions in the first part take explicit arguments and raise domain
exceptions; they never touch the request or the cookie. The last part is the
request glue other blueprints use: :func:`current_keys` and
:func:`role_required`, which read the login's key-session pointer from the
signed cookie.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import abort, current_app, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import custody, db, vault
from ..custody import KeyBundle, KeyFile, KeyFileError, KeyFileRefused, KeysLocked
from ..models import CUSTODY_MODES, User

__all__ = [
    "AuthError", "EmailTaken", "InvalidCredentials", "KeyFile", "KeyFileError", "KeyFileRefused", "KeySessionRef",
    "KeysLocked", "Login", "acknowledge_kit", "authenticate", "change_password", "current_keys", "keys_unlocked",
    "load_user", "logout", "normalise_email", "pending_kit", "read_key_file", "recover", "register", "role_required",
    "session_ref", "unlock_with_key_file", "user_by_id",
]

SIGNUP_ROLES = ("patient", "doctor")  # validator operators are created by an administrator, not by sign-up
BAD_LOGIN = _l("Email or password is incorrect.")
BAD_RECOVERY = _l("Email or recovery details are incorrect.")
SESSION_KEY = "ks"


class AuthError(Exception):
    """A refusal whose message can be shown to the user as is."""


class EmailTaken(AuthError):
    """An account with this email already exists."""


class InvalidCredentials(AuthError):
    """Email, password, recovery code or key file did not match (never says which)."""


@dataclass(frozen=True)
class KeySessionRef:
    """What the cookie holds for a login: the key-session id and its secret."""

    id: str
    secret: bytes


@dataclass(frozen=True)
class Login:
    """A successful registration, login or recovery: the user and their new key session."""

    user: User
    key_session: KeySessionRef


def normalise_email(email: str) -> str:
    """Emails are compared stripped and lower-cased."""
    return email.strip().lower()


def user_by_id(user_id: int) -> User | None:
    """The user with this id, or ``None``."""
    return db.session().get(User, user_id)


def _user_by_email(email: str) -> User | None:
    return db.session().execute(select(User).where(User.email == normalise_email(email))).scalar_one_or_none()


def _profile() -> custody.KdfProfile:
    return custody.KDF_PROFILES[current_app.config["KDF_PROFILE"]]


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["KEY_SESSION_IDLE_MINUTES"])


def _absolute() -> timedelta:
    return timedelta(hours=current_app.config["KEY_SESSION_MAX_HOURS"])


def _start(user: User, bundle: KeyBundle | None, kit: dict[str, str] | None = None) -> Login:
    session_id, secret = custody.open_key_session(user.id, bundle, absolute=_absolute())
    if kit:
        custody.set_kit(session_id, secret, kit)
    return Login(user, KeySessionRef(session_id, secret))


def register(*, email: str, password: str, role: str, display_name: str, custody_mode: str,
             key_file_passphrase: str | None = None, country: str | None = None,
             institution: str | None = None, licence_no: str | None = None,
             allowed_roles: tuple[str, ...] = SIGNUP_ROLES) -> Login:
    """Create an account with fresh keys and log it in.

    Platform custody wraps the keys under the password and a new recovery
    code; self custody stores only the public keys and prepares a key file
    under ``key_file_passphrase``. Either way the one-time recovery kit is
    kept with the new key session (see :func:`pending_kit`).
    ``allowed_roles`` is what public sign-up offers; only the administrator's
    ``create-validator`` command passes ``("validator",)``.
    Raises ``EmailTaken``; ``ValueError`` on a role or custody mode not offered.
    """
    if role not in allowed_roles or custody_mode not in CUSTODY_MODES:
        raise ValueError("unsupported role or custody mode")
    if custody_mode == "self" and not key_file_passphrase:
        raise ValueError("self custody needs a key-file passphrase")
    email = normalise_email(email)
    if _user_by_email(email) is not None:
        raise EmailTaken(_("An account with this email already exists."))
    profile = _profile()
    bundle = KeyBundle.generate()
    user = User(
        email=email, role=role, display_name=display_name.strip(), custody=custody_mode,
        country=country or None, institution=institution or None, licence_no=licence_no or None,
        password_hash=custody.hash_password(password, profile),
        rsa_public_pem=bundle.public_pem.decode(), eth_address=bundle.eth_address,
    )
    if custody_mode == "platform":
        code = custody.new_recovery_code()
        user.wrapped_keys = custody.wrap_for_password(bundle, password, profile)
        user.recovery_wrapped_keys = custody.wrap_for_recovery(bundle, code, profile)
        kit = {"recovery_code": code}
    else:
        kit = {"key_file": custody.export_key_file(bundle, key_file_passphrase, email, profile).decode()}
    dbs = db.session()
    dbs.add(user)
    try:
        dbs.commit()
    except IntegrityError as exc:
        dbs.rollback()
        raise EmailTaken(_("An account with this email already exists.")) from exc
    return _start(user, bundle, kit)


def authenticate(email: str, password: str) -> Login:
    """Check the password and start a key session; platform-held keys are unlocked with the same password.

    Raises ``InvalidCredentials`` with one generic message whatever was wrong.
    """
    user = _user_by_email(email)
    if not custody.verify_password(user.password_hash if user else None, password, _profile()):
        raise InvalidCredentials(BAD_LOGIN)
    bundle = custody.unwrap_with_password(user.wrapped_keys, password) if user.custody == "platform" else None
    return _start(user, bundle)


def read_key_file(data: bytes) -> KeyFile:
    """Parse an uploaded key file, checking its KDF costs before anything else; ``KeyFileRefused`` (HTTP 400)."""
    return custody.read_key_file(data)


def unlock_with_key_file(user: User, ref: KeySessionRef, key_file: KeyFile, passphrase: str) -> None:
    """Self custody: open the uploaded key file and unlock this login's keys. Raises ``KeyFileError``."""
    bundle = custody.check_key_file_owner(custody.open_key_file(key_file, passphrase), user.rsa_public_pem,
                                          user.eth_address)
    custody.attach_keys(ref.id, ref.secret, bundle)


def change_password(user: User, current_password: str, new_password: str, keep: KeySessionRef) -> None:
    """Set a new password and re-wrap platform-held keys under it; end the user's other logins.

    Records are untouched (their data keys are wrapped to the RSA key, which
    does not change). Raises ``InvalidCredentials`` if ``current_password`` is wrong.
    """
    profile = _profile()
    if not custody.verify_password(user.password_hash, current_password, profile):
        raise InvalidCredentials(_("Current password is incorrect."))
    if user.custody == "platform":
        bundle = custody.unwrap_with_password(user.wrapped_keys, current_password)
        user.wrapped_keys = custody.wrap_for_password(bundle, new_password, profile)
    user.password_hash = custody.hash_password(new_password, profile)
    db.session().commit()
    custody.close_other_key_sessions(user.id, keep=keep.id)


def reissue_key_file(user: User, bundle: KeyBundle, current_password: str, passphrase: str,
                     ref: KeySessionRef) -> None:
    """Self custody: put this login's unlocked keys (``bundle``) in a new key file under ``passphrase``.

    The file waits in this login's recovery kit until the user has saved it.
    Nothing is stored on the platform, so the old file keeps opening with the
    old passphrase until its owner destroys it. Raises ``InvalidCredentials``
    if ``current_password`` is wrong, ``KeysLocked`` if ``bundle`` is not the user's.
    """
    profile = _profile()
    if not custody.verify_password(user.password_hash, current_password, profile):
        raise InvalidCredentials(_("Current password is incorrect."))
    if not bundle.matches(user.rsa_public_pem, user.eth_address):
        raise KeysLocked("keys in this session are not the user's")
    kit = {"key_file": custody.export_key_file(bundle, passphrase, user.email, profile).decode(), "reissued": "1"}
    custody.set_kit(ref.id, ref.secret, kit)


def recover(email: str, new_password: str, *, recovery_code: str = "", key_file: KeyFile | None = None,
            passphrase: str = "") -> Login:
    """Set a new password from the recovery material, end every other login, and log in.

    Platform custody: the recovery code opens the keys, which are re-wrapped
    under the new password and under a fresh recovery code (returned in the
    new kit; the old code stops working). Self custody: the key file (read by
    :func:`read_key_file`) and its passphrase prove ownership. A code, when
    given, is what is tried. Raises
    ``InvalidCredentials`` generically, after the same KDF work whether or not
    the email has an account of that custody (so timing does not tell).
    """
    user = _user_by_email(email)
    profile = _profile()
    kit = None
    try:
        if key_file is not None and not recovery_code:
            bundle = custody.open_key_file(key_file, passphrase)
            if user is None or user.custody != "self":
                raise InvalidCredentials(BAD_RECOVERY)
            custody.check_key_file_owner(bundle, user.rsa_public_pem, user.eth_address)
        elif user is None or user.custody != "platform":
            custody.spend_recovery_work(profile)
            raise InvalidCredentials(BAD_RECOVERY)
        else:
            bundle = custody.unwrap_with_recovery(user.recovery_wrapped_keys, recovery_code)
            code = custody.new_recovery_code()
            user.wrapped_keys = custody.wrap_for_password(bundle, new_password, profile)
            user.recovery_wrapped_keys = custody.wrap_for_recovery(bundle, code, profile)
            kit = {"recovery_code": code}
    except (vault.VaultError, KeyFileError) as exc:
        raise InvalidCredentials(BAD_RECOVERY) from exc
    user.password_hash = custody.hash_password(new_password, profile)
    db.session().commit()
    custody.close_other_key_sessions(user.id)
    return _start(user, bundle, kit)


def logout(ref: KeySessionRef | None) -> None:
    """End the login: delete its key session so the cookie can no longer unlock anything."""
    if ref is not None:
        custody.close_key_session(ref.id)


def load_user(user_id: str, ref: KeySessionRef | None) -> User | None:
    """The logged-in user, only while their key session is alive (so logout and expiry are server-side)."""
    if ref is None or not user_id.isdigit():
        return None
    if not custody.live_key_session(ref.id, int(user_id), idle=_idle()):
        return None
    return user_by_id(int(user_id))


def keys_unlocked(user: User, ref: KeySessionRef | None) -> bool:
    """True if this login can unlock the user's keys and they prove to be the user's (seal/open + sign/recover)."""
    if ref is None:
        return False
    try:
        bundle = custody.unlocked_keys(ref.id, ref.secret, idle=_idle())
    except KeysLocked:
        return False
    return bundle.matches(user.rsa_public_pem, user.eth_address)


def pending_kit(ref: KeySessionRef | None) -> dict[str, str] | None:
    """The recovery kit not yet saved in this login (``recovery_code`` and/or ``key_file``), else ``None``."""
    return custody.read_kit(ref.id, ref.secret) if ref else None


def acknowledge_kit(ref: KeySessionRef) -> None:
    """The user has saved the kit: forget it for good."""
    custody.set_kit(ref.id, ref.secret, None)


# ----- request glue for other blueprints ---------------------------------------
def session_ref() -> KeySessionRef | None:
    """The key-session pointer stored in the signed cookie, if any."""
    value = session.get(SESSION_KEY)
    try:
        return KeySessionRef(value[0], bytes.fromhex(value[1]))
    except (TypeError, IndexError, ValueError):
        return None


def current_keys() -> KeyBundle:
    """The current user's private keys, unwrapped for this request only.

    Raises ``KeysLocked`` when nobody is logged in, the login has expired, or a
    self-held user has not uploaded their key file in this session; the auth
    blueprint turns that into a redirect to the unlock page (or a 403 for htmx).
    """
    ref = session_ref()
    if ref is None or not current_user.is_authenticated:
        raise KeysLocked("not logged in")
    return custody.unlocked_keys(ref.id, ref.secret, idle=_idle())


def role_required(role: str) -> Callable:
    """View decorator: log in first, then 403 unless the user has ``role``."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role != role:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
