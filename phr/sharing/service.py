"""Sharing as plain functions: the doctor directory, grants and revocations, hide rules, doctors' reads
and writes, and the access log.

Two locks guard every doctor's read: a wrapped data key in the database
(deleted at once on revoke) and a live grant on the chain (checked at every
read, never cached). A patient's hide rules (:mod:`.hiding`, sealed for the
patient) apply to all their records: a record in which they hide anything is
shared as a redacted copy sealed for the doctors, with each entry's salted
Merkle leaf, so the doctor can check what they see against the anchored
``resourcesRoot`` without learning anything about what is hidden. ``_share``
is the one place that decides, on every grant, upload and rule change.
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
from ..fhirbundle import canonical_bytes
from ..ledger import ChainError, Ledger
from ..models import User
from ..records import service as records
from ..records.models import ChainJob, Record, RecordKey
from ..storage import ObjectMissing, StorageError
from ..view import item_facts
from . import hiding
from .models import (
    AccessEvent,
    Grant,
    GrantRecord,
    HideRules,
    PrivacyTag,
    RecordShare,
    ShareKey,
)

ACTION_CODES = {"read": 1, "download": 2}


class SharingError(records.RecordError):
    """A sharing operation was refused; the message says why."""


# ----- directory and grants ----------------------------------------------------------
def directory(query: str = "") -> list[User]:
    """Registered doctors, filtered by name, country or institution."""
    stmt = select(User).where(User.role == "doctor").order_by(User.display_name)
    q = query.strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.display_name.ilike(like), User.country.ilike(like), User.institution.ilike(like)))
    return list(db.session().scalars(stmt.limit(200)))


def active_grants(patient: User) -> list[Grant]:
    """The patient's grants that are neither revoked nor expired, newest first."""
    now = clock.now()
    return [g for g in db.session().scalars(
        select(Grant).where(Grant.patient_id == patient.id, Grant.revoked_at.is_(None)).order_by(Grant.created_at.desc()))
        if g.expires_at is None or clock.aware(g.expires_at) > now]


def all_records_readers(patient: User) -> list[User]:
    """Doctors whose live grant covers all of ``patient``'s records (new records are sealed for them too)."""
    return [g.doctor for g in active_grants(patient) if g.scope == "all"]


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
    rules = hide_rules(patient, keys)
    stale = [k for record in covered if (k := _share(record, patient, keys, rules, (doctor,)))]
    session.commit()
    for key in stale:
        _delete_quietly(key)
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


# ----- hide rules ---------------------------------------------------------------------------
def _rules_aad(patient: User) -> bytes:
    return b"phr-hide-rules:v1:" + str(patient.id).encode()


def hide_rules(patient: User, keys: KeyBundle) -> list[hiding.Rule]:
    """The patient's hide rules, opened with their key (the platform cannot read them).

    Privacy tags stored in clear before rules existed count as ``item`` rules until the next change
    seals them in (:func:`_save_rules`)."""
    row = db.session().get(HideRules, patient.id)
    rules = [] if row is None else [hiding.Rule(**r) for r in json.loads(
        vault.open_sealed(row.ciphertext, row.wrapped_key, keys.rsa_private, _rules_aad(patient)))["rules"]]
    known = {r.key for r in rules}
    legacy = [hiding.Rule("item", url, "") for url in _legacy_tags(patient)]
    return rules + [r for r in legacy if r.key not in known]


def _legacy_tags(patient: User) -> list[str]:
    own = select(Record.id).where(Record.owner_id == patient.id)
    return sorted(set(db.session().scalars(select(PrivacyTag.full_url).where(PrivacyTag.record_id.in_(own)))))


def _save_rules(patient: User, rules: list[hiding.Rule]) -> None:
    session = db.session()
    body = json.dumps({"rules": [r.as_dict() for r in rules]}).encode()
    sealed = vault.seal(body, _rules_aad(patient), {"owner": vault.load_public_pem(patient.rsa_public_pem.encode())})
    session.merge(HideRules(patient_id=patient.id, ciphertext=sealed.ciphertext,
                            wrapped_key=sealed.wrapped_keys["owner"], updated_at=clock.now()))
    own = select(Record.id).where(Record.owner_id == patient.id)
    session.execute(delete(PrivacyTag).where(PrivacyTag.record_id.in_(own)))


def _has_rules(patient: User) -> bool:
    """Whether the patient may have rules (known without their key: a sealed row or legacy tags exist)."""
    return db.session().get(HideRules, patient.id) is not None or bool(_legacy_tags(patient))


