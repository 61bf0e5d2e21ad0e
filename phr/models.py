"""Database tables. Secrets never appear here in plaintext: private keys are stored wrapped."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base


def utcnow() -> datetime:
    """Timezone-aware now, for column defaults."""
    return datetime.now(timezone.utc)


class User(Base):
    """A patient, doctor or validator operator, with their public keys."""

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
