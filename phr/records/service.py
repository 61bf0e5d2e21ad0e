"""The record lifecycle as plain functions: stage → confirm → seal → store → queue anchor → open → verify.

Ordering guarantees: the ciphertext is stored before any database row exists,
and the record row, its wrapped keys and its signed anchor transaction are
committed together — so there is never a row without an object, nor an
object-backed row that is not queued for anchoring. If that commit fails the
object is deleted again.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from .. import batchproof, clock, commitment, db, merkle, services, vault
from ..anchoring import ID_TAKEN, sign_and_enqueue
from ..custody import KeyBundle
from ..importer import ImportRejected, Note, import_file
from ..importer.fhir import canonical_bytes, validate_bundle
from ..ledger import Anchor, Batch, ChainError, Ledger
from ..models import User
from ..storage import ObjectMissing, StorageError
from . import words
from .models import AnchorBatch, BatchMember, ChainJob, PendingUpload, Record, RecordKey

CONTAINER_MAGIC = b"PHRREC1\n"
DISCLOSURE_KEY_BYTES = 32
PENDING_TTL = timedelta(hours=1)


class RecordError(Exception):
    """A record operation failed for a reason the user should read."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RecordNotFound(RecordError):
    """No such record for this user (also said when the user may not read it, so ids leak nothing)."""

    def __init__(self):
        super().__init__(_("Record not found."))


class StorageUnavailable(RecordError):
    """The object store could not take or return the ciphertext."""


# ----- the sealed container ------------------------------------------------------
def record_aad(record_id: str) -> bytes:
    """Associated data that binds a ciphertext and its wrapped keys to one record id."""
    return b"phr-record:v1:" + record_id.encode()


def pack(disclosure_key: bytes, canonical: bytes) -> bytes:
    """Plaintext of a record object: magic, the secret disclosure key, then the canonical bundle bytes."""
    return CONTAINER_MAGIC + disclosure_key + canonical


def unpack(plain: bytes) -> tuple[bytes, bytes]:
    """Split :func:`pack` output into (disclosure key, canonical bundle bytes)."""
    if not plain.startswith(CONTAINER_MAGIC):
        raise ValueError("not a record container")
    body = plain[len(CONTAINER_MAGIC):]
    return body[:DISCLOSURE_KEY_BYTES], body[DISCLOSURE_KEY_BYTES:]


def entry_leaves(bundle: dict, disclosure_key: bytes) -> list[bytes]:
    """One salted Merkle leaf per bundle entry, in bundle order."""
    return [merkle.salted_leaf(merkle.entry_salt(disclosure_key, e["fullUrl"]), canonical_bytes(e))
            for e in bundle.get("entry", [])]


def resources_root(bundle: dict, disclosure_key: bytes) -> bytes:
    """The Merkle root anchored as ``resourcesRoot`` (all zero for an empty bundle)."""
    leaves = entry_leaves(bundle, disclosure_key)
    return merkle.root(leaves) if leaves else b"\0" * 32


# ----- staging an upload -----------------------------------------------------------
@dataclass(frozen=True)
class Staged:
    """An import awaiting confirmation, as shown to the patient."""

    id: str
    source_format: str
    summary: dict


def stage_upload(user: User, data: bytes, filename: str | None) -> Staged:
    """Import ``data`` and keep the result sealed for ``user`` until they confirm it.

    Raises :class:`~phr.importer.ImportRejected` with a human message for bad input.
    """
    result = import_file(data, filename, max_bytes=current_app.config["MAX_CONTENT_LENGTH"])
    s = result.summary
    summary = {
        "counts": dict(sorted(s.counts.items())), "date_from": s.date_from, "date_to": s.date_to,
        "skipped": [{"section": r.section, "row": r.row_index, **_translatable(r.reason)} for r in s.skipped],
        "notes": [_translatable(note) for note in s.notes],
    }
    staged_id = secrets.token_hex(16)
    aad = b"phr-pending:v1:" + staged_id.encode()
    payload = json.dumps({"summary": summary, "bundle": result.canonical.decode()}).encode()
    sealed = vault.seal(payload, aad, {"owner": vault.load_public_pem(user.rsa_public_pem.encode())})
    session = db.session()
    session.execute(delete(PendingUpload).where(PendingUpload.created_at < clock.now() - PENDING_TTL))
    session.add(PendingUpload(id=staged_id, user_id=user.id, source_format=result.source_format,
                              ciphertext=sealed.ciphertext, wrapped_key=sealed.wrapped_keys["owner"]))
    session.commit()
    return Staged(staged_id, result.source_format, summary)


