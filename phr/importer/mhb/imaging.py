"""r8 imaging and pathology reports → DiagnosticReport."""
from __future__ import annotations

from phr.importer.fhir import HL7_CS

from .builder import Builder, seed
from .values import TWCORE, code, concept, fhir_instant


def map_row(b: Builder, section: str, index: int, row: dict) -> None:
    get = lambda n: row.get(f"r8.{n}")
    if not b.first_time("r8", index, row):
        return
    raw = code(get(8))
    org = b.organization(get(3), get(4))
    kind = "PAT" if raw and raw.startswith("25") else "RAD"
    fee = [{"system": TWCORE + "medical-service-payment-tw", "code": raw}] if raw else []
    b.add({
        "resourceType": "DiagnosticReport",
        "id": b.id("DiagnosticReport", seed(row)),
        "status": "final",
        "category": [{"coding": [{"system": HL7_CS + "v2-0074", "code": kind}]}],
        "code": concept(fee, get(9)) if (fee or get(9)) else {"text": "影像或病理檢查報告 (imaging or pathology report)"},
        "subject": b.patient,
        "effectiveDateTime": b.date("r8", index, get(6)) or b.date("r8", index, get(5)),
        "issued": fhir_instant(get(7)),
        "performer": [org] if org else None,
        "conclusion": get(10),
    })  # fmt: skip
