"""The builder core: deterministic ids, the shared Patient and Organizations, notes, Bundle assembly.

Each section's mapper (a module of this package) calls a ``Builder`` to add resources; ``build``
walks the sections in order and sorts the result, so the same data gives the same bytes whatever
the format or row order.
"""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from phr.importer.fhir import HL7_CS
from phr.labels import N_

from .document import MhbConversion, MhbDocument, Note, SkippedRow
from .parse import FIELD_COUNTS, SECTIONS
from .values import LOCAL, TWCORE, code, fhir_date

NAMESPACE = uuid.UUID("c891e0ad-f700-4f57-a611-b7c0b2da5fdf")
"""uuid5 namespace of every resource id made from an MHB file. Never change it."""
_TYPE_RANK = {kind: rank for rank, kind in enumerate((
    "Patient", "Organization", "PractitionerRole", "EpisodeOfCare", "Encounter", "Condition", "Procedure",
    "MedicationRequest", "MedicationDispense", "AllergyIntolerance", "Immunization", "Observation",
    "DiagnosticReport", "Consent",
))}  # fmt: skip
_KNOWN_FIELDS = {name: frozenset(range(1, count + 1)) for name, count in FIELD_COUNTS.items()} | {
    "r6": frozenset({1, 3, 5})
}


def seed(row: dict) -> str:
    """Order-independent text of a row and its child rows, the basis of resource ids."""
    plain = {k: v for k, v in row.items() if isinstance(v, str)}
    children = {k: sorted(seed(c) for c in v) for k, v in row.items() if isinstance(v, list)}
    return json.dumps([plain, children], sort_keys=True, ensure_ascii=False)


