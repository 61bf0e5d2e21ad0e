"""Tables of sharing. The chain is the authority on who may read; these rows mirror it for listing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..models import User, utcnow
from ..records.models import ChainJob


class Grant(Base):
    """A patient's grant to a doctor: all records (read + add records) or chosen records (read)."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scope: Mapped[str] = mapped_column(String(8))  # all | records
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    grant_job_id: Mapped[int | None] = mapped_column(ForeignKey("chain_jobs.id"))

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    doctor: Mapped[User] = relationship(foreign_keys=[doctor_id])
    grant_job: Mapped[ChainJob | None] = relationship(foreign_keys=[grant_job_id])
    records: Mapped[list[GrantRecord]] = relationship(cascade="all, delete-orphan")


class GrantRecord(Base):
    """One record covered by a ``records``-scope grant."""

    __tablename__ = "grant_records"
    __table_args__ = (UniqueConstraint("grant_id", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"))


class PrivacyTag(Base):
    """An item (bundle entry fullUrl) of a record the patient does not want to reveal, in clear.

    Superseded by :class:`HideRules`: the patient's next keyed change folds these rows into ``item`` rules
    and deletes them (``phr.sharing.redaction.hide_rules``); nothing writes them any more."""

    __tablename__ = "privacy_tags"
    __table_args__ = (UniqueConstraint("record_id", "full_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    full_url: Mapped[str] = mapped_column(String(200))


class HideRules(Base):
    """A patient's hide rules (``phr.sharing.hiding``), sealed for the patient alone: the platform stores them
    but cannot read what is hidden. One row per patient that has ever set a rule."""

    __tablename__ = "hide_rules"

    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class RecordShare(Base):
    """The redacted copy of a tagged record that doctors read instead of the full record."""

    __tablename__ = "record_shares"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ShareKey(Base):
    """A redacted copy's data key wrapped for one doctor."""

    __tablename__ = "share_keys"
    __table_args__ = (UniqueConstraint("record_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("record_shares.record_id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)


class AccessEvent(Base):
    """Who read, wrote, was granted or was revoked what, and the chain transaction that attests it."""

    __tablename__ = "access_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the doctor granted/revoked
    record_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"))
    action: Mapped[str] = mapped_column(String(16))  # read | download | write | grant | revoke
    job_id: Mapped[int | None] = mapped_column(ForeignKey("chain_jobs.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])
    job: Mapped[ChainJob | None] = relationship(foreign_keys=[job_id])
