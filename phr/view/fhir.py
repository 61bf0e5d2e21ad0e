"""Reading a stored FHIR R4 Bundle safely: the helpers every section of the view shares.

The input is any bundle that passed ``phr.importer.fhir.validate_bundle``; every optional field may be
missing, so all access goes through the small ``_str`` / ``_dict`` / ``_list`` helpers and nothing
indexes blindly. The underscore names are private to ``phr.view``: its section modules share them.
:class:`Index` resolves references and closes the hidden set over containment; :class:`Source` is
one record being read, passed to every section's ``read_*`` function.
"""
from __future__ import annotations

import hashlib
import math
import re
from datetime import date
from decimal import Decimal

TWCORE = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/"
LOCAL = "https://phr.invalid/fhir/"
HL7_CS = "http://terminology.hl7.org/CodeSystem/"
# (system prefix or exact URI, label) — first match wins
_SYSTEM_LABELS = (
    (TWCORE + "icd-10-cm", "ICD-10-CM"),
    (TWCORE + "icd-10-pcs", "ICD-10-PCS"),
    (TWCORE + "icd-9-cm", "ICD-9-CM"),
    (TWCORE + "medication-nhi-tw", "NHI drug"),
    (TWCORE + "nhi-medication-ch-herb-tw", "NHI herbal"),
    (TWCORE + "medical-service-payment-tw", "NHI fee"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "ICD-10-CM"),
    ("http://hl7.org/fhir/sid/icd-10", "ICD-10"),
    ("http://hl7.org/fhir/sid/icd-9-cm", "ICD-9-CM"),
    ("http://www.icd10data.com/icd10pcs", "ICD-10-PCS"),
    ("http://loinc.org", "LOINC"),
    ("http://snomed.info/sct", "SNOMED CT"),
    ("http://www.nlm.nih.gov/research/umls/rxnorm", "RxNorm"),
    ("http://www.whocc.no/atc", "ATC"),
    ("http://hl7.org/fhir/sid/cvx", "CVX"),
    ("http://unitsofmeasure.org", "UCUM"),
    (LOCAL + "CodeSystem/mhb-procedure-code", "MHB"),
    (LOCAL + "CodeSystem/mhb-diagnosis-code", "MHB"),
    (LOCAL + "CodeSystem/mhb-tooth-position", "FDI tooth"),
    (LOCAL + "CodeSystem/mhb-", "MHB"),
)
_NO_CODE_SYSTEMS = (HL7_CS + "data-absent-reason",)
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _number(value: object) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _num_text(value: float | Decimal) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _quantity_text(quantity: dict) -> str | None:
    value = _number(quantity.get("value"))
    if value is None:
        return None
    unit = _str(quantity.get("unit")) or (_str(quantity.get("code")) if quantity.get("code") != "1" else None)
    comparator = _str(quantity.get("comparator"))
    return " ".join(p for p in (comparator, _num_text(value), unit) if p)


def _date_text(value: object) -> str | None:
    """The date part of a FHIR date/dateTime/instant ("2017", "2017-05", "2017-05-20")."""
    text = _str(value)
    if text is None:
        return None
    return text.split("T", 1)[0][:10]


def _day(text: str | None) -> date | None:
    if not text or not _FULL_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _anchor(prefix: str, key: str) -> str:
    return f"{prefix}-{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()[:12]}"


def _join(parts: object, sep: str = "; ") -> str | None:
    texts = [p for p in parts if p]  # type: ignore[union-attr]
    return sep.join(dict.fromkeys(texts)) or None


def _latest(items: list, when) -> list:
    """Items latest first (undated last), stable within a date."""
    return sorted(items, key=lambda item: when(item) or "", reverse=True)


def _desc(text: str) -> tuple:
    """Sort key putting later ISO dates first and undated items last."""
    return (text == "", tuple(-ord(c) for c in text))


def system_label(system: str | None) -> str | None:
    """A short label for a code system URI ("ICD-10-CM", "NHI drug", "LOINC"); the URI tail when unknown."""
    if not system:
        return None
    for prefix, label in _SYSTEM_LABELS:
        if system.startswith(prefix):
            return label
    tail = system.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail[:40] or system[:40]


def _codings(concept: object) -> list[dict]:
    return [c for c in _list(_dict(concept).get("coding")) if isinstance(c, dict) and _str(c.get("system"))
            not in _NO_CODE_SYSTEMS]  # fmt: skip


def _coded(concept: object, prefer: tuple[str, ...] = ()) -> tuple[str | None, str | None, str]:
    """(code, system label, text) of a CodeableConcept; text falls back to a display, then to the code."""
    codings = _codings(concept)
    with_code = [c for c in codings if _str(c.get("code"))]
    chosen = next((c for p in prefer for c in with_code if _str(c.get("system")) == p), None)
    chosen = chosen or (with_code[0] if with_code else None)
    code = _str(chosen.get("code")) if chosen else None
    display = _str(_dict(concept).get("text")) or next((d for c in codings if (d := _str(c.get("display")))), None)
    return code, system_label(_str(chosen.get("system"))) if chosen else None, display or code or ""


def _concept_text(concept: object) -> str | None:
    return _coded(concept)[2] or None


def _first_code(concept: object) -> str | None:
    return next((c for coding in _list(_dict(concept).get("coding")) if (c := _str(_dict(coding).get("code")))), None)