def _prune(value: object) -> object:
    """Drop None, empty dicts and empty lists, recursively (our own shallow structures only)."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [v for v in (_prune(v) for v in value) if v not in (None, {}, [])]
    return value


def category(code_value: str) -> dict:
    return {"coding": [{"system": HL7_CS + "observation-category", "code": code_value}]}


def phone(area: str | None, number_text: str | None) -> str | None:
    return "-".join(p for p in (area, number_text) if p) or None


class Builder:
    """Collects resources while the section mappers walk the rows; ``build`` assembles the Bundle."""

    def __init__(self, document: MhbDocument):
        self.document = document
        self.resources: dict[str, dict] = {}
        self.organizations: dict[str, dict[str, set[str]]] = {}
        self.lab_groups: dict[tuple[str, str, str], dict] = {}
        self.skipped: list[SkippedRow] = []
        self.notes = list(document.notes)
        self.unknown: set[tuple[str, str]] = set()
        self.dispensing_rows = 0
        self.seen_rows: set[str] = set()
        self.patient = self.add({
            "resourceType": "Patient",
            "id": self.id("Patient"),
            "gender": "unknown",
            "identifier": [{
                "system": LOCAL + "NamingSystem/mhb-masked-national-id",
                "value": document.masked_id,
                "type": {"text": "Masked national ID from My Health Bank (b1.1); not a usable identifier"},
            }] if document.masked_id else None,
        })  # fmt: skip

    def id(self, *parts: str) -> str:
        """Deterministic resource id: uuid5 over the namespace, the masked ID and ``parts``."""
        return str(uuid.uuid5(NAMESPACE, "\x1f".join((self.document.masked_id or "", *parts))))

    def add(self, resource: dict) -> dict:
        self.resources[resource["id"]] = _prune(resource)
        return {"reference": f"urn:uuid:{resource['id']}"}

    def skip(self, section: str, index: int, reason: Note) -> None:
        self.skipped.append(SkippedRow(section, index, reason))

    def organization(self, raw_code: str | None, name: str | None, phone: str | None = None,
                     address: str | None = None) -> dict | None:
        """Reference to the facility: an Organization by facility code, else a display-only reference."""
        facility = code(raw_code)
        if facility is None:
            return {"display": name} if name else None
        info = self.organizations.setdefault(facility, {"name": set(), "phone": set(), "address": set()})
        for key, value in (("name", name), ("phone", phone), ("address", address)):
            if value:
                info[key].add(value)
        return {"reference": f"urn:uuid:{self.id('Organization', facility)}"}

    def note_unknown(self, section: str, row: dict) -> None:
        for key, value in row.items():
            if isinstance(value, list):
                for child in value:
                    self.note_unknown(key, child)
            elif not ((m := re.fullmatch(rf"{section}\.(\d+)", key)) and int(m[1]) in _KNOWN_FIELDS[section]):
                self.unknown.add((section, key))

    def build(self, mappers: dict[str, Mapper]) -> MhbConversion:
        """Map each row with its section's mapper, then assemble the Bundle."""
        for section in SECTIONS:
            for index, row in enumerate(self.document.sections.get(section, [])):
                self.note_unknown(section, row)
                mappers[section](self, section, index, row)
        self.finish()
        entries = sorted(self.resources.values(), key=lambda r: (_TYPE_RANK[r["resourceType"]], r["id"]))
        bundle = {
            "resourceType": "Bundle",
            "id": self.id("Bundle", *sorted(self.resources)),
            "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in entries],
        }
        skipped = sorted(self.skipped, key=lambda s: (s.section, s.row_index, s.reason))
        return MhbConversion(bundle, skipped, self.notes)

    def finish(self) -> None:
        for facility, info in sorted(self.organizations.items()):
            names = sorted(info["name"])
            self.add({
                "resourceType": "Organization",
                "id": self.id("Organization", facility),
                "identifier": [{"system": TWCORE + "organization-identifier-tw", "value": facility}],
                "name": names[0] if names else None,
                "alias": names[1:],
                "telecom": [{"system": "phone", "value": p} for p in sorted(info["phone"])],
                "address": [{"text": a} for a in sorted(info["address"])],
            })  # fmt: skip
        for key, group in sorted(self.lab_groups.items()):
            self.add({**group, "id": self.id("DiagnosticReport", *key), "result": sorted(
                group["result"], key=lambda r: r["reference"])})
        if self.dispensing_rows:
            self.notes.append(Note(N_("%(count)d r1 dispensing row(s) became MedicationDispense; their diagnoses "
                                      "repeat the prescribing visit and were not imported again."),
                                   count=self.dispensing_rows))
        for section, key in sorted(self.unknown):
            self.notes.append(Note(N_("%(section)s: field %(field)s is not in the format reference; its values were "
                                      "not imported."), section=section, field=repr(key)))

    def first_time(self, section: str, index: int, row: dict, parent: tuple[str, int] | None = None) -> bool:
        """False (and the row reported) when an identical row of the section (under the same ``parent``
        section and row, for child rows) was already mapped."""
        key = f"{section}\x1f{parent}\x1f{seed(row)}"
        if key in self.seen_rows:
            if parent is None:
                self.skip(section, index, Note(N_("identical to another row of the section")))
            else:
                self.skip(section, index, Note(N_("%(section)s row %(row)d: identical to another order row of the "
                                                  "same visit"), section=parent[0], row=parent[1]))
            return False
        self.seen_rows.add(key)
        return True

    def date(self, section: str, index: int, text: str | None) -> str | None:
        """FHIR date of ``text``; an unreadable date becomes None and a note."""
        value = fhir_date(text)
        if text and value is None:
            self.notes.append(Note(N_("%(section)s row %(row)d: %(value)s is not a valid date and was left out."),
                                   section=section, row=index, value=repr(text)))
        return value

    def observation(self, resource_id: str, code_concept: dict, value: dict, when: str | None,
                    category: dict | None, **extra: object) -> dict:
        """Add an Observation (final); without a value it carries dataAbsentReason."""
        absent = {"coding": [{"system": HL7_CS + "data-absent-reason", "code": "unknown"}]}
        return self.add({
            "resourceType": "Observation",
            "id": resource_id,
            "status": "final",
            "category": [category] if category else None,
            "code": code_concept,
            "subject": self.patient,
            "effectiveDateTime": when,
            **(value or {"dataAbsentReason": absent}),
            **extra,
        })  # fmt: skip


Mapper = Callable[[Builder, str, int, dict], None]
"""A section mapper: ``map_row(builder, section, row_index, row)`` adds the row's resources."""
