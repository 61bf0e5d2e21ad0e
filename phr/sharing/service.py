"""Sharing as plain functions: the doctor directory, grants and revocations, doctors' reads and writes,
and the access log (hide rules and redacted copies: :mod:`.redaction`).

Two locks guard every doctor's read: a wrapped data key in the database
(deleted at once on revoke) and a live grant on the chain (checked at every
read, never cached). What key a doctor gets, the record's own or a redacted
copy's, is decided in one place: :func:`.redaction.share`.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select

from .. import clock, db, merkle, services, vault
from ..anchoring import sign_and_enqueue
from ..custody import KeyBundle
from ..importer.fhir import canonical_bytes
from ..ledger import ChainError, Ledger
from ..models import User
from ..records import service as records
from ..records.models import ChainJob, Record, RecordKey
from ..storage import ObjectMissing, StorageError
from . import redaction
from .grants import SharingError, active_grants, all_records_readers
from .models import (
    AccessEvent,
    Grant,
    GrantRecord,
    RecordShare,
    ShareKey,
)

ACTION_CODES = {"read": 1, "download": 2}


# ----- directory and grants ----------------------------------------------------------
def directory(query: str = "") -> list[User]:
    """Registered doctors, filtered by name, country or institution."""
    stmt = select(User).where(User.role == "doctor").order_by(User.display_name)
    q = query.strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.display_name.ilike(like), User.country.ilike(like), User.institution.ilike(like)))
    return list(db.session().scalars(stmt.limit(200)))


def grant_access(patient: User, keys: KeyBundle, doctor_id: int, *, record_ids: list[str] | None = None,
                 expires_at: datetime | None = None) -> Grant:
    """Grant ``doctor_id`` access to all of the patient's records (and to add records) or to ``record_ids``.

    Signs the chain grant with the patient's key (queued in the outbox) and
    wraps each covered record's key for the doctor; ciphertexts are untouched.
    """
    session = db.session()
    doctor = session.get(User, doctor_id)
    if doctor is None or doctor.role != "doctor":
        raise SharingError(_("Choose a registered doctor."))
    if expires_at is not None and expires_at <= clock.now():
        raise SharingError(_("The expiry must be in the future."))
    if any(g.doctor_id == doctor.id for g in active_grants(patient)):
        raise SharingError(_("%(name)s already has access; revoke it first to change it.", name=doctor.display_name))
    own = {r.id: r for r in records.records_for(patient)}
    if record_ids is not None:
        record_ids = list(dict.fromkeys(record_ids))
        if not record_ids or any(rid not in own for rid in record_ids):
            raise SharingError(_("Choose at least one of your records."))
    covered = list(own.values()) if record_ids is None else [own[r] for r in record_ids]
    expiry = int(expires_at.timestamp()) if expires_at else 0
    chain, chain_id = services.ledger(), services.chain_id()
    grant = Grant(patient_id=patient.id, doctor_id=doctor.id, scope="all" if record_ids is None else "records",
                  expires_at=expires_at)
    session.add(grant)
    session.flush()
    if record_ids is None:
        job = sign_and_enqueue(session, chain, keys.eth_private,
                               partial(chain.sign_grant, reader=doctor.eth_address, expires_at=expiry, can_write=True),
                               kind="grant", user_id=patient.id, chain_id=chain_id)
        grant.grant_job_id = job.id
        _event(patient, patient, "grant", subject=doctor, job=job)
    else:
        for record in covered:
            job = sign_and_enqueue(session, chain, keys.eth_private,
                                   partial(chain.sign_grant_record, record_id=bytes.fromhex(record.anchor_id),
                                           reader=doctor.eth_address, expires_at=expiry),
                                   kind="grant", user_id=patient.id, chain_id=chain_id, record_id=record.id)
            grant.grant_job_id = grant.grant_job_id or job.id
            grant.records.append(GrantRecord(record_id=record.id))
            _event(patient, patient, "grant", subject=doctor, record=record, job=job)
    rules = redaction.hide_rules(patient, keys)
    stale = [k for record in covered if (k := redaction.share(record, patient, keys, rules, (doctor,)))]
    session.commit()
    for key in stale:
        redaction.delete_quietly(key)
    return grant


def revoke_access(patient: User, keys: KeyBundle, grant_id: int) -> Grant:
    """Revoke a grant: the doctor's keys to the patient's records are deleted now; the chain revoke is queued."""
    session = db.session()
    grant = session.get(Grant, grant_id)
    if grant is None or grant.patient_id != patient.id or grant.revoked_at is not None:
        raise SharingError(_("That access does not exist or was already revoked."))
    doctor = grant.doctor
    chain, chain_id = services.ledger(), services.chain_id()
    own_ids = select(Record.id).where(Record.owner_id == patient.id)
    session.execute(delete(RecordKey).where(RecordKey.user_id == doctor.id, RecordKey.record_id.in_(own_ids)))
    session.execute(delete(ShareKey).where(ShareKey.user_id == doctor.id, ShareKey.record_id.in_(own_ids)))
    if grant.scope == "all":
        job = sign_and_enqueue(session, chain, keys.eth_private, partial(chain.sign_revoke, reader=doctor.eth_address),
                               kind="revoke", user_id=patient.id, chain_id=chain_id)
        _event(patient, patient, "revoke", subject=doctor, job=job)
    else:
        for gr in grant.records:
            job = sign_and_enqueue(session, chain, keys.eth_private,
                                   partial(chain.sign_revoke_record,
                                           record_id=bytes.fromhex(session.get(Record, gr.record_id).anchor_id),
                                           reader=doctor.eth_address),
                                   kind="revoke", user_id=patient.id, chain_id=chain_id, record_id=gr.record_id)
            _event(patient, patient, "revoke", subject=doctor, record=session.get(Record, gr.record_id), job=job)
    grant.revoked_at = clock.now()
    session.commit()
    return grant


# ----- doctors ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Patient:
    """A patient as listed to a doctor who holds a live grant."""

    user: User
    grant: Grant
    confirmed: bool  # the chain grant is mined and confirmed


def patients_of(doctor: User) -> list[Patient]:
    """Patients who granted ``doctor`` access that is neither revoked nor expired."""
    now = clock.now()
    grants = db.session().scalars(select(Grant).where(Grant.doctor_id == doctor.id, Grant.revoked_at.is_(None))
                                  .order_by(Grant.created_at.desc()))
    return [Patient(g.patient, g, bool(g.grant_job and g.grant_job.status == "confirmed")) for g in grants
            if g.expires_at is None or clock.aware(g.expires_at) > now]


def _patient_for(doctor: User, patient_id: int) -> Patient:
    for p in patients_of(doctor):
        if p.user.id == patient_id:
            return p
    raise records.RecordNotFound()


def readable_records(doctor: User, patient_id: int) -> list[Record]:
    """The patient's records the doctor holds a key for, latest first (the chain is checked on each open)."""
    _patient_for(doctor, patient_id)
    keyed = select(RecordKey.record_id).where(RecordKey.user_id == doctor.id)
    shared = select(ShareKey.record_id).where(ShareKey.user_id == doctor.id)
    return list(db.session().scalars(
        select(Record).where(Record.owner_id == patient_id, or_(Record.id.in_(keyed), Record.id.in_(shared)))
        .order_by(Record.created_at.desc())))


