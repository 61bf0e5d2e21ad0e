"""Consents: advance directives such as organ donation and hospice wishes."""
from __future__ import annotations

from dataclasses import dataclass

from .fhir import Source, _concept_text, _date_text, _dict, _join, _latest, _list, _str


@dataclass(frozen=True)
class Consent:
    key: str
    text: str
    scope: str | None
    status: str | None
    date: str | None
    policy: str | None
    record_id: str | None = None
    author: str | None = None


def read_consents(src: Source) -> list[Consent]:
    """Consents latest first."""
    out = []
    for key, resource in src.visible("Consent"):
        text = _join(_concept_text(c) for c in _list(resource.get("category"))) or ""
        out.append(Consent(
            key, text, _concept_text(resource.get("scope")), _str(resource.get("status")),
            _date_text(resource.get("dateTime")),
            _str(_dict(resource.get("policyRule")).get("text")) or _join(
                _str(_dict(p).get("uri")) for p in _list(resource.get("policy"))), **src.tag(),
        ))  # fmt: skip
    return _latest(out, lambda c: c.date)