def rule_of(patient: User, keys: KeyBundle, record_id: str, full_url: str, kind: str) -> hiding.Rule:
    """The rule (``kind``) naming the item at ``full_url`` of the patient's record ``record_id``."""
    try:
        return hiding.rule_for(_open_own(patient, keys, record_id).bundle, full_url, kind)
    except hiding.NotHideable:
        raise SharingError(_("That item cannot be hidden this way.")) from None


def hide(patient: User, keys: KeyBundle, record_id: str, full_url: str, kind: str) -> hiding.Rule:
    """Hide from every doctor, in every record present and future, the item at ``full_url`` of one record:
    the visit (date and facility), the diagnosis code, the drug, or that item alone (``kind``)."""
    rule = rule_of(patient, keys, record_id, full_url, kind)
    rules = hide_rules(patient, keys)
    if rule.key not in {r.key for r in rules}:
        rules.append(rule)
    _change_rules(patient, keys, rules)
    return rule


def unhide(patient: User, keys: KeyBundle, rule_id: str) -> None:
    """Drop a rule (by :attr:`~.hiding.Rule.id`): doctors get back what only that rule withheld."""
    rules = hide_rules(patient, keys)
    if rule_id not in {r.id for r in rules}:
        raise SharingError(_("That rule does not exist or was already removed."))
    _change_rules(patient, keys, [r for r in rules if r.id != rule_id])


def show(patient: User, keys: KeyBundle, record_id: str, full_url: str, kind: str) -> None:
    """Undo :func:`hide` from the same item: drop the rule it made."""
    unhide(patient, keys, rule_of(patient, keys, record_id, full_url, kind).id)


def set_item_rules(patient: User, keys: KeyBundle, record_id: str, items: set[str]) -> set[str]:
    """The record page's checklist: hide exactly ``items`` among this record's items (as ``item`` rules, so in
    every record holding them); returns what doctors now miss of this record under all the rules."""
    opened = _open_own(patient, keys, record_id)
    facts = item_facts(opened.bundle)
    if not items <= set(facts):
        raise SharingError(_("Only clinical items of this record can be hidden."))
    rules = [r for r in hide_rules(patient, keys) if not (r.kind == "item" and r.value in facts)]
    rules += [hiding.rule_from(url, facts[url], "item") for url in sorted(items)]
    _change_rules(patient, keys, rules)
    return hiding.hidden_entries(rules, opened.bundle)


def item_rules_of(patient: User, keys: KeyBundle, bundle: dict) -> set[str]:
    """The entries of ``bundle`` an ``item`` rule names (the checklist's ticks)."""
    urls = {e["fullUrl"] for e in bundle.get("entry", [])}
    return {r.value for r in hide_rules(patient, keys) if r.kind == "item" and r.value in urls}


def _open_own(patient: User, keys: KeyBundle, record_id: str) -> records.Opened:
    opened = records.open_record(records.load_record_for(patient, record_id), patient, keys)
    if opened.bundle is None or opened.integrity.state == "modified":
        raise SharingError(_("The record cannot be opened to change what is shared: %(reason)s",
                             reason=opened.integrity.message))
    return opened


def _change_rules(patient: User, keys: KeyBundle, rules: list[hiding.Rule]) -> None:
    """Seal the new rules and apply them to every record of the patient, in one transaction."""
    _save_rules(patient, rules)
    stale = [k for record in records.records_for(patient) if (k := _share(record, patient, keys, rules))]
    db.session().commit()
    for key in stale:
        _delete_quietly(key)


@dataclass(frozen=True)
class Place:
    """Where a rule's item appears: one record and the entries of it that the rule names."""

    record: Record
    items: list[tuple[str, str]]  # (fullUrl, label)
    withheld: int  # entries doctors miss of this record under all the rules


@dataclass(frozen=True)
class RulePlaces:
    rule: hiding.Rule
    label: str
    places: list[Place]


def rules_with_places(patient: User, keys: KeyBundle) -> list[RulePlaces]:
    """Every rule with every record and item it hides (opens each of the patient's records)."""
    rules = hide_rules(patient, keys)
    found: dict[str, list[Place]] = {r.key: [] for r in rules}
    for record in records.records_for(patient):
        opened = records.open_record(record, patient, keys)
        if opened.bundle is None:
            continue
        withheld = len(hiding.hidden_entries(rules, opened.bundle))
        for key, items in hiding.places(rules, opened.bundle).items():
            if items:
                found[key].append(Place(record, items, withheld))
    return [RulePlaces(r, r.label or next((label for p in found[r.key] for _, label in p.items), r.value),
                       found[r.key]) for r in rules]