def _translatable(note: Note) -> dict:
    """A note or skip reason as the preview keeps it: msgid and parameters, so it is shown in the language of
    whoever reads the preview (records/_preview.html); a pending upload staged before notes were kept this way
    has the English text instead (a note as a string, a skipped row's "reason")."""
    return {"msgid": note.msgid, "params": note.params}


def _pending(user: User, staged_id: str) -> PendingUpload:
    row = db.session().get(PendingUpload, staged_id)
    if row is None or row.user_id != user.id or clock.aware(row.created_at) < clock.now() - PENDING_TTL:
        raise RecordError(_("This upload has expired or does not exist. Please upload the file again."))
    return row


def _open_pending(row: PendingUpload, keys: KeyBundle) -> dict:
    aad = b"phr-pending:v1:" + row.id.encode()
    return json.loads(vault.open_sealed(row.ciphertext, row.wrapped_key, keys.rsa_private, aad))


def staged(user: User, staged_id: str, keys: KeyBundle) -> Staged:
    """The summary of a staged upload (decrypted with the user's keys)."""
    row = _pending(user, staged_id)
    return Staged(row.id, row.source_format, _open_pending(row, keys)["summary"])


def discard_upload(user: User, staged_id: str) -> None:
    """Forget a staged upload."""
    session = db.session()
    session.delete(_pending(user, staged_id))
    session.commit()


def confirm_upload(user: User, staged_id: str, keys: KeyBundle) -> Record:
    """Turn a staged upload into a stored, queued-for-anchoring record, readable by its owner (sharing then
    gives doctors what the owner's hide rules let them see)."""
    row = _pending(user, staged_id)
    bundle = json.loads(_open_pending(row, keys)["bundle"])
    record = create_record(owner=user, author=user, author_keys=keys, bundle=bundle,
                           source_format=row.source_format)
    session = db.session()
    session.delete(session.get(PendingUpload, staged_id))
    session.commit()
    return record


# ----- creating a record -----------------------------------------------------------
def create_record(*, owner: User, author: User, author_keys: KeyBundle, bundle: dict, source_format: str,
                  readers: list[User] = ()) -> Record:
    """Seal ``bundle`` for owner, author and ``readers``, store it, and commit the record with its signed anchor tx.

    The bundle gets the record id as ``Bundle.id`` and is validated before
    anything is stored; what is anchored is a salted commitment to its bytes
    (:mod:`phr.commitment`), so the chain confirms no guess of its content.
    """
    record_id = secrets.token_bytes(32).hex()
    bundle = dict(bundle, id=record_id)
    try:
        validate_bundle(bundle)
    except ImportRejected as exc:
        raise RecordError(_(exc.msgid, **exc.params)) from None
    canonical = canonical_bytes(bundle)
    disclosure_key = secrets.token_bytes(DISCLOSURE_KEY_BYTES)
    root = resources_root(bundle, disclosure_key)
    public_keys = {str(u.id): vault.load_public_pem(u.rsa_public_pem.encode()) for u in (owner, author, *readers)}
    sealed = vault.seal(pack(disclosure_key, canonical), record_aad(record_id), public_keys)
    salt = commitment.new_salt()
    digest = commitment.commit(canonical, salt).hex()
    storage_key = f"records/{secrets.token_hex(16)}"

    store = services.storage()
    try:
        store.put(storage_key, sealed.ciphertext)
    except StorageError as exc:
        raise StorageUnavailable(_("The record could not be stored (%(error)s). Nothing was saved; please try again "
                                   "later.", error=exc)) from None
    session = db.session()
    try:
        chain = services.ledger()
        record = Record(id=record_id, anchor_id=record_id, owner_id=owner.id, author_id=author.id,
                        source_format=source_format, sha256=digest, salt=salt.hex(), resources_root=root.hex(),
                        storage_key=storage_key, size=len(sealed.ciphertext), contract_address=chain.address,
                        resource_count=len(bundle.get("entry", [])))
        session.add(record)
        session.flush()
        for reader_id, wrapped in sealed.wrapped_keys.items():
            session.add(RecordKey(record_id=record_id, user_id=int(reader_id), wrapped_key=wrapped))
        if _batched(owner, author):
            # The owner's consent, signed here in their session; the worker anchors it under a batch root.
            fields = batchproof.LeafFields(services.chain_id(), chain.address, record_id, digest, root.hex(),
                                           storage_key, owner.eth_address)
            record.owner_signature = batchproof.sign(fields, author_keys.eth_private)
            session.add(BatchMember(record_id=record_id))
        else:
            _sign_anchor(record, author, author_keys)
        session.commit()
    except BaseException as exc:
        session.rollback()
        _delete_quietly(storage_key)
        if isinstance(exc, ChainError):
            raise RecordError(_("The record could not be queued for anchoring: %(error)s", error=exc)) from None
        raise
    return record