class Index:
    """Entries by fullUrl and ``Type/id``, reference resolution and the hidden closure."""

    def __init__(self, bundle: dict):
        self.entries: list[tuple[str, dict]] = []
        self.by_ref: dict[str, tuple[str, dict]] = {}
        for entry in _list(_dict(bundle).get("entry")):
            full_url, resource = _str(_dict(entry).get("fullUrl")), _dict(_dict(entry).get("resource"))
            kind = _str(resource.get("resourceType"))
            if not full_url or not kind:
                continue
            self.entries.append((full_url, resource))
            self.by_ref[full_url] = (full_url, resource)
            if rid := _str(resource.get("id")):
                self.by_ref.setdefault(f"{kind}/{rid}", (full_url, resource))
        self.parents = self._parents()

    def of_type(self, *kinds: str) -> list[tuple[str, dict]]:
        return [(key, r) for key, r in self.entries if r.get("resourceType") in kinds]

    def resolve(self, ref: object, container: dict | None = None) -> tuple[str | None, dict]:
        """(fullUrl or None, resource or {}) a Reference points to; ``#id`` looks in ``container.contained``."""
        target = _str(_dict(ref).get("reference"))
        if target is None:
            return None, {}
        if target.startswith("#"):
            for inner in _list(_dict(container).get("contained")):
                if isinstance(inner, dict) and inner.get("id") == target[1:]:
                    return None, inner
            return None, {}
        if target in self.by_ref:
            return self.by_ref[target]
        tail = re.search(r"([A-Za-z]+/[A-Za-z0-9\-.]{1,64})$", target)
        return self.by_ref.get(tail[1], (None, {})) if tail else (None, {})

    def key_of(self, ref: object, container: dict | None = None) -> str | None:
        return self.resolve(ref, container)[0]

    def party(self, ref: object, container: dict | None = None) -> str | None:
        """Display name of an Organization, Practitioner, PractitionerRole, Patient… reference."""
        _, target = self.resolve(ref, container)
        kind = target.get("resourceType")
        if kind == "Organization":
            name = _str(target.get("name")) or next((a for a in map(_str, _list(target.get("alias"))) if a), None)
            return name or next((v for i in _list(target.get("identifier")) if (v := _str(_dict(i).get("value")))),
                                None) or _str(_dict(ref).get("display"))  # fmt: skip
        if kind == "PractitionerRole":
            names = (self.party(target.get("organization"), target), self.party(target.get("practitioner"), target))
            return _join(names, " · ") or _str(_dict(ref).get("display"))
        if kind in ("Practitioner", "Patient", "RelatedPerson"):
            return _human_name(target.get("name")) or _str(_dict(ref).get("display"))
        if kind == "Location":
            return _str(target.get("name")) or _str(_dict(ref).get("display"))
        return _str(_dict(ref).get("display"))

    def hidden_closure(self, hidden: frozenset[str]) -> set[str]:
        """Keys hidden directly or through what contains them (encounter, episode, report, medication)."""
        children: dict[str, set[str]] = {}
        for key, parents in self.parents.items():
            for parent in parents:
                children.setdefault(parent, set()).add(key)
        closed = {key for key in hidden if isinstance(key, str)}
        todo = list(closed)
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in closed:
                    closed.add(child)
                    todo.append(child)
        return closed

    def _parents(self) -> dict[str, set[str]]:
        """key → keys of the resources it was recorded under: its encounter/context, an Encounter that
        lists it as a diagnosis, a DiagnosticReport that lists it as a result, the episode of a follow-up
        encounter, the encounter it is part of, the Medication an order names."""
        parents: dict[str, set[str]] = {key: set() for key, _ in self.entries}

        def link(child: str | None, parent: str | None) -> None:
            if child in parents and parent and parent != child:
                parents[child].add(parent)

        for key, resource in self.entries:
            kind = resource.get("resourceType")
            refs = [resource.get("encounter"), resource.get("context")]
            if kind == "Encounter":
                refs += [*_list(resource.get("episodeOfCare")), resource.get("partOf")]
                for item in _list(resource.get("diagnosis")):
                    link(self.key_of(_dict(item).get("condition"), resource), key)
            if kind in ("MedicationRequest", "MedicationDispense", "MedicationStatement"):
                refs.append(resource.get("medicationReference"))
            if kind == "DiagnosticReport":
                for ref in _list(resource.get("result")):
                    link(self.key_of(ref, resource), key)
            for ref in refs:
                link(key, self.key_of(ref, resource))
        return parents


def _human_name(names: object) -> str | None:
    for name in _list(names):
        name = _dict(name)
        text = _str(name.get("text")) or _join(
            [*[_str(g) for g in _list(name.get("given"))], _str(name.get("family"))], " ")
        if text:
            return text
    return None


class Source:
    """One record being read: its index, what is hidden (closed over containment), and the
    ``record_id``/``author`` every item built from it carries."""

    def __init__(self, bundle: dict, record_id: str | None, author: str | None, hidden: frozenset[str]):
        self.index = Index(bundle)
        self.hidden = self.index.hidden_closure(frozenset(hidden or ()))
        self.record_id, self.author = record_id, author

    def visible(self, *kinds: str) -> list[tuple[str, dict]]:
        return [(key, r) for key, r in self.index.of_type(*kinds) if key not in self.hidden]

    def tag(self) -> dict:
        return {"record_id": self.record_id, "author": self.author}