@dataclass(frozen=True)
class HideMarks:
    """What the record page's hide buttons need: entries hidden from doctors, and the (entry, kind) pairs
    whose rule exists (their button removes it)."""

    hidden: frozenset[str] = frozenset()
    ruled: frozenset[tuple[str, str]] = frozenset()

    def state(self, key: str, kind: str) -> str:
        """``ruled`` (this button's rule exists), ``hidden`` (another rule hides it) or ``shown``."""
        return "ruled" if (key, kind) in self.ruled else "hidden" if key in self.hidden else "shown"


def hide_marks(patient: User, keys: KeyBundle, bundles: list[dict]) -> HideMarks:
    """:class:`HideMarks` over the bundles a patient's page shows."""
    rules = hide_rules(patient, keys)
    if not rules:
        return HideMarks()
    by_key = {r.key: r for r in rules}
    hidden, ruled = set(), set()
    for bundle in bundles:
        hidden |= hiding.hidden_entries(rules, bundle)
        for url, facts in item_facts(bundle).items():
            for kind in hiding.KINDS:
                try:
                    if hiding.rule_from(url, facts, kind).key in by_key:
                        ruled.add((url, kind))
                except hiding.NotHideable:
                    pass
    return HideMarks(frozenset(hidden), frozenset(ruled))


# ----- keys and redacted copies ------------------------------------------------------------
def _share(record: Record, patient: User, keys: KeyBundle, rules: list[hiding.Rule],
           add: tuple[User, ...] = ()) -> str | None:
    """THE one place that decides what the doctors reading ``record`` (and those in ``add``) get.

    No rule hides anything in it: the record's own key. Otherwise a redacted copy,
    sealed for them with each visible entry's salted leaf, and no record key. The
    author of a doctor-written record keeps its key (they wrote it). Called on every
    grant, every upload and every change of the rules. Returns the storage key of a
    replaced copy, to delete once committed.
    """
    session = db.session()
    doctors = {d.id: d for d in (*_doctor_readers(record), *add) if d.id not in (record.owner_id, record.author_id)}
    share = session.get(RecordShare, record.id)
    if not rules and share is None:  # nothing to hide anywhere: no need to open the record
        for doctor in doctors.values():
            _give_record_key(record, patient, keys, doctor)
        return None
    opened = records.open_record(record, patient, keys)
    if opened.bundle is None or opened.integrity.state == "modified":
        return None  # nobody can read it (missing, altered); no key is given
    hidden = hiding.hidden_entries(rules, opened.bundle)
    if share is not None and hidden and _share_hides(share, patient, keys, opened.bundle) == hidden:
        for doctor in doctors.values():
            _give_share_key(record, patient, keys, doctor)
        return None
    stale = None
    if share is not None:
        stale = share.storage_key
        session.execute(delete(ShareKey).where(ShareKey.record_id == record.id))
        session.delete(share)
        session.flush()
    if hidden:
        session.execute(delete(RecordKey).where(RecordKey.record_id == record.id,
                                                RecordKey.user_id.in_(list(doctors))))
        _store_share(record, patient, opened, hidden, list(doctors.values()))
    else:
        for doctor in doctors.values():
            _give_record_key(record, patient, keys, doctor)
    return stale


def share_new_record(patient: User, keys: KeyBundle, record: Record) -> None:
    """Give the patient's all-records doctors what the rules let them see of a record just uploaded."""
    _share(record, patient, keys, hide_rules(patient, keys), tuple(all_records_readers(patient)))
    db.session().commit()


def catch_up(patient: User, keys: KeyBundle) -> int:
    """Key, for the patient's all-records doctors, the records another doctor wrote for the patient while the
    rules could not be read (a doctor's session has no key to them); returns how many records were keyed."""
    session = db.session()
    waiting: set[str] = set()
    for doctor in all_records_readers(patient):
        waiting |= set(session.scalars(select(Record.id).where(
            Record.owner_id == patient.id, Record.author_id != doctor.id,
            Record.id.not_in(select(RecordKey.record_id).where(RecordKey.user_id == doctor.id)),
            Record.id.not_in(select(ShareKey.record_id).where(ShareKey.user_id == doctor.id)))))
    if waiting:
        rules, readers = hide_rules(patient, keys), tuple(all_records_readers(patient))
        for record_id in sorted(waiting):
            _share(session.get(Record, record_id), patient, keys, rules, readers)
        session.commit()
    return len(waiting)