def _sign_anchor(record: Record, author: User, author_keys: KeyBundle) -> ChainJob:
    """Queue ``anchor(anchor_id, commitment, resourcesRoot, storageKey, owner)`` signed by the author."""
    chain = services.ledger()
    sign = partial(chain.sign_anchor, record_id=bytes.fromhex(record.anchor_id),
                   record_hash=bytes.fromhex(record.sha256), resources_root=bytes.fromhex(record.resources_root),
                   storage_key=record.storage_key, owner=record.owner.eth_address)
    return sign_and_enqueue(db.session(), chain, author_keys.eth_private, sign, kind="anchor", user_id=author.id,
                            record_id=record.id, chain_id=services.chain_id())


def anchors_taken(author: User) -> list[ChainJob]:
    """``author``'s anchor jobs that failed because their record id was taken on chain."""
    return list(db.session().scalars(
        select(ChainJob).join(Record, Record.id == ChainJob.record_id)
        .where(ChainJob.kind == "anchor", ChainJob.status == "failed", ChainJob.last_error == ID_TAKEN,
               Record.author_id == author.id)))


def reanchor_taken(author: User, author_keys: KeyBundle) -> list[Record]:
    """Re-sign, under a fresh id, the anchors of ``author``'s records whose id was taken on chain.

    The worker cannot do it alone: only the author's key, unlocked in their
    session, can sign an anchor. So the worker marks the failed job
    (:data:`phr.anchoring.ID_TAKEN`) and the author's next visit calls this.
    The commitment and resources root are recomputed from the decrypted bytes
    (never taken from the database) and the storage key is unchanged; only the
    on-chain id is new (``Bundle.id`` keeps the record's own id). A record the
    author cannot open stays failed.
    """
    session = db.session()
    records = []
    for job in anchors_taken(author):
        record = session.get(Record, job.record_id)
        try:
            disclosure, canonical = _decrypt(record, author, author_keys)
        except (StorageError, vault.VaultError, ValueError):
            continue
        job.kind = "anchor-taken"  # kept as history; the record's anchor job is the new one
        session.flush()
        record.sha256 = commitment.commit(canonical, salt_of(record)).hex()
        record.resources_root = resources_root(json.loads(canonical), disclosure).hex()
        record.anchor_id = secrets.token_bytes(32).hex()
        record.contract_address = services.ledger().address
        _sign_anchor(record, author, author_keys)
        records.append(record)
    if records:
        session.commit()
    return records


def _batched(owner: User, author: User) -> bool:
    """Batch mode covers the owner's own uploads; a doctor writing for a patient anchors per record (their write
    grant is checked on chain by ``anchor``, and the owner's key is not in the doctor's session)."""
    return current_app.config.get("ANCHOR_MODE", "record") == "batch" and owner.id == author.id


def sweep_orphans(min_age: timedelta = timedelta(hours=1)) -> list[str]:
    """Delete stored objects no record or shared copy refers to, older than ``min_age``; returns their keys.

    They exist only when a process died between storing an object and
    committing its row (the commit failing deletes the object itself).
    """
    from ..sharing.models import (
        RecordShare,  # sharing builds on records; only this sweep looks back
    )

    session = db.session()
    known = set(session.scalars(select(Record.storage_key))) | set(session.scalars(select(RecordShare.storage_key)))
    store = services.storage()
    cutoff = clock.now() - min_age
    orphans = [o.key for prefix in ("records/", "shares/") for o in store.list(prefix)
               if o.key not in known and (o.modified is None or o.modified <= cutoff)]
    for key in orphans:
        store.delete(key)
    return orphans


def _delete_quietly(storage_key: str) -> None:
    try:
        services.storage().delete(storage_key)
    except StorageError:
        current_app.logger.error("orphan object %s could not be deleted after a failed commit", storage_key)


# ----- reading ---------------------------------------------------------------------
def records_for(user: User) -> list[Record]:
    """The user's own records, latest first."""
    return list(db.session().scalars(
        select(Record).where(Record.owner_id == user.id).order_by(Record.created_at.desc())))


