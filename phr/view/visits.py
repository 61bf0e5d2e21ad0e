"""Visits (Encounters) with the diagnoses, procedures and medications recorded in them.

Reason fields (``reasonCode``/``reasonReference``) are never shown: they often repeat a diagnosis text,
which would leak a hidden diagnosis.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from ..labels import N_
from .fhir import Source, _anchor, _coded, _concept_text, _date_text, _desc, _dict, _join, _latest, _list, _str
from .medications import Medication

KIND_LABELS = MappingProxyType({
    "western": N_("Western-medicine outpatient"),
    "chinese": N_("Chinese-medicine outpatient"),
    "dental": N_("Dental outpatient"),
    "inpatient": N_("Inpatient stay"),
    "programme": N_("Care-programme follow-up"),
    "emergency": N_("Emergency"),
    "outpatient": N_("Outpatient"),
    "other": N_("Visit"),
})
"""Visit kinds and their (English, translatable) labels."""


@dataclass(frozen=True)
class Diagnosis:
    """A diagnosis (Condition): ``code`` in ``system`` (a label such as "ICD-10-CM"), ``text`` to show."""

    key: str
    code: str | None
    system: str | None
    text: str
    principal: bool
    date: str | None
    visit_key: str | None
    record_id: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Procedure:
    key: str
    code: str | None
    system: str | None
    text: str
    body_site: str | None
    date: str | None
    visit_key: str | None
    record_id: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Visit:
    """An Encounter with what was recorded in it. ``anchor`` is a safe HTML id; ``kind`` a key of KIND_LABELS."""

    key: str
    anchor: str
    date: str | None
    end: str | None
    kind: str
    kind_label: str
    facility: str | None
    diagnoses: tuple[Diagnosis, ...]
    procedures: tuple[Procedure, ...]
    medications: tuple[Medication, ...]
    notes: tuple[str, ...]
    record_id: str | None = None
    author: str | None = None
    sort_key: tuple = ()


def read_visits(
    src: Source, medications: dict[str, Medication],
) -> tuple[list[Visit], list[Diagnosis], list[Procedure]]:
    """Visits latest first, each with what was recorded in it, and the diagnoses and procedures of no visit."""
    encounters = dict(src.visible("Encounter"))
    diagnoses: dict[str, list[Diagnosis]] = {k: [] for k in encounters}
    procedures: dict[str, list[Procedure]] = {k: [] for k in encounters}
    loose_diagnoses, loose_procedures = [], []
    ranks: dict[str, tuple[str, int | None]] = {}
    for enc_key, encounter in encounters.items():
        for position, item in enumerate(_list(encounter.get("diagnosis"))):
            cond_key = src.index.key_of(_dict(item).get("condition"), encounter)
            rank = _dict(item).get("rank")
            if cond_key and cond_key not in ranks:
                ranks[cond_key] = (enc_key, rank if isinstance(rank, int) else None)
    for key, condition in src.visible("Condition"):
        enc_key, rank = ranks.get(key, (None, None))
        own = src.index.key_of(condition.get("encounter"), condition)
        enc_key = own if own in encounters else enc_key
        item = diagnosis_of(src, key, condition, enc_key, rank)
        (diagnoses[enc_key] if enc_key in encounters else loose_diagnoses).append(item)
    for key, resource in src.visible("Procedure"):
        enc_key = src.index.key_of(resource.get("encounter"), resource)
        enc_key = enc_key if enc_key in encounters else None
        item = procedure_of(src, key, resource, enc_key)
        (procedures[enc_key] if enc_key else loose_procedures).append(item)
    visit_meds: dict[str, list[Medication]] = {}
    for med in medications.values():
        if med.visit_key:
            visit_meds.setdefault(med.visit_key, []).append(med)
    visits = []
    for key, encounter in encounters.items():
        period = _dict(encounter.get("period"))
        start, end = _date_text(period.get("start")), _date_text(period.get("end"))
        kind = encounter_kind(encounter)
        facility = src.index.party(encounter.get("serviceProvider"), encounter)
        notes = []
        for episode_ref in _list(encounter.get("episodeOfCare")):
            _, episode = src.index.resolve(episode_ref, encounter)
            facility = facility or src.index.party(episode.get("managingOrganization"), episode)
            notes.append(_join(_concept_text(t) for t in _list(episode.get("type"))))
        if kind in ("programme", "outpatient", "emergency", "other"):
            notes += [_concept_text(t) for t in _list(encounter.get("type"))]
        facility = facility or _join(src.index.party(_dict(loc).get("location"), encounter)
                                     for loc in _list(encounter.get("location")))  # fmt: skip
        visits.append(Visit(
            key=key, anchor=_anchor("visit", key), date=start, end=end if end != start else None, kind=kind,
            kind_label=KIND_LABELS[kind], facility=facility,
            diagnoses=tuple(sorted(diagnoses[key], key=lambda d: (not d.principal, d.text, d.key))),
            procedures=tuple(sorted(procedures[key], key=lambda p: (p.text, p.key))),
            medications=tuple(sorted(visit_meds.get(key, []), key=lambda m: (m.name, m.key))),
            notes=tuple(n for n in dict.fromkeys(notes) if n),
            sort_key=(_desc(_str(period.get("start")) or ""), key),
            **src.tag(),
        ))  # fmt: skip
    visits.sort(key=lambda v: v.sort_key)
    return visits, _latest(loose_diagnoses, lambda d: d.date), _latest(loose_procedures, lambda p: p.date)


def encounter_kind(encounter: dict) -> str:
    """The visit kind (a key of :data:`KIND_LABELS`) from the class code and the type's words."""
    if _list(encounter.get("episodeOfCare")):
        return "programme"
    klass = _dict(encounter.get("class"))
    code = (_str(klass.get("code")) or "").upper()
    words = " ".join(filter(None, [_concept_text(t) or "" for t in _list(encounter.get("type"))]
                            + [_str(klass.get("display")) or ""])).lower()  # fmt: skip
    if code in ("IMP", "ACUTE", "NONAC") or "住院" in words or "inpatient" in words:
        return "inpatient"
    if "牙醫" in words or "dental" in words or "dentist" in words:
        return "dental"
    if "中醫" in words or "chinese" in words or "traditional" in words:
        return "chinese"
    if "西醫" in words or "western" in words:
        return "western"
    if code == "EMER" or "emergency" in words:
        return "emergency"
    if code in ("AMB", "OBSENC", "PRENC", "SS", "VR", "HH", "FLD"):
        return "outpatient"
    return "other"


def diagnosis_of(src: Source, key: str, condition: dict, visit_key: str | None, rank: int | None) -> Diagnosis:
    """One diagnosis; ``rank`` 1 marks the principal diagnosis of its visit."""
    code, system, text = _coded(condition.get("code"))
    when = _date_text(condition.get("recordedDate")) or _date_text(condition.get("onsetDateTime")) or \
        _date_text(_dict(condition.get("onsetPeriod")).get("start"))  # fmt: skip
    return Diagnosis(key, code, system, text, rank == 1, when, visit_key, **src.tag())


def procedure_of(src: Source, key: str, procedure: dict, visit_key: str | None) -> Procedure:
    """One procedure with its body sites."""
    code, system, text = _coded(procedure.get("code"))
    site = _join([_concept_text(s) for s in _list(procedure.get("bodySite"))])
    when = _date_text(procedure.get("performedDateTime")) or \
        _date_text(_dict(procedure.get("performedPeriod")).get("start"))  # fmt: skip
    return Procedure(key, code, system, text, site, when, visit_key, **src.tag())
