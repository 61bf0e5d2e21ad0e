"""A patient's hide rules and what each doctor gets: the record's key, or a redacted copy.

Hide rules (:mod:`.hiding` decides what they match) are sealed for the patient and apply to all their
records. A record in which they hide anything is shared as a redacted copy sealed for the doctors, with
each entry's salted Merkle leaf, so the doctor can check what they see against the anchored
``resourcesRoot`` without learning anything about what is hidden. :func:`share` is the one place that
decides, on every grant, upload and rule change.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, select

from .. import clock, db, merkle, services, vault
from ..custody import KeyBundle
from ..models import User
from ..records import service as records
from ..records.models import Record, RecordKey
from ..storage import StorageError
from ..view import item_facts
from . import hiding
from .grants import SharingError, all_records_readers
from .models import (
    HideRules,
    PrivacyTag,
    RecordShare,
    ShareKey,
)


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


def has_rules(patient: User) -> bool:
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
    stale = [k for record in records.records_for(patient) if (k := share(record, patient, keys, rules))]
    db.session().commit()
    for key in stale:
        delete_quietly(key)


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
    """What the record page's hide buttons need: entries hidden from doctors, the (entry, kind) pairs a rule can
    be made from (a visit needs its date and facility), and those whose rule exists (their button removes it)."""

    hidden: frozenset[str] = frozenset()
    hideable: frozenset[tuple[str, str]] = frozenset()
    ruled: frozenset[tuple[str, str]] = frozenset()

    def state(self, key: str, kind: str) -> str:
        """``ruled`` (this button's rule exists), ``hidden`` (another rule hides it), ``shown``, or ``none``
        (no rule of that kind can name the entry: no button)."""
        if (key, kind) in self.ruled:
            return "ruled"
        if key in self.hidden:
            return "hidden"
        return "shown" if (key, kind) in self.hideable else "none"


def hide_marks(patient: User, keys: KeyBundle, bundles: list[dict]) -> HideMarks:
    """:class:`HideMarks` over the bundles a patient's page shows."""
    by_key = {r.key: r for r in hide_rules(patient, keys)}
    hidden, hideable, ruled = set(), set(), set()
    for bundle in bundles:
        hidden |= hiding.hidden_entries(list(by_key.values()), bundle) if by_key else set()
        for url, facts in item_facts(bundle).items():
            for kind in hiding.KINDS:
                try:
                    key = hiding.rule_from(url, facts, kind).key
                except hiding.NotHideable:
                    continue
                hideable.add((url, kind))
                if key in by_key:
                    ruled.add((url, kind))
    return HideMarks(frozenset(hidden), frozenset(hideable), frozenset(ruled))


# ----- keys and redacted copies ------------------------------------------------------------
def share(record: Record, patient: User, keys: KeyBundle, rules: list[hiding.Rule],
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
    share(record, patient, keys, hide_rules(patient, keys), tuple(all_records_readers(patient)))
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
            share(session.get(Record, record_id), patient, keys, rules, readers)
        session.commit()
    return len(waiting)


def _give_record_key(record: Record, patient: User, keys: KeyBundle, doctor: User) -> None:
    if wrapped_record_key(record.id, doctor.id) is not None:
        return
    wrapped = vault.rewrap(wrapped_record_key(record.id, patient.id), keys.rsa_private,
                           vault.load_public_pem(doctor.rsa_public_pem.encode()), records.record_aad(record.id))
    db.session().add(RecordKey(record_id=record.id, user_id=doctor.id, wrapped_key=wrapped))


def _give_share_key(record: Record, patient: User, keys: KeyBundle, doctor: User) -> None:
    session = db.session()
    keyed = {uid: key for uid, key in session.execute(select(ShareKey.user_id, ShareKey.wrapped_key)
                                                      .where(ShareKey.record_id == record.id))}
    if doctor.id in keyed:
        return
    doctor_pub = vault.load_public_pem(doctor.rsa_public_pem.encode())
    wrapped = vault.rewrap(keyed[patient.id], keys.rsa_private, doctor_pub, share_aad(record.id))
    session.add(ShareKey(record_id=record.id, user_id=doctor.id, wrapped_key=wrapped))


def _share_hides(share: RecordShare, patient: User, keys: KeyBundle, bundle: dict) -> set[str] | None:
    """The entries the stored redacted copy leaves out (None if it cannot be read)."""
    owner_key = db.session().scalar(select(ShareKey.wrapped_key).where(ShareKey.record_id == share.record_id,
                                                                       ShareKey.user_id == patient.id))
    try:
        payload = json.loads(vault.open_sealed(services.storage().get(share.storage_key), owner_key,
                                               keys.rsa_private, share_aad(share.record_id)))
    except (StorageError, vault.VaultError, ValueError):
        return None
    shown = {e["fullUrl"] for e in payload["bundle"].get("entry", [])}
    return {e["fullUrl"] for e in bundle.get("entry", [])} - shown


def wrapped_record_key(record_id: str, user_id: int) -> bytes | None:
    return db.session().scalar(select(RecordKey.wrapped_key).where(RecordKey.record_id == record_id,
                                                                   RecordKey.user_id == user_id))


def share_aad(record_id: str) -> bytes:
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
    sealed = vault.seal(json.dumps(payload).encode(), share_aad(record.id), members)
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


def delete_quietly(key: str) -> None:
    try:
        services.storage().delete(key)
    except StorageError:
        pass
