"""r6 vaccinations → Immunization."""
from __future__ import annotations

from phr.importer.fhir import HL7_CS
from phr.labels import N_

from .builder import Builder, seed
from .document import Note


def map_row(b: Builder, section: str, index: int, row: dict) -> None:
    get = lambda n: row.get(f"r6.{n}")
    when = b.date("r6", index, get(1))
    if when is None:
        b.skip("r6", index, Note(N_("vaccination without a valid date (r6.1)")))
        return
    if not b.first_time("r6", index, row):
        return
    unknown = {"coding": [{"system": HL7_CS + "data-absent-reason", "code": "unknown"}]}
    b.add({
        "resourceType": "Immunization",
        "id": b.id("Immunization", seed(row)),
        "status": "completed",
        "vaccineCode": {"text": get(3)} if get(3) else unknown,
        "patient": b.patient,
        "occurrenceDateTime": when,
        "performer": [{"actor": {"display": get(5)}}] if get(5) else None,
    })  # fmt: skip
