"""r5 organ-donation and palliative-care wishes → Consent."""
from __future__ import annotations

from phr.importer.fhir import HL7_CS

from .builder import Builder, seed
from .values import LOCAL, code


def map_row(b: Builder, section: str, index: int, row: dict) -> None:
    get = lambda n: row.get(f"r5.{n}")
    if not b.first_time("r5", index, row):
        return
    wish_code = code(get(2))
    b.add({
        "resourceType": "Consent",
        "id": b.id("Consent", seed(row)),
        "status": "active",
        "scope": {"coding": [{"system": HL7_CS + "consentscope", "code": "adr",
                              "display": "Advanced Care Directive"}]},
        "category": [{
            "coding": [{"system": HL7_CS + "consentcategorycodes", "code": "acd", "display": "Advance Directive"},
                       {"system": LOCAL + "CodeSystem/mhb-wish-code", "code": wish_code} if wish_code else None],
            "text": get(3),
        }],
        "patient": b.patient,
        "dateTime": b.date("r5", index, get(1)),
        "policyRule": {"text": "健保卡註記 (wish registered on the NHI card)"},
    })  # fmt: skip