def records_page(user: User, page: int, per_page: int) -> tuple[list[Record], bool]:
    """Page ``page`` (from 1) of the user's records, latest first, and whether older ones follow.

    Loads each shown record's anchoring job or batch with it, so a page costs a
    fixed number of queries however many records the user has.
    """
    rows = list(db.session().scalars(
        select(Record).where(Record.owner_id == user.id).order_by(Record.created_at.desc(), Record.id)
        .offset((max(page, 1) - 1) * per_page).limit(per_page + 1)
        .options(selectinload(Record.anchor_job), selectinload(Record.author),
                 selectinload(Record.batch_member).selectinload(BatchMember.batch).selectinload(AnchorBatch.job))))
    return rows[:per_page], len(rows) > per_page


def load_record_for(user: User, record_id: str) -> Record:
    """``user``'s own record ``record_id``; :class:`RecordNotFound` for any other id (readers use sharing)."""
    record = db.session().get(Record, record_id) if len(record_id) == 64 else None
    if record is None or record.owner_id != user.id:
        raise RecordNotFound()
    return record


@dataclass(frozen=True)
class Integrity:
    """The verdict of recomputing a record's commitment and comparing it with the chain.

    ``state`` is the verdict and ``code`` + ``params`` the detail, worded by
    :mod:`phr.records.words`. ``anchor`` / ``batch`` are what the chain holds
    for a verified record (a proof is built from them, never from the
    database); ``database_hash`` is set when the platform's database disagrees
    with the chain and the content.
    """

    state: str  # verified | modified | pending | unverifiable | missing
    code: str  # a key of words.INTEGRITY_DETAILS or words.INTEGRITY_DETAILS_EN
    computed_hash: str | None = None
    chain_hash: str | None = None
    block_number: int | None = None
    tx_hash: str | None = None
    anchored_at: datetime | None = None
    hash_label: str = "SHA-256"
    database_hash: str | None = None
    anchor: Anchor | None = field(default=None, repr=False)
    batch: Batch | None = field(default=None, repr=False)
    params: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == "verified"

    @property
    def verdict(self) -> str:
        """The msgid of the verdict."""
        return words.VERDICT.get(self.state, words.VERDICT["unverifiable"])

    @property
    def translated(self) -> bool:
        """Whether the detail is worded for every language (else it is shown in English)."""
        return self.code in words.INTEGRITY_DETAILS

    @property
    def msgid(self) -> str:
        """The detail's text with ``%(name)s`` placeholders for :attr:`params`."""
        return words.INTEGRITY_DETAILS.get(self.code) or words.INTEGRITY_DETAILS_EN[self.code]

    @property
    def message(self) -> str:
        """The detail in English, for logs and error pages."""
        return words.english(self.msgid, self.params)


@dataclass(frozen=True)
class Opened:
    """A decrypted record with its integrity verdict; ``canonical`` is None when it could not be opened."""

    record: Record
    integrity: Integrity
    canonical: bytes | None = None
    bundle: dict | None = field(default=None)
    disclosure_key: bytes | None = field(default=None, repr=False)


def registry(record: Record) -> Ledger:
    """The chain client for the registry ``record`` is anchored in (a version-1 one for older records)."""
    return services.ledger().at(record.contract_address)


def salt_of(record: Record) -> bytes | None:
    """The record's commitment salt (None for records anchored before salting)."""
    return bytes.fromhex(record.salt) if record.salt else None


def _decrypt(record: Record, user: User, keys: KeyBundle) -> tuple[bytes, bytes]:
    """(disclosure key, canonical bundle bytes) of ``record`` as ``user`` opens it.

    Raises ``ObjectMissing`` / ``StorageError`` from the store, ``VaultError`` or ``ValueError`` if it fails
    authentication.
    """
    wrapped = db.session().scalar(select(RecordKey.wrapped_key).where(RecordKey.record_id == record.id,
                                                                      RecordKey.user_id == user.id))
    ciphertext = services.storage().get(record.storage_key)
    return unpack(vault.open_sealed(ciphertext, wrapped, keys.rsa_private, record_aad(record.id)))


