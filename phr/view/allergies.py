"""Allergies and intolerances."""
from __future__ import annotations

from dataclasses import dataclass

from .fhir import Source, _coded, _concept_text, _date_text, _dict, _first_code, _join, _latest, _list, _str


@dataclass(frozen=True)
class Allergy:
    key: str
    substance: str
    code: str | None
    system: str | None
    categories: tuple[str, ...]
    clinical_status: str | None
    criticality: str | None
    severity: str | None
    reactions: tuple[str, ...]
    date: str | None
    recorder: str | None
    notes: tuple[str, ...]
    record_id: str | None = None
    author: str | None = None


def read_allergies(src: Source) -> list[Allergy]:
    """Allergies latest first, with reactions and who recorded them."""
    out = []
    for key, resource in src.visible("AllergyIntolerance"):
        code, system, substance = _coded(resource.get("code"))
        reactions = [_dict(r) for r in _list(resource.get("reaction"))]
        substance = substance or _join(_concept_text(r.get("substance")) for r in reactions) or ""
        out.append(Allergy(
            key, substance, code, system, tuple(c for c in map(_str, _list(resource.get("category"))) if c),
            _first_code(resource.get("clinicalStatus")), _str(resource.get("criticality")),
            _join(_str(r.get("severity")) for r in reactions),
            tuple(t for r in reactions for m in _list(r.get("manifestation")) if (t := _concept_text(m))),
            _date_text(resource.get("recordedDate")) or _date_text(resource.get("onsetDateTime")),
            src.index.party(resource.get("recorder"), resource) or src.index.party(resource.get("asserter"),
                                                                                     resource),
            tuple(t for n in _list(resource.get("note")) if (t := _str(_dict(n).get("text")))), **src.tag(),
        ))  # fmt: skip
    return _latest(out, lambda a: a.date)
