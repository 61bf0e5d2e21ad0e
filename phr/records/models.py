"""Tables of the record lifecycle. Record content is never here: only ciphertext locations and hashes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..models import User, utcnow


class ChainJob(Base):
    """The transactional outbox: one locally signed transaction waiting to be mined and confirmed.

    The transaction is signed in the user's session (their key is only there),
    stored here in the same database transaction as the change it records, and
    broadcast, re-broadcast and confirmed by the anchoring worker.
    ``status``: queued → sent → mined → confirmed, or failed (with ``last_error``).
    """

    __tablename__ = "chain_jobs"
    __table_args__ = (UniqueConstraint("sender", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # anchor | grant | revoke | log | batch
    # None for the platform's own transactions (``batch``: anchorBatch signed by the batcher key).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    record_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"), index=True)
    sender: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(Integer)
    raw_tx: Mapped[bytes] = mapped_column(LargeBinary)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    block_number: Mapped[int | None] = mapped_column(Integer)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    mined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Record(Base):
    """One uploaded or doctor-written FHIR bundle, stored encrypted under ``storage_key``.

    ``id`` is the record's own id (32 random bytes, hex; also its ``Bundle.id``)
    and ``anchor_id`` the id it is anchored under — the same, unless that id was
    taken on chain and the record was re-anchored under a fresh one.
    ``sha256`` is the anchored commitment SHA-256(``salt`` || canonical bundle
    bytes) (plain SHA-256 for records from before salting, whose ``salt`` is
    None) and ``resources_root`` the Merkle root of its salted entries; both are
    cached here, never trusted: pages and proofs recompute them from the bytes
    and compare with the chain. ``contract_address`` names the registry the
    record is anchored in.
    """

    __tablename__ = "records"
    __table_args__ = (Index("ix_records_owner_created", "owner_id", "created_at"),)  # the timeline's pages

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source_format: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    resources_root: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    resource_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # Batch mode only: the owner's EIP-191 signature over the leaf fields (see phr.batchproof).
    owner_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    salt: Mapped[str | None] = mapped_column(String(64))
    contract_address: Mapped[str | None] = mapped_column(String(42))
    anchor_id: Mapped[str] = mapped_column(String(64), index=True, unique=True)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    anchor_job: Mapped[ChainJob | None] = relationship(
        primaryjoin="and_(ChainJob.record_id == Record.id, ChainJob.kind == 'anchor')",
        viewonly=True, uselist=False,
    )
    batch_member: Mapped[BatchMember | None] = relationship(viewonly=True, uselist=False)


class RecordKey(Base):
    """A record's data key wrapped (RSA-OAEP) for one reader. Deleting it ends that reader's access."""

    __tablename__ = "record_keys"
    __table_args__ = (UniqueConstraint("record_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)


class PendingUpload(Base):
    """An imported bundle and its import summary awaiting the patient's confirmation, sealed for the patient alone."""

    __tablename__ = "pending_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source_format: Mapped[str] = mapped_column(String(16))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnchorBatch(Base):
    """One Merkle root of owner-signed record leaves, anchored by one ``anchorBatch`` transaction (``job``)."""

    __tablename__ = "anchor_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    root: Mapped[str] = mapped_column(String(64), unique=True)
    count: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[int] = mapped_column(ForeignKey("chain_jobs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    job: Mapped[ChainJob] = relationship()


class BatchMember(Base):
    """A batch-mode record's place in the anchoring queue, committed with the record itself.

    ``batch_id`` is None while the record waits for the next batch; the worker
    then sets it together with ``leaf_index`` and ``merkle_path`` (JSON list of
    hex siblings) in the same database transaction that stores the signed
    ``anchorBatch`` transaction. If that transaction fails for good, the worker
    clears them again and the record joins a later batch.
    """

    __tablename__ = "batch_members"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("anchor_batches.id"), index=True)
    leaf_index: Mapped[int | None] = mapped_column(Integer)
    merkle_path: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    batch: Mapped[AnchorBatch | None] = relationship()