def load_shared_record(doctor: User, record_id: str) -> Record:
    """A record ``doctor`` may read now: a key in the database AND a live grant on the chain; else not found."""
    record = db.session().get(Record, record_id) if len(record_id) == 64 else None
    if record is None or record.owner_id == doctor.id:
        raise records.RecordNotFound()
    has_key = redaction.wrapped_record_key(record.id, doctor.id) is not None or db.session().scalar(
        select(ShareKey.id).where(ShareKey.record_id == record.id, ShareKey.user_id == doctor.id)) is not None
    if not has_key:
        raise records.RecordNotFound()
    try:
        job = record.anchor_job
        if record.batch_member is not None or (job is not None and job.status != "confirmed"):
            # Batch-anchored records (docs/anchoring.md), and records whose own anchor is not mined yet (a visit
            # the doctor just added), are unknown to the contract by id, so canRead would say no: their readers
            # need the owner-wide grant, checked on chain with grantOf(owner, reader).
            allowed = records.registry(record).grant_of(record.owner.eth_address, doctor.eth_address)[2]
        else:
            allowed = records.registry(record).can_read(doctor.eth_address, bytes.fromhex(record.anchor_id),
                                                        record.owner.eth_address)
    except ChainError:
        raise SharingError(_("The chain is unreachable, so your access cannot be checked right now. "
                             "Please try again shortly.")) from None
    if not allowed:
        raise records.RecordNotFound()
    return record


