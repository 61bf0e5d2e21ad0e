"""Database tables. Secrets never appear here in plaintext: private keys are stored wrapped."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from .clock import (
    now as utcnow,  # column defaults (records and sharing models import it from here)
)
from .db import Base

CUSTODY_MODES = ("platform", "self")


class User(UserMixin, Base):
    """A patient, doctor or validator operator, with their public keys.

    ``custody`` is ``platform`` (the key bundle is stored wrapped under the
    password and, separately, under the recovery code) or ``self`` (only the
    public key and address are stored; the user holds the key file).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(16))  # patient | doctor | validator
    display_name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(100))
    institution: Mapped[str | None] = mapped_column(String(200))
    licence_no: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    rsa_public_pem: Mapped[str] = mapped_column(Text)
    eth_address: Mapped[str] = mapped_column(String(42), unique=True, index=True)
    custody: Mapped[str] = mapped_column(String(16))  # platform | self
    wrapped_keys: Mapped[bytes | None] = mapped_column(LargeBinary)
    recovery_wrapped_keys: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KeySession(Base):
    """One login: a random id in the user's cookie, and what only that cookie's secret opens.

    ``ciphertext`` is the user's key bundle under the cookie's session secret
    (``None`` while a self-held user has not unlocked); ``kit`` is the one-time
    recovery kit / key file under the same secret, until the user has saved it.
    """

    __tablename__ = "key_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    kit: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """One failed login, recovery or registration attempt, for throttling (see phr.auth.throttle).

    ``pending`` while its password is being checked: it already counts against
    its account, not yet against its address (so many people logging in at once
    behind one address are not taken for a sprayer).
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the normalised email
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
