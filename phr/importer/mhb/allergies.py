"""r4 drug allergies → AllergyIntolerance (with the recording PractitionerRole)."""
from __future__ import annotations

import json

from phr.importer.fhir import HL7_CS
from phr.labels import N_

from .builder import Builder, phone, seed
from .document import Note

_SEVERITY = {"輕度": "mild", "中度": "moderate", "重度": "severe"}


def map_row(b: Builder, section: str, index: int, row: dict) -> None:
    get = lambda n: row.get(f"r4.{n}")
    if not b.first_time("r4", index, row):
        return
    org = b.organization(get(4), get(5), phone(get(6), get(7)), get(8))
    recorder = None
    if org or get(3):
        recorder = b.add({
            "resourceType": "PractitionerRole",
            "id": b.id("PractitionerRole", json.dumps(org, sort_keys=True), get(3) or ""),
            "organization": org,
            "practitioner": {"display": get(3)} if get(3) else None,
        })  # fmt: skip
    severity = _SEVERITY.get(get(9) or "")
    manifestations = [{"text": text} for text in (get(10), get(11)) if text]
    notes = [f"嚴重程度 (severity): {get(9)}" if get(9) and not severity else None,
             f"收載方式 (collection method): {get(12)}" if get(12) else None]
    b.add({
        "resourceType": "AllergyIntolerance",
        "id": b.id("AllergyIntolerance", seed(row)),
        "clinicalStatus": {"coding": [{"system": HL7_CS + "allergyintolerance-clinical", "code": "active"}]},
        "category": ["medication"],
        "code": {"text": get(2)},
        "patient": b.patient,
        "recordedDate": b.date("r4", index, get(1)),
        "recorder": recorder,
        "reaction": [{"manifestation": manifestations, "severity": severity}] if manifestations else None,
        "note": [{"text": text} for text in notes if text],
    })  # fmt: skip
    if severity and not manifestations:
        b.notes.append(Note(N_("r4 row %(row)d: severity %(value)s has no symptom to attach to and was left "
                               "out."), row=index, value=repr(get(9))))