def may_read(doctor: User, record: Record) -> bool:
    """Whether :func:`load_shared_record` would let ``doctor`` read ``record`` now."""
    try:
        load_shared_record(doctor, record.id)
    except records.RecordNotFound:
        return False
    return True


def open_shared(record: Record, doctor: User, keys: KeyBundle) -> records.Opened:
    """Open what the doctor may see of ``record`` and verify it against the chain."""
    share_key = db.session().scalar(select(ShareKey.wrapped_key).where(ShareKey.record_id == record.id,
                                                                       ShareKey.user_id == doctor.id))
    if share_key is None:
        return records.open_record(record, doctor, keys)
    share = db.session().get(RecordShare, record.id)
    try:
        ciphertext = services.storage().get(share.storage_key)
        payload = json.loads(vault.open_sealed(ciphertext, share_key, keys.rsa_private, redaction.share_aad(record.id)))
    except ObjectMissing:
        return records.Opened(record, records.Integrity("missing", "share-missing"))
    except StorageError as exc:
        return records.Opened(record, records.Integrity("unverifiable", "share-store-unreachable",
                                                        params={"error": exc}))
    except (vault.VaultError, ValueError):
        return records.Opened(record, records.Integrity("modified", "share-fails-authentication"))
    return _verify_share(record, payload)


def _verify_share(record: Record, payload: dict) -> records.Opened:
    """Check every visible entry's salted leaf, then the Merkle root against the anchored ``resourcesRoot``."""
    bundle = payload["bundle"]
    leaves = [bytes.fromhex(x) for x in payload["leaves"]]
    for entry, pos, salt in zip(bundle.get("entry", []), payload["positions"], payload["salts"]):
        if merkle.salted_leaf(bytes.fromhex(salt), canonical_bytes(entry)) != leaves[pos]:
            return records.Opened(record, records.Integrity("modified", "share-item-differs",
                                                            params={"item": entry["fullUrl"]}))
    computed = merkle.root(leaves).hex() if leaves else "00" * 32
    if record.batch_member is not None:  # batch-anchored (docs/anchoring.md): resourcesRoot is in the signed leaf
        integrity = records.batch_integrity(record, computed, record_hash=record.sha256, resources_root=computed,
                                            label="Merkle root")
        if integrity.state == "verified":
            hidden = len(leaves) - len(payload["positions"])
            integrity = replace(integrity, code="share-verified-batch",
                                params={"hidden": hidden, "root": record.batch_member.batch.root})
        shown = integrity.state in ("verified", "pending")
        return records.Opened(record, integrity, canonical_bytes(bundle) if shown else None,
                              bundle if shown else None)
    try:
        anchor = records.registry(record).get_anchor(bytes.fromhex(record.anchor_id), record.owner.eth_address)
    except ChainError as exc:
        return records.Opened(record, records.Integrity("unverifiable", "share-chain-unreachable",
                                                        params={"error": exc}))
    canonical = canonical_bytes(bundle)
    if anchor is None:
        return records.Opened(record, records.Integrity("pending", "share-not-anchored", computed), canonical, bundle)
    if anchor.resources_root.hex() != computed:
        return records.Opened(record, records.Integrity("modified", "share-differs", computed,
                                                        anchor.resources_root.hex(), anchor.block_number))
    job = record.anchor_job
    hidden = len(leaves) - len(payload["positions"])
    return records.Opened(record, records.Integrity(
        "verified", "share-verified", computed, anchor.resources_root.hex(), anchor.block_number,
        job.tx_hash if job else None, datetime.fromtimestamp(anchor.anchored_at, UTC), "Merkle root",
        params={"hidden": hidden}), canonical, bundle)


