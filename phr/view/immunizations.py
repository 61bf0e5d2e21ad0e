"""Immunizations."""
from __future__ import annotations

from dataclasses import dataclass

from .fhir import Source, _coded, _date_text, _dict, _join, _latest, _list, _str


@dataclass(frozen=True)
class Immunization:
    key: str
    vaccine: str
    code: str | None
    system: str | None
    date: str | None
    performer: str | None
    status: str | None
    record_id: str | None = None
    author: str | None = None


def read_immunizations(src: Source) -> list[Immunization]:
    """Immunizations latest first."""
    out = []
    for key, resource in src.visible("Immunization"):
        code, system, vaccine = _coded(resource.get("vaccineCode"))
        performer = _join(src.index.party(_dict(p).get("actor"), resource)
                          for p in _list(resource.get("performer")))  # fmt: skip
        out.append(Immunization(
            key, vaccine, code, system,
            _date_text(resource.get("occurrenceDateTime")) or _date_text(resource.get("recorded")),
            performer or src.index.party(resource.get("location"), resource), _str(resource.get("status")),
            **src.tag(),
        ))  # fmt: skip
    return _latest(out, lambda i: i.date)
