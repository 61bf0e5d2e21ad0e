"""A FHIR bundle whose every text field holds HTML, htmx and format-string payloads (issue 14, items 1 and 2).

Built from the importer's own output for ``tests/data/mhb/full.json`` (every section the viewer shows)
plus the resources that sample lacks (a MedicationStatement, a Medication named by reference, a
Practitioner, an Organization). Every string a person could type into a record is replaced; what the FHIR
models or the required bindings fix (ids, references, dates, bound codes, systems) is kept.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import fields, is_dataclass
from functools import cache
from pathlib import Path

from phr.importer import import_file
from phr.importer.fhir import BINDINGS, validate_bundle

DATA = Path(__file__).resolve().parent / "data"
EXFIL = "/evil/exfil"
PAYLOADS = (
    "<script>fetch('/evil/script')</script>",
    "<img src=/evil/img onerror=alert(1)>",
    f'<div hx-get="{EXFIL}" hx-trigger="load" hx-target="body">load</div>',
    '<button hx-post="/evil/post" hx-trigger="load">post</button>',
    '<span hx-get="/evil/click" hx-trigger="click, every 1s">every</span>',
    '<form hx-post="/evil/form" hx-trigger="load"><input name=x></form>',
    "</textarea><textarea id=exf></textarea>",
    '"><svg onload=alert(1)>',
    "{{7*7}} {% raw %} ${7*7}",
    "Fasting %(x)s 100%",
    "%s %d %(author)s %",
)
URI_PAYLOAD = "javascript:fetch('/evil/uri')//<img/src=/evil/uri>"  # uri: no whitespace allowed
"""A uri field (Consent.policy.uri) cannot hold spaces."""
_KEEP_KEYS = frozenset({
    "resourceType", "id", "fullUrl", "reference", "system", "url", "status", "gender", "intent", "priority",
    "criticality", "severity", "use", "comparator", "language", "div", "mode", "type", "category",
})  # bound or structural: the key's own strings (Allergy category/type are bound codes; CodeableConcepts are dicts)
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\S*)?)?)?$")
_BOUND_SYSTEMS = frozenset(b.system for bindings in BINDINGS.values() for b in bindings if b.system)

_EXTRA = [
    {"resourceType": "Practitioner", "id": "hostile-practitioner", "name": [{"family": "F", "given": ["G"]}]},
    {"resourceType": "Organization", "id": "hostile-location", "name": "L", "alias": ["A"]},
    {"resourceType": "Medication", "id": "hostile-medication", "code": {"text": "M", "coding": [
        {"system": "http://www.whocc.no/atc", "code": "C", "display": "D"}]}},
    {"resourceType": "MedicationStatement", "id": "hostile-statement", "status": "active",
     "medicationReference": {"reference": "Medication/hostile-medication", "display": "D"},
     "subject": {"reference": "Patient/hostile-patient"}, "effectiveDateTime": "2024-01-02",
     "informationSource": {"reference": "Practitioner/hostile-practitioner", "display": "D"},
     "dosage": [{"text": "T"}]},
    {"resourceType": "MedicationDispense", "id": "hostile-dispense", "status": "completed",
     "medicationCodeableConcept": {"text": "M"}, "whenHandedOver": "2024-01-03",
     "location": {"reference": "Organization/hostile-location"},
     "quantity": {"value": 30, "unit": "U"}, "dosageInstruction": [{"text": "T"}]},
    {"resourceType": "AllergyIntolerance", "id": "hostile-allergy", "patient": {"reference": "Patient/hostile-patient"},
     "code": {"text": "A"}, "recordedDate": "2024-01-04", "criticality": "high",
     "recorder": {"reference": "Practitioner/hostile-practitioner"}, "note": [{"text": "N"}],
     "reaction": [{"manifestation": [{"text": "R"}], "substance": {"text": "S"}, "severity": "mild"}]},
    {"resourceType": "Observation", "id": "hostile-observation", "status": "final",
     "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                               "code": "laboratory"}], "text": "C"}],
     "code": {"text": "O"}, "effectiveDateTime": "2024-01-05", "valueString": "V",
     "referenceRange": [{"text": "R"}], "performer": [{"reference": "Practitioner/hostile-practitioner"}]},
    {"resourceType": "Observation", "id": "hostile-components", "status": "final", "code": {"text": "O"},
     "effectiveDateTime": "2024-01-05", "component": [{"code": {"text": "C"}, "valueCodeableConcept": {"text": "V"}}]},
    {"resourceType": "DiagnosticReport", "id": "hostile-report", "status": "final",
     "category": [{"text": "C"}], "code": {"text": "D"}, "effectiveDateTime": "2024-01-06", "conclusion": "C",
     "conclusionCode": [{"text": "K"}], "performer": [{"reference": "Practitioner/hostile-practitioner"}]},
    {"resourceType": "Immunization", "id": "hostile-immunization", "status": "completed",
     "patient": {"reference": "Patient/hostile-patient"}, "vaccineCode": {"text": "V"},
     "occurrenceDateTime": "2024-01-07", "location": {"reference": "Organization/hostile-location"}},
    {"resourceType": "Consent", "id": "hostile-consent", "status": "active", "scope": {"text": "S"},
     "category": [{"text": "C"}], "dateTime": "2024-01-08", "policy": [{"uri": "http://example.org/p"}]},
    {"resourceType": "Patient", "id": "hostile-patient", "name": [{"text": "P"}],
     "identifier": [{"value": "I"}]},
]


def _poison(node: object, counter: list[int], key: str | None = None, system: str | None = None) -> object:
    """``node`` with every free-text string replaced by the next payload (counted in ``counter``)."""
    if isinstance(node, dict):
        system = node.get("system") if isinstance(node.get("system"), str) else None
        return {k: v if k in _KEEP_KEYS and not isinstance(v, (dict, list)) else _poison(v, counter, k, system)
                for k, v in node.items()}  # fmt: skip
    if isinstance(node, list):
        return [_poison(v, counter, key, system) for v in node]
    if not isinstance(node, str) or key in _KEEP_KEYS or _DATE.match(node) or \
            (key == "code" and system in _BOUND_SYSTEMS):  # fmt: skip
        return node
    counter[0] += 1
    if key == "uri":
        return URI_PAYLOAD
    return PAYLOADS[counter[0] % len(PAYLOADS)]


@cache
def _hostile() -> str:
    sample = DATA / "mhb" / "full.json"
    bundle = copy.deepcopy(import_file(sample.read_bytes(), sample.name).bundle)
    bundle["entry"] += [{"fullUrl": f"https://hostile.example/fhir/{r['resourceType']}/{r['id']}", "resource": r}
                        for r in copy.deepcopy(_EXTRA)]  # fmt: skip
    counter = [0]
    for entry in bundle["entry"]:
        entry["resource"] = _poison(entry["resource"], counter)
    validate_bundle(bundle)
    return json.dumps(bundle, ensure_ascii=False)


def hostile_bundle() -> dict:
    """A fresh copy of the hostile collection bundle (valid: the importer accepts it)."""
    return json.loads(_hostile())


def hostile_file(tmp_path: Path) -> Path:
    """The hostile bundle as a FHIR JSON upload."""
    path = tmp_path / "hostile.json"
    path.write_text(_hostile(), encoding="utf-8")
    return path


def shown_texts(node: object, path: str = "view") -> list[tuple[str, str]]:
    """(path, value) of every non-empty string in a view model (phr.view dataclasses), recursively."""
    if is_dataclass(node):
        return [t for f in fields(node) for t in shown_texts(getattr(node, f.name), f"{path}.{f.name}")]
    if isinstance(node, (tuple, list)):
        return [t for i, v in enumerate(node) for t in shown_texts(v, f"{path}[{i}]")]
    return [(path, node)] if isinstance(node, str) and node else []