def add_record_for(doctor: User, keys: KeyBundle, patient_id: int, *, code: str, diagnosis: str,
                   medications: list[dict], notes: str) -> Record:
    """A doctor's new visit for a patient: Encounter + Condition + MedicationRequests, owned by the patient.

    Needs the patient's all-records grant (it carries write permission on chain);
    anchored with the doctor's key, sealed for the patient, the doctor and the
    patient's other all-records doctors.
    """
    grant = _patient_for(doctor, patient_id).grant
    if grant.scope != "all":
        raise SharingError(_("Adding records needs access to all of this patient's records."))
    try:
        writable = services.ledger().can_write(doctor.eth_address, grant.patient.eth_address)
    except ChainError:
        raise SharingError(_("The chain is unreachable, so your access cannot be checked right now.")) from None
    if not writable:
        raise SharingError(_("The patient's grant is not confirmed on the chain yet; try again in a few seconds."))
    patient = grant.patient
    bundle = visit_bundle(patient, doctor, code=code, diagnosis=diagnosis, medications=medications, notes=notes)
    # The patient's hide rules are sealed for the patient alone: with rules, the other doctors wait for the
    # patient's next visit to the platform (catch_up), which gives them what the rules let them see.
    readers = [] if redaction.has_rules(patient) else [d for d in all_records_readers(patient) if d.id != doctor.id]
    record = records.create_record(owner=patient, author=doctor, author_keys=keys, bundle=bundle,
                                   source_format="doctor", readers=readers)
    _event(patient, doctor, "write", record=record, job=record.anchor_job)
    db.session().commit()
    return record


def visit_bundle(patient: User, doctor: User, *, code: str, diagnosis: str, medications: list[dict],
                 notes: str) -> dict:
    """The FHIR R4 collection for a doctor's visit note."""
    now = clock.now()
    ids = {k: secrets.token_hex(16) for k in ("patient", "practitioner", "encounter", "condition")}
    url = {k: f"urn:uuid:{_uuid(v)}" for k, v in ids.items()}
    entries = [
        {"fullUrl": url["patient"], "resource": {"resourceType": "Patient", "id": _uuid(ids["patient"]),
                                                 "name": [{"text": patient.display_name}]}},
        {"fullUrl": url["practitioner"], "resource": {
            "resourceType": "Practitioner", "id": _uuid(ids["practitioner"]), "name": [{"text": doctor.display_name}],
            "identifier": [{"system": "https://phr.invalid/fhir/licence", "value": doctor.licence_no or "unknown"}],
            "address": [{"country": doctor.country}] if doctor.country else []}},
        {"fullUrl": url["encounter"], "resource": {
            "resourceType": "Encounter", "id": _uuid(ids["encounter"]), "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
            "subject": {"reference": url["patient"]}, "period": {"start": now.isoformat(timespec="seconds")},
            "participant": [{"individual": {"reference": url["practitioner"]}}],
            "serviceProvider": {"display": doctor.institution or doctor.display_name}}},
        {"fullUrl": url["condition"], "resource": {
            "resourceType": "Condition", "id": _uuid(ids["condition"]),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}], "text": diagnosis},
            "subject": {"reference": url["patient"]}, "encounter": {"reference": url["encounter"]},
            "recordedDate": now.isoformat(timespec="seconds"), "recorder": {"reference": url["practitioner"]},
            **({"note": [{"text": notes}]} if notes else {})}},
    ]
    for med in medications:
        mid = _uuid(secrets.token_hex(16))
        entries.append({"fullUrl": f"urn:uuid:{mid}", "resource": {
            "resourceType": "MedicationRequest", "id": mid, "status": "active", "intent": "order",
            "medicationCodeableConcept": {"text": med["name"]}, "subject": {"reference": url["patient"]},
            "encounter": {"reference": url["encounter"]}, "authoredOn": now.isoformat(timespec="seconds"),
            "requester": {"reference": url["practitioner"]},
            "dosageInstruction": [{"text": med["dose"]}] if med.get("dose") else [],
            **({"dispenseRequest": {"expectedSupplyDuration": {"value": med["days"], "unit": "days",
                                                                "system": "http://unitsofmeasure.org", "code": "d"}}}
               if med.get("days") else {})}})
    return {"resourceType": "Bundle", "type": "collection", "timestamp": now.isoformat(timespec="seconds"),
            "entry": entries}


def _uuid(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:32]}"


