"""Visits (r1 Western-medicine outpatient, r2 inpatient, r3 dental, r9 Chinese-medicine) → Encounter,
Condition and Procedure; their order rows go to :mod:`.orders`."""
from __future__ import annotations

from dataclasses import dataclass

from phr.importer.fhir import HL7_CS

from .builder import Builder, seed
from .orders import OrderContext, map_orders, procedure
from .values import LOCAL, code, concept, diagnosis_codings, parsed_date, procedure_codings


def _pairs(first: int, count: int) -> tuple[tuple[int, int], ...]:
    return tuple((first + 2 * i, first + 2 * i + 1) for i in range(count))


@dataclass(frozen=True)
class Visit:
    """Field numbers of a visit section (r1, r2, r3, r9) and of its order rows."""

    label: str
    encounter_class: str
    facility: tuple[int, int]
    start: int
    end: int | None
    dispensed: int | None
    sequence: int
    diagnoses: tuple[tuple[int, int], ...]
    procedures: tuple[tuple[int, int], ...]
    treatment_codes: bool
    orders: dict[str, int]


_VISITS = {
    "r1": Visit("西醫門診 (Western-medicine outpatient visit)", "AMB", (3, 4), 5, None, 6, 7,
                ((8, 9), *_pairs(14, 5)), ((10, 11), *_pairs(24, 2)), False,
                {"code": 1, "name": 2, "quantity": 3, "days": 4}),
    "r2": Visit("住院 (inpatient stay)", "IMP", (3, 4), 5, 6, None, 9,
                ((10, 11), *_pairs(16, 19)), ((12, 13), *_pairs(54, 19)), False,
                {"start": 2, "end": 3, "code": 4, "name": 5, "quantity": 6}),
    "r3": Visit("牙醫門診 (dental outpatient visit)", "AMB", (3, 4), 5, None, None, 6,
                ((7, 8), *_pairs(13, 5)), ((9, 10), *_pairs(23, 2)), False,
                {"code": 1, "name": 2, "quantity": 3, "tooth": 4, "tooth_name": 5, "days": 6}),
    "r9": Visit("中醫門診 (Chinese-medicine outpatient visit)", "AMB", (3, 4), 5, None, None, 6,
                ((7, 8), *_pairs(13, 5)), ((9, 10), *_pairs(23, 2)), True,
                {"code": 1, "name": 2, "quantity": 3, "days": 4}),
}  # fmt: skip
_ENCOUNTER_CLASS = {"AMB": "ambulatory", "IMP": "inpatient encounter"}


def map_row(b: Builder, section: str, index: int, row: dict) -> None:
    """A visit row: Encounter, Conditions, Procedures and its orders; a dispensing-only r1 row: its orders."""
    layout = _VISITS[section]
    get = lambda n: row.get(f"{section}.{n}") if n else None
    if not b.first_time(section, index, row):
        return
    start, end = b.date(section, index, get(layout.start)), b.date(section, index, get(layout.end))
    dispensed = b.date(section, index, get(layout.dispensed))
    org = b.organization(get(layout.facility[0]), get(layout.facility[1]))
    if start is None and dispensed is not None:
        b.dispensing_rows += 1
        map_orders(b, section, index, row, layout.orders, OrderContext(None, dispensed, org, b.id(section, seed(row))))
        return
    encounter_id = b.id("Encounter", section, seed(row))
    context = OrderContext({"reference": f"urn:uuid:{encounter_id}"}, start, org, encounter_id)
    diagnoses = _diagnoses(b, section, row, layout, context)
    _procedures(b, section, row, layout, context)
    b.add({
        "resourceType": "Encounter",
        "id": encounter_id,
        "status": "finished",
        "class": {"system": HL7_CS + "v3-ActCode", "code": layout.encounter_class,
                  "display": _ENCOUNTER_CLASS[layout.encounter_class]},
        "type": [{"text": layout.label}],
        "identifier": [{"system": LOCAL + "NamingSystem/nhi-card-visit-sequence",
                        "value": get(layout.sequence)}] if get(layout.sequence) else None,
        "subject": b.patient,
        "serviceProvider": org,
        "period": {"start": start, "end": end},
        "diagnosis": [{"condition": ref, "rank": rank} for rank, ref in enumerate(diagnoses, 1)],
    })  # fmt: skip
    map_orders(b, section, index, row, layout.orders, context)


def _diagnoses(b: Builder, section: str, row: dict, layout: Visit, context: OrderContext) -> list[dict]:
    """One Condition per distinct diagnosis of the visit, principal first; returns their references."""
    refs, seen = [], set()
    for code_no, name_no in layout.diagnoses:
        raw, name = code(row.get(f"{section}.{code_no}")), row.get(f"{section}.{name_no}")
        key = raw or name
        if key is None or key in seen:
            continue
        seen.add(key)
        codings = diagnosis_codings(raw, parsed_date(context.date)) if raw else []
        refs.append(b.add({
            "resourceType": "Condition",
            "id": b.id("Condition", context.parent_id, key),
            "category": [{"coding": [{"system": HL7_CS + "condition-category", "code": "encounter-diagnosis",
                                      "display": "Encounter Diagnosis"}]}],
            "code": concept(codings, name),
            "subject": b.patient,
            "encounter": context.encounter,
            "recordedDate": context.date,
        }))  # fmt: skip
    return refs


def _procedures(b: Builder, section: str, row: dict, layout: Visit, context: OrderContext) -> None:
    seen = set()
    for code_no, name_no in layout.procedures:
        raw, name = code(row.get(f"{section}.{code_no}")), row.get(f"{section}.{name_no}")
        key = raw or name
        if key is None or key in seen:
            continue
        seen.add(key)
        when = parsed_date(context.date)
        codings = procedure_codings(raw, when, layout.treatment_codes) if raw else []
        procedure(b, b.id("Procedure", context.parent_id, key), concept(codings, name), context)
