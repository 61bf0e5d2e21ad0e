"""Order rows of visits (r1_1, r2_1, r3_1, r9_1): drugs and herbs → MedicationRequest or MedicationDispense,
dental fee items with a tooth → Procedure; billing lines are reported as skipped."""
from __future__ import annotations

from dataclasses import dataclass

from phr.labels import N_

from .builder import Builder, seed
from .document import Note
from .values import FEE_CODE, LOCAL, TWCORE, code, concept, fhir_date, number, order_system, quantity


@dataclass(frozen=True)
class OrderContext:
    """Where order rows of one visit row attach: its Encounter (None for dispensing rows) and date."""

    encounter: dict | None
    date: str | None
    organization: dict | None
    parent_id: str


def procedure(b: Builder, resource_id: str, code_concept: dict, context: OrderContext,
              body_site: dict | None = None) -> None:
    b.add({
        "resourceType": "Procedure",
        "id": resource_id,
        "status": "completed",
        "code": code_concept,
        "subject": b.patient,
        "encounter": context.encounter,
        "performedDateTime": context.date,
        "bodySite": [body_site] if body_site else None,
    })  # fmt: skip


def map_orders(b: Builder, section: str, index: int, row: dict, roles: dict[str, int], context: OrderContext) -> None:
    """Map the order rows (``section``_1) of one visit row; ``roles`` gives their field numbers."""
    child_section = f"{section}_1"
    for position, child in enumerate(row.get(child_section, [])):
        get = lambda role: child.get(f"{child_section}.{roles[role]}") if role in roles else None  # noqa: B023
        raw, name = code(get("code")), get("name")
        resource_id = b.id("Order", context.parent_id, seed(child))
        if not b.first_time(child_section, position, child, parent=(section, index)):
            continue
        system = order_system(raw) if raw else None
        if system is None and raw and get("tooth") and FEE_CODE.fullmatch(raw):
            tooth = concept([{"system": LOCAL + "CodeSystem/mhb-tooth-position", "code": code(get("tooth"))}],
                            get("tooth_name"))
            fee = concept([{"system": TWCORE + "medical-service-payment-tw", "code": raw}], name)
            procedure(b, resource_id, fee, context, tooth)
        elif system is None:
            b.skip(child_section, position, _not_medication_reason(section, index, raw, name))
        elif context.encounter is None:
            _dispense(b, resource_id, concept([{"system": system, "code": raw}], name), get, context)
        else:
            _request(b, resource_id, concept([{"system": system, "code": raw}], name), get, context)


def _request(b: Builder, resource_id: str, medication: dict, get, context: OrderContext) -> None:
    days = number(get("days"))
    quantity_value = number(get("quantity"))
    start, end = fhir_date(get("start")), fhir_date(get("end"))
    b.add({
        "resourceType": "MedicationRequest",
        "id": resource_id,
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": medication,
        "subject": b.patient,
        "encounter": context.encounter,
        "authoredOn": start or context.date,
        "requester": context.organization,
        "dispenseRequest": {
            "quantity": quantity(quantity_value) if quantity_value is not None else None,
            "expectedSupplyDuration": quantity(days, "d") if days else None,
            "validityPeriod": {"start": start, "end": end},
        },
    })  # fmt: skip


def _dispense(b: Builder, resource_id: str, medication: dict, get, context: OrderContext) -> None:
    days = number(get("days"))
    quantity_value = number(get("quantity"))
    b.add({
        "resourceType": "MedicationDispense",
        "id": resource_id,
        "status": "completed",
        "medicationCodeableConcept": medication,
        "subject": b.patient,
        "performer": [{"actor": context.organization}] if context.organization else None,
        "quantity": quantity(quantity_value) if quantity_value is not None else None,
        "daysSupply": quantity(days, "d") if days else None,
        "whenHandedOver": context.date,
    })  # fmt: skip


def _not_medication_reason(section: str, index: int, raw: str | None, name: str | None) -> Note:
    """Why order row ``raw`` of ``section`` row ``index`` is not a medication (``label`` is the order's name)."""
    where = {"section": section, "row": index, "label": f" ({name})" if name else ""}
    if raw is None:
        return Note(N_("%(section)s row %(row)d: order row without a code%(label)s"), **where)
    if FEE_CODE.fullmatch(raw):
        return Note(N_("%(section)s row %(row)d: NHI fee-schedule item %(code)s%(label)s: a billing or test-order "
                       "line, not a clinical resource"), code=raw, **where)
    if len(raw) == 12:
        return Note(N_("%(section)s row %(row)d: 12-character code %(code)s%(label)s: probably a special material "
                       "(billing line)"), code=raw, **where)
    return Note(N_("%(section)s row %(row)d: order code %(code)s%(label)s is not a drug, herbal or fee-schedule "
                   "code"), code=repr(raw), **where)
