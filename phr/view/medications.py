"""The medication history: prescriptions, dispensings and reported use, flagged for overlap and repeats."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from types import MappingProxyType

from ..labels import N_
from .fhir import (
    TWCORE,
    Source,
    _anchor,
    _coded,
    _concept_text,
    _date_text,
    _day,
    _desc,
    _dict,
    _join,
    _list,
    _number,
    _quantity_text,
    _str,
)

FULFIL_WINDOW_DAYS = 10
"""A dispensing this many days or fewer after a prescription of the same drug, quantity and supply is
taken as the filling of that prescription (a Taiwan chronic/released prescription), not a second supply."""
SOURCE_LABELS = MappingProxyType({
    "MedicationRequest": N_("Prescribed"),
    "MedicationDispense": N_("Dispensed"),
    "MedicationStatement": N_("Reported"),
})
_PREFERRED_DRUG_SYSTEMS = (TWCORE + "medication-nhi-tw", TWCORE + "nhi-medication-ch-herb-tw")
_DAYS_PER_UNIT = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30, "h": 1 / 24}


@dataclass(frozen=True)
class Medication:
    """One prescription, dispensing or reported use; a row of the medication history table.

    ``dose`` is the dosage text, ``quantity`` the amount supplied, ``days`` the days of supply.
    ``start``/``end`` are ISO dates; ``end`` is computed from ``days`` when the record gives none.
    ``overlap``: another row of the same drug covers part of the same period (``overlap_with``: their
    start dates). ``repeat``: the same drug also comes from another facility (``repeat_with``: those
    facilities).
    """

    key: str
    resource_type: str
    source_label: str
    name: str
    code: str | None
    system: str | None
    dose: str | None
    quantity: str | None
    days: int | None
    start: str | None
    end: str | None
    facility: str | None
    visit_key: str | None
    visit_anchor: str | None
    repeat: bool = False
    overlap: bool = False
    repeat_with: str = ""
    overlap_with: str = ""
    record_id: str | None = None
    author: str | None = None
    fulfils: str | None = None
    quantity_value: float | None = None
    sort_key: tuple = ()


def read_medications(src: Source) -> dict[str, Medication]:
    """Every visible prescription, dispensing and reported use by key, linked to its visit when shown."""
    encounters = {k for k, _ in src.visible("Encounter")}
    out = {}
    for key, resource in src.visible("MedicationRequest", "MedicationDispense", "MedicationStatement"):
        visit = src.index.key_of(resource.get("encounter") or resource.get("context"), resource)
        out[key] = medication_of(src, key, resource, visit if visit in encounters else None)
    return out


def medication_of(src: Source, key: str, resource: dict, visit_key: str | None) -> Medication:
    """One medication row: drug (NHI code preferred), dose, amount, supply days, period and facility."""
    kind = resource["resourceType"]
    concept = resource.get("medicationCodeableConcept")
    if concept is None:
        _, med = src.index.resolve(resource.get("medicationReference"), resource)
        concept = med.get("code") or {"text": _str(_dict(resource.get("medicationReference")).get("display"))}
    code, system, name = _coded(concept, _PREFERRED_DRUG_SYSTEMS)
    request = _dict(resource.get("dispenseRequest"))
    dosage = [_dict(d) for d in _list(resource.get("dosageInstruction") or resource.get("dosage"))]
    dose = _join(_dosage_text(d) for d in dosage)
    amount = _dict(request.get("quantity") if kind == "MedicationRequest" else resource.get("quantity"))
    supply = request.get("expectedSupplyDuration") if kind == "MedicationRequest" else resource.get("daysSupply")
    days = _days(supply)
    if kind == "MedicationRequest":
        period = _dict(request.get("validityPeriod"))
        start = _date_text(resource.get("authoredOn")) or _date_text(period.get("start"))
        end = _date_text(period.get("end"))
        facility = src.index.party(resource.get("requester"), resource)
    elif kind == "MedicationDispense":
        period = {}
        start = _date_text(resource.get("whenHandedOver")) or _date_text(resource.get("whenPrepared"))
        end = None
        facility = _join(src.index.party(_dict(p).get("actor"), resource)
                         for p in _list(resource.get("performer")))  # fmt: skip
        facility = facility or src.index.party(resource.get("location"), resource)
    else:
        period = _dict(resource.get("effectivePeriod"))
        start = _date_text(resource.get("effectiveDateTime")) or _date_text(period.get("start")) or \
            _date_text(resource.get("dateAsserted"))  # fmt: skip
        end = _date_text(period.get("end"))
        facility = src.index.party(resource.get("informationSource"), resource)
    if facility is None and visit_key:
        _, encounter = src.index.resolve({"reference": visit_key})
        facility = src.index.party(encounter.get("serviceProvider"), encounter)
    if end is None and days and (first := _day(start)):
        end = (first + timedelta(days=max(days, 1) - 1)).isoformat()
    fulfils = next((k for ref in _list(resource.get("authorizingPrescription"))
                    if (k := src.index.key_of(ref, resource))), None)  # fmt: skip
    return Medication(
        key=key, resource_type=kind, source_label=SOURCE_LABELS[kind], name=name, code=code, system=system,
        dose=dose, quantity=_quantity_text(amount), days=days, start=start, end=end, facility=facility,
        visit_key=visit_key, visit_anchor=_anchor("visit", visit_key) if visit_key else None,
        fulfils=fulfils, quantity_value=_number(amount.get("value")),
        sort_key=(_desc(start or ""), name, key), **src.tag(),
    )


def _dosage_text(dosage: dict) -> str | None:
    if text := _str(dosage.get("text")):
        return text
    parts = []
    for rate in _list(dosage.get("doseAndRate")):
        parts.append(_quantity_text(_dict(_dict(rate).get("doseQuantity"))))
    parts.append(_concept_text(_dict(dosage.get("timing")).get("code")))
    parts.append(_concept_text(dosage.get("route")))
    return _join(parts, " ")


def _days(duration: object) -> int | None:
    duration = _dict(duration)
    value = _number(duration.get("value"))
    unit = _str(duration.get("code")) or _str(duration.get("unit")) or "d"
    factor = _DAYS_PER_UNIT.get(unit)
    if value is None or factor is None or value <= 0:
        return None
    days = float(value) * factor
    return max(1, round(days)) if days < 100_000 else None


def _drug_identity(med: Medication) -> str | None:
    if med.code:
        return f"code:{med.code.upper()}"
    return f"name:{med.name.casefold()}" if med.name else None


def _period(med: Medication) -> tuple[date, date] | None:
    first = _day(med.start)
    if first is None:
        return None
    last = _day(med.end) or first
    return first, max(first, last)


def _fills(request: Medication, dispense: Medication) -> bool:
    """The dispensing is the filling of the prescription (linked, or same drug/amount within the window)."""
    if dispense.fulfils is not None:
        return dispense.fulfils == request.key
    start, handed = _day(request.start), _day(dispense.start)
    if start is None or handed is None or not 0 <= (handed - start).days <= FULFIL_WINDOW_DAYS:
        return False
    same_quantity = None in (request.quantity_value, dispense.quantity_value) or \
        request.quantity_value == dispense.quantity_value  # fmt: skip
    same_days = None in (request.days, dispense.days) or request.days == dispense.days
    return same_quantity and same_days


def _same_supply(a: Medication, b: Medication) -> bool:
    kinds = {a.resource_type, b.resource_type}
    if kinds == {"MedicationRequest", "MedicationDispense"}:
        request, dispense = (a, b) if a.resource_type == "MedicationRequest" else (b, a)
        return _fills(request, dispense)
    return False


def flag_medications(meds: list[Medication]) -> list[Medication]:
    """Set ``overlap``/``repeat`` on every row (re-computed from scratch) and sort latest first.

    overlap: another row of the same drug (NHI or other code; the name when there is no code) whose
    supply period shares a day with this one. repeat: the same drug from another facility. A dispensing
    that fills a listed prescription is neither (see ``FULFIL_WINDOW_DAYS``).
    """
    groups: dict[str, list[int]] = {}
    for position, med in enumerate(meds):
        if identity := _drug_identity(med):
            groups.setdefault(identity, []).append(position)
    overlaps: dict[int, list[str]] = {}
    repeats: dict[int, list[str]] = {}
    for positions in groups.values():
        for i, a_pos in enumerate(positions):
            for b_pos in positions[i + 1:]:
                a, b = meds[a_pos], meds[b_pos]
                if a.key == b.key or _same_supply(a, b):
                    continue
                pa, pb = _period(a), _period(b)
                if pa and pb and pa[0] <= pb[1] and pb[0] <= pa[1]:
                    overlaps.setdefault(a_pos, []).append(b.start or "")
                    overlaps.setdefault(b_pos, []).append(a.start or "")
                if a.facility and b.facility and a.facility.casefold() != b.facility.casefold():
                    repeats.setdefault(a_pos, []).append(b.facility)
                    repeats.setdefault(b_pos, []).append(a.facility)
    flagged = [
        replace(med, overlap=pos in overlaps, overlap_with=", ".join(sorted(set(overlaps.get(pos, [])), reverse=True)),
                repeat=pos in repeats, repeat_with=", ".join(sorted(set(repeats.get(pos, [])))))
        for pos, med in enumerate(meds)
    ]  # fmt: skip
    flagged.sort(key=lambda m: m.sort_key)
    return flagged
