"""The patient header: who the record is about, with a masked identifier only."""
from __future__ import annotations

from dataclasses import dataclass

from .fhir import LOCAL, Source, _dict, _human_name, _list, _str

_MASKED_ID_SYSTEM = LOCAL + "NamingSystem/mhb-masked-national-id"


@dataclass(frozen=True)
class PatientSummary:
    """Who the record is about: ``masked_id`` never shows a full identifier."""

    masked_id: str | None = None
    name: str | None = None
    gender: str | None = None
    birth_date: str | None = None


def read_patient(src: Source) -> PatientSummary:
    """The first Patient entry: identifier masked (the masked national id preferred), name, gender, birth date."""
    patients = src.index.of_type("Patient")
    if not patients:
        return PatientSummary()
    resource = patients[0][1]
    identifiers = [_dict(i) for i in _list(resource.get("identifier"))]
    identifiers.sort(key=lambda i: i.get("system") != _MASKED_ID_SYSTEM)
    masked = next((_mask(v) for i in identifiers if (v := _str(i.get("value")))), None)
    return PatientSummary(masked, _human_name(resource.get("name")), _str(resource.get("gender")),
                          _str(resource.get("birthDate")))


def merge_patients(patients: list[PatientSummary]) -> PatientSummary:
    """One header from several records: each field from the first record that has it (a known gender first)."""
    return PatientSummary(
        masked_id=next((p.masked_id for p in patients if p.masked_id), None),
        name=next((p.name for p in patients if p.name), None),
        gender=next((p.gender for p in patients if p.gender not in (None, "unknown")), None)
        or next((p.gender for p in patients if p.gender), None),
        birth_date=next((p.birth_date for p in patients if p.birth_date), None),
    )  # fmt: skip


def _mask(value: str) -> str:
    """Keep an already masked identifier; otherwise show only the first two and last two characters."""
    if "*" in value:
        return value
    if len(value) <= 6:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]