# ----- the access log -------------------------------------------------------------------
def log_read(doctor: User, keys: KeyBundle, record: Record, action: str = "read") -> AccessEvent:
    """Record that ``doctor`` read ``record``: a DB row now, and an AccessLogged event on chain signed by the doctor."""
    session = db.session()
    job = None
    chain = services.ledger()
    # logAccess reverts UnknownRecord for batch-anchored records, and only the current registry takes it: DB row only
    if record.batch_member is None and records.registry(record) is chain:
        sign = partial(chain.sign_log_access, owner=record.owner.eth_address, record_id=bytes.fromhex(record.anchor_id),
                       action=ACTION_CODES[action], detail_hash=hashlib.sha256(b"").digest())
        job = sign_and_enqueue(session, chain, keys.eth_private, sign,
                               kind="log", user_id=doctor.id, chain_id=services.chain_id(), record_id=record.id)
    event = _event(record.owner, doctor, action, record=record, job=job)
    session.commit()
    return event


def _event(owner: User, actor: User, action: str, *, subject: User | None = None, record: Record | None = None,
           job=None) -> AccessEvent:
    event = AccessEvent(owner_id=owner.id, actor_id=actor.id, subject_id=subject.id if subject else None,
                        record_id=record.id if record else None, action=action, job_id=job.id if job else None)
    db.session().add(event)
    return event


def access_log(patient: User, limit: int = 200) -> list[AccessEvent]:
    """Everything done with the patient's records and grants, newest first, with its chain transaction."""
    return list(db.session().scalars(select(AccessEvent).where(AccessEvent.owner_id == patient.id)
                                     .order_by(AccessEvent.at.desc(), AccessEvent.id.desc()).limit(limit)))


@dataclass(frozen=True)
class ChainEvent:
    """An event about a patient's data that the chain holds but the platform's log does not."""

    name: str  # Granted | Revoked | AccessLogged
    actor: str
    tx_hash: str
    block_number: int


def unlogged_chain_events(patient: User) -> list[ChainEvent]:
    """Grants, revocations and reads on chain for the patient whose transaction is missing from the
    platform's access log — evidence that someone removed log rows. Raises ``ChainError`` if unreachable.

    Every registry holding the patient's records is read. Version 2 lets only the
    owner or a live grantee log an access; in a version-1 registry anyone could,
    so its reads count only when the chain's own grants allowed the actor then.
    """
    logged = set(db.session().scalars(select(ChainJob.tx_hash).join(AccessEvent, AccessEvent.job_id == ChainJob.id)
                                      .where(AccessEvent.owner_id == patient.id)))
    chain = services.ledger()
    addresses = set(db.session().scalars(select(Record.contract_address).where(Record.owner_id == patient.id)))
    found = []
    for registry in {chain.at(a) for a in addresses} | {chain}:
        found += [e for e in _chain_events(registry, patient) if e.tx_hash not in logged]
    return sorted(found, key=lambda e: e.block_number, reverse=True)


def _chain_events(chain: Ledger, patient: User) -> list[ChainEvent]:
    """The patient's Granted, Revoked and (allowed) AccessLogged events in one registry."""
    grants, reads = chain.grant_events(patient.eth_address), chain.access_events(patient.eth_address)
    if chain.legacy:
        reads = [log for log in reads if _allowed_then(chain, grants, log)]
    return [ChainEvent(log["event"], log["args"]["actor" if log["event"] == "AccessLogged" else "owner"],
                       log["transactionHash"].to_0x_hex(), log["blockNumber"]) for log in [*grants, *reads]]


def _allowed_then(chain: Ledger, grants: list, read) -> bool:
    """Whether the owner's grant events let ``read``'s actor read its record when it was logged (version 1)."""
    actor, owner = read["args"]["actor"], read["args"]["owner"]
    if actor == owner:
        return True
    at = (read["blockNumber"], read["logIndex"])
    live = {}  # record id (zero: owner-wide) -> expiresAt of the latest grant to the actor, None once revoked
    for log in sorted(grants, key=lambda g: (g["blockNumber"], g["logIndex"])):
        if log["args"]["reader"] == actor and (log["blockNumber"], log["logIndex"]) < at:
            live[log["args"]["recordId"]] = log["args"]["expiresAt"] if log["event"] == "Granted" else None
    timestamp = chain.block(read["blockNumber"]).timestamp
    return any(expires is not None and (expires == 0 or timestamp < expires)
               for rid, expires in live.items() if rid in (b"\0" * 32, read["args"]["recordId"]))