def open_record(record: Record, user: User, keys: KeyBundle) -> Opened:
    """Fetch, decrypt and verify ``record`` for ``user``; tampering is reported, never raised or hidden."""
    try:
        disclosure, canonical = _decrypt(record, user, keys)
        bundle = json.loads(canonical)
    except ObjectMissing:
        return Opened(record, Integrity("missing", "object-missing"))
    except StorageError as exc:
        return Opened(record, Integrity("unverifiable", "store-unreachable", params={"error": exc}))
    except (vault.VaultError, ValueError):
        return Opened(record, _compare(record, None, None))
    computed = commitment.commit(canonical, salt_of(record)).hex()
    return Opened(record, _compare(record, computed, resources_root(bundle, disclosure).hex()), canonical, bundle,
                  disclosure)


def _compare(record: Record, computed: str | None, computed_root: str | None) -> Integrity:
    """Commitment and resources root recomputed from the bytes vs the chain, then vs the database's copies."""
    if record.batch_member is not None:
        integrity = _compare_batched(record, computed, computed_root)
    else:
        integrity = _compare_anchor(record, computed, computed_root)
    if integrity.ok and (record.sha256 != computed or record.resources_root != computed_root):
        return replace(integrity, state="modified", code="database-differs", params={}, database_hash=record.sha256,
                       anchor=None, batch=None)
    return integrity


def _compare_anchor(record: Record, computed: str | None, computed_root: str | None) -> Integrity:
    job = record.anchor_job
    try:
        anchor = registry(record).get_anchor(bytes.fromhex(record.anchor_id), record.owner.eth_address)
    except ChainError as exc:
        return Integrity("unverifiable", "chain-unreachable", computed, params={"error": exc})
    if computed is None:
        return Integrity("modified", "fails-authentication", None, anchor.record_hash.hex() if anchor else None)
    if anchor is None:
        return Integrity("pending", "not-anchored", computed, params={"state": job.status if job else "missing"})
    chain_hash = anchor.record_hash.hex()
    if (chain_hash != computed or anchor.resources_root.hex() != computed_root
            or anchor.storage_key != record.storage_key or anchor.owner != record.owner.eth_address):
        return Integrity("modified", "differs", computed, chain_hash, anchor.block_number)
    return Integrity("verified", "verified", computed, chain_hash, anchor.block_number,
                     job.tx_hash if job else None, datetime.fromtimestamp(anchor.anchored_at, UTC),
                     anchor=anchor)


def _compare_batched(record: Record, computed: str | None, computed_root: str | None) -> Integrity:
    """Recomputed commitment → owner-signed leaf → Merkle path → the batch root on chain (``getBatch``)."""
    if computed is None:
        return Integrity("modified", "fails-authentication", None, None, hash_label="SHA-256 (batch leaf)")
    return batch_integrity(record, computed, resources_root=computed_root)


def batch_integrity(record: Record, computed: str, *, record_hash: str | None = None,
                    resources_root: str | None = None, label: str = "SHA-256 (batch leaf)") -> Integrity:
    """Verify a batch-anchored record's leaf, rebuilt from ``record_hash`` (default ``computed``) and
    ``resources_root`` (default the stored one), up its Merkle path to the batch root on chain.

    A doctor's redacted copy cannot recompute the bundle's commitment, so sharing
    passes the stored one and the resources root it recomputed from the visible
    entries and their withheld leaves; the owner's signature covers both.
    """
    member = record.batch_member
    batch = member.batch
    if batch is None or batch.job.status != "confirmed":
        state = batch.job.status if batch else "waiting for the next batch"
        return Integrity("pending", "not-anchored", computed, hash_label=label, params={"state": state})
    chain = registry(record)
    try:
        on_chain = chain.get_batch(bytes.fromhex(batch.root), batch.job.sender)
    except ChainError as exc:
        return Integrity("unverifiable", "chain-unreachable", computed, hash_label=label, params={"error": exc})
    if on_chain is None or on_chain.submitter.lower() != batch.job.sender.lower():
        return Integrity("modified", "no-batch", computed, None, hash_label=label)
    siblings = [bytes.fromhex(h) for h in json.loads(member.merkle_path)]
    leaf_hash = record_hash or computed
    fields = batchproof.LeafFields(services.chain_id(), chain.address, record.anchor_id, leaf_hash,
                                   resources_root or record.resources_root, record.storage_key,
                                   record.owner.eth_address)
    problems = batchproof.check(fields, record.owner_signature or b"", member.leaf_index, on_chain.count, siblings,
                                bytes.fromhex(batch.root))
    if problems:
        return Integrity("modified", "leaf-differs", computed, leaf_hash, on_chain.block_number, hash_label=label,
                         params={"problems": "; ".join(problems)})
    return Integrity("verified", "verified-batch", computed, leaf_hash, on_chain.block_number, batch.job.tx_hash,
                     datetime.fromtimestamp(on_chain.anchored_at, UTC), label, batch=on_chain,
                     params={"leaf": member.leaf_index + 1, "count": on_chain.count, "root": batch.root})


