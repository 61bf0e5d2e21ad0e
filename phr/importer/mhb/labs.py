"""r7 laboratory results → Observation, grouped into one DiagnosticReport per facility, test and day."""
from __future__ import annotations

from phr.importer.fhir import HL7_CS
from phr.labels import N_

from .builder import Builder, category, seed
from .document import Note
from .values import TWCORE, code, concept, fhir_instant, observation_value, reference_range


def map_row(b: Builder, section: str, index: int, row: dict) -> None:
    get = lambda n: row.get(f"r7.{n}")
    raw, label = code(get(8)), get(10) or get(9)
    if raw is None and label is None:
        b.skip("r7", index, Note(N_("lab result without a test code or name")))
        return
    if not b.first_time("r7", index, row):
        return
    org = b.organization(get(3), get(4))
    when = b.date("r7", index, get(6)) or b.date("r7", index, get(5))
    fee = [{"system": TWCORE + "medical-service-payment-tw", "code": raw, "display": get(9)}] if raw else []
    ref = b.observation(
        b.id("Observation", seed(row)), concept(fee, label), observation_value(get(11)), when,
        category("laboratory"), issued=fhir_instant(get(7)), performer=[org] if org else None,
        referenceRange=reference_range(get(12)),
    )
    if raw:
        group = b.lab_groups.setdefault((code(get(3)) or "", raw, when or ""), {
            "resourceType": "DiagnosticReport", "status": "final",
            "category": [{"coding": [{"system": HL7_CS + "v2-0074", "code": "LAB"}]}],
            "code": concept(fee[:1], get(9)), "subject": b.patient, "effectiveDateTime": when,
            "performer": [org] if org else None, "result": [],
        })  # fmt: skip
        group["result"].append(ref)