def _give_record_key(record: Record, patient: User, keys: KeyBundle, doctor: User) -> None:
    if _wrapped_record_key(record.id, doctor.id) is not None:
        return
    wrapped = vault.rewrap(_wrapped_record_key(record.id, patient.id), keys.rsa_private,
                           vault.load_public_pem(doctor.rsa_public_pem.encode()), records.record_aad(record.id))
    db.session().add(RecordKey(record_id=record.id, user_id=doctor.id, wrapped_key=wrapped))


def _give_share_key(record: Record, patient: User, keys: KeyBundle, doctor: User) -> None:
    session = db.session()
    keyed = {uid: key for uid, key in session.execute(select(ShareKey.user_id, ShareKey.wrapped_key)
                                                      .where(ShareKey.record_id == record.id))}
    if doctor.id in keyed:
        return
    doctor_pub = vault.load_public_pem(doctor.rsa_public_pem.encode())
    wrapped = vault.rewrap(keyed[patient.id], keys.rsa_private, doctor_pub, _share_aad(record.id))
    session.add(ShareKey(record_id=record.id, user_id=doctor.id, wrapped_key=wrapped))


def _share_hides(share: RecordShare, patient: User, keys: KeyBundle, bundle: dict) -> set[str] | None:
    """The entries the stored redacted copy leaves out (None if it cannot be read)."""
    owner_key = db.session().scalar(select(ShareKey.wrapped_key).where(ShareKey.record_id == share.record_id,
                                                                       ShareKey.user_id == patient.id))
    try:
        payload = json.loads(vault.open_sealed(services.storage().get(share.storage_key), owner_key,
                                               keys.rsa_private, _share_aad(share.record_id)))
    except (StorageError, vault.VaultError, ValueError):
        return None
    shown = {e["fullUrl"] for e in payload["bundle"].get("entry", [])}
    return {e["fullUrl"] for e in bundle.get("entry", [])} - shown


def _wrapped_record_key(record_id: str, user_id: int) -> bytes | None:
    return db.session().scalar(select(RecordKey.wrapped_key).where(RecordKey.record_id == record_id,
                                                                   RecordKey.user_id == user_id))


def _share_aad(record_id: str) -> bytes:
    return b"phr-share:v1:" + record_id.encode()


def _doctor_readers(record: Record) -> list[User]:
    ids = set(db.session().scalars(select(RecordKey.user_id).where(RecordKey.record_id == record.id)))
    ids |= set(db.session().scalars(select(ShareKey.user_id).where(ShareKey.record_id == record.id)))
    ids.discard(record.owner_id)
    return [db.session().get(User, i) for i in sorted(ids)]


def _store_share(record: Record, patient: User, opened: records.Opened, hidden: set[str], readers: list[User]) -> None:
    disclosure_key, bundle = opened.disclosure_key, opened.bundle
    leaves = records.entry_leaves(bundle, disclosure_key)
    visible = [(i, e) for i, e in enumerate(bundle.get("entry", [])) if e["fullUrl"] not in hidden]
    redacted = dict(bundle, entry=[e for _, e in visible])
    payload = {
        "format": "phr-share/1", "record_id": record.id, "bundle": redacted,
        "leaves": [leaf.hex() for leaf in leaves], "positions": [i for i, _ in visible],
        "salts": [merkle.entry_salt(disclosure_key, e["fullUrl"]).hex() for _, e in visible],
    }
    members = {str(u.id): vault.load_public_pem(u.rsa_public_pem.encode()) for u in (patient, *readers)}
    sealed = vault.seal(json.dumps(payload).encode(), _share_aad(record.id), members)
    key = f"shares/{secrets.token_hex(16)}"
    try:
        services.storage().put(key, sealed.ciphertext)
    except StorageError as exc:
        raise SharingError(_("The shared copy could not be stored (%(error)s); nothing changed.", error=exc)) from None
    session = db.session()
    session.add(RecordShare(record_id=record.id, storage_key=key))
    session.flush()
    for uid, wrapped in sealed.wrapped_keys.items():
        session.add(ShareKey(record_id=record.id, user_id=int(uid), wrapped_key=wrapped))


def _delete_quietly(key: str) -> None:
    try:
        services.storage().delete(key)
    except StorageError:
        pass


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
    has_key = _wrapped_record_key(record.id, doctor.id) is not None or db.session().scalar(
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
        payload = json.loads(vault.open_sealed(ciphertext, share_key, keys.rsa_private, _share_aad(record.id)))
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
    readers = [] if _has_rules(patient) else [d for d in all_records_readers(patient) if d.id != doctor.id]
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