def anchor_job(record: Record) -> ChainJob | None:
    """The transaction that anchors ``record``: its own ``anchor`` job, or its batch's ``anchorBatch`` job."""
    member = record.batch_member
    if member is not None:
        return member.batch.job if member.batch is not None else None
    return record.anchor_job


# ----- anchor state and proofs -----------------------------------------------------
@dataclass(frozen=True)
class AnchorState:
    """A record's anchoring progress: ``status`` for styling, ``code`` + ``params`` worded by :mod:`.words`."""

    status: str  # queued | anchoring | anchored | failed
    code: str  # a key of words.ANCHOR
    done: bool
    job: ChainJob | None
    params: dict = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return words.ANCHOR[self.code]

    @property
    def label(self) -> str:
        """In English, for logs."""
        return words.english(self.msgid, self.params)


def anchor_state(record: Record) -> AnchorState:
    """The honest anchoring status of ``record``, from its outbox job."""
    job = anchor_job(record)
    if job is None and record.batch_member is not None:
        return AnchorState("queued", "batch-waiting", False, None)
    if job is None:
        return AnchorState("failed", "not-queued", True, None)
    if job.status == "confirmed":
        return AnchorState("anchored", "anchored", True, job, {"number": job.block_number})
    if job.status == "failed":
        return AnchorState("failed", "failed", True, job, {"error": job.last_error or ""})
    if job.status == "mined":
        return AnchorState("anchoring", "mined", False, job, {"number": job.block_number})
    if job.status == "sent":
        return AnchorState("anchoring", "sent", False, job, {"tx": (job.tx_hash or "")[:12]})
    return AnchorState("queued", "retrying" if job.last_error else "queued", False, job)


PROOF_FORMAT = "phr-proof/3"


def proof_for(opened: Opened) -> dict:
    """The proof file for an opened record: what the chain holds, checked against the decrypted bytes.

    Issued only when the recomputed commitment matches the chain (and the
    database agrees); every anchored value in it is read from the chain, and
    the salt lets whoever holds the bundle recompute the commitment offline.
    """
    record, integrity = opened.record, opened.integrity
    if integrity.state == "pending":
        raise RecordError(_("This record is not anchored yet; its proof will be available once it is."))
    if not integrity.ok:
        raise RecordError(_("No proof is issued for this record: it does not verify against the chain."))
    chain = registry(record)
    job = anchor_job(record)
    receipt = chain.receipt(job.tx_hash)
    if receipt is None or receipt["status"] != 1 or receipt["blockNumber"] != integrity.block_number:
        raise RecordError(_("No proof is issued for this record: its anchoring transaction is not where the "
                            "chain's anchor says."))
    salt = salt_of(record)
    proof = {
        "format": PROOF_FORMAT,
        "contract_address": chain.address,
        "contract_version": chain.version,
        "chain_id": services.chain_id(),
        "record_id": "0x" + record.anchor_id,
        "commitment": commitment.scheme(salt),
        "salt": "0x" + salt.hex() if salt else None,
        "record_hash": "0x" + integrity.computed_hash,
        "owner": record.owner.eth_address,
        "storage_key": record.storage_key,
        "tx_hash": job.tx_hash,
        "block_number": receipt["blockNumber"],
        "block_hash": receipt["blockHash"].to_0x_hex(),
        "anchored_at": integrity.anchored_at.isoformat(),
    }
    if integrity.anchor is not None:
        return proof | {"anchoring": "record", "resources_root": "0x" + integrity.anchor.resources_root.hex()}
    member, batch = record.batch_member, integrity.batch
    return proof | {  # anchored in a Merkle batch: the leaf's signature and path lead to the batch root
        "anchoring": "batch",
        "resources_root": "0x" + record.resources_root,  # covered by the owner's signature in the verified leaf
        "owner_signature": "0x" + record.owner_signature.hex(),
        "batch_root": "0x" + batch.root.hex(),
        "batch_count": batch.count,
        "leaf_index": member.leaf_index,
        "merkle_path": ["0x" + h for h in json.loads(member.merkle_path)],
        "batch_submitter": batch.submitter,
    }
