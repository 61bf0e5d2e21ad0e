"""Helpers for the viewer tests: sample bundles, a crafted FHIR bundle builder and the three partials."""
from __future__ import annotations

import copy
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from flask import Flask

from phr import labels
from phr.importer import import_file
from phr.importer.fhir import validate_bundle

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
PARTIALS = ("records/_visits.html", "records/_medications.html", "records/_clinical.html")
NHI_DRUG = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/medication-nhi-tw"


@cache
def _bundle(name: str) -> dict:
    path = DATA / name
    return import_file(path.read_bytes(), path.name).bundle


def bundle(name: str) -> dict:
    """A fresh copy of the canonical bundle made from a sample file, e.g. ``bundle("mhb/scenario.json")``."""
    return copy.deepcopy(_bundle(name))


def key_of(bundle_: dict, kind: str, text: str) -> str:
    """fullUrl of the one ``kind`` entry whose JSON mentions ``text``."""
    import json

    found = [e["fullUrl"] for e in bundle_["entry"] if e["resource"]["resourceType"] == kind
             and text in json.dumps(e["resource"], ensure_ascii=False)]  # fmt: skip
    assert len(found) == 1, (kind, text, found)
    return found[0]


@cache
def _app() -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"))
    app.jinja_env.globals.setdefault("_", lambda s, **kw: s % kw if kw else s)
    labels.init_app(app)
    return app


def render(template: str, view) -> str:
    return _app().jinja_env.get_template(template).render(view=view)


def render_all(view) -> str:
    return "\n".join(render(name, view) for name in PARTIALS)


class Crafted:
    """Builds a small valid FHIR collection bundle: organizations, visits and drug orders."""

    def __init__(self) -> None:
        self.entries: list[dict] = []
        self.serial = 0
        self.patient = self.add({"resourceType": "Patient", "name": [{"text": "Test Patient"}],
                                 "identifier": [{"system": "urn:oid:2.16.886.101.20003.20001", "value": "A123456789"}]})

    def add(self, resource: dict) -> dict:
        self.serial += 1
        rid = f"00000000-0000-4000-8000-{self.serial:012d}"
        resource = {**resource, "id": rid}
        self.entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": resource})
        return {"reference": f"urn:uuid:{rid}"}

    def org(self, name: str) -> dict:
        return self.add({"resourceType": "Organization", "name": name})

    def visit(self, day: str, org: dict | None = None, *, klass: str = "AMB", text: str | None = None) -> dict:
        resource = {"resourceType": "Encounter", "status": "finished", "subject": self.patient,
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass},
                    "period": {"start": day}}  # fmt: skip
        if org:
            resource["serviceProvider"] = org
        if text:
            resource["type"] = [{"text": text}]
        return self.add(resource)

    def order(self, code: str, name: str, day: str, org: dict | None, days: int | None = 28,
              quantity: float | None = 28, encounter: dict | None = None) -> dict:
        request: dict = {}
        if quantity is not None:
            request["quantity"] = {"value": quantity}
        if days is not None:
            request["expectedSupplyDuration"] = {"value": days, "unit": "d", "system": "http://unitsofmeasure.org",
                                                 "code": "d"}  # fmt: skip
        resource = {"resourceType": "MedicationRequest", "status": "completed", "intent": "order",
                    "medicationCodeableConcept": {"coding": [{"system": NHI_DRUG, "code": code}], "text": name},
                    "subject": self.patient, "authoredOn": day}  # fmt: skip
        if request:
            resource["dispenseRequest"] = request
        if org:
            resource["requester"] = org
        if encounter:
            resource["encounter"] = encounter
        return self.add(resource)

    def dispense(self, code: str, name: str, day: str, pharmacy: dict, days: int = 28, quantity: float = 28) -> dict:
        return self.add({
            "resourceType": "MedicationDispense", "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": NHI_DRUG, "code": code}], "text": name},
            "subject": self.patient, "performer": [{"actor": pharmacy}], "quantity": {"value": quantity},
            "daysSupply": {"value": days, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"},
            "whenHandedOver": day,
        })  # fmt: skip

    def lab(self, name: str, value: dict, ranges: list[dict] | None = None, **extra) -> dict:
        resource = {"resourceType": "Observation", "status": "final", "code": {"text": name},
                    "subject": self.patient, "effectiveDateTime": "2024-02-01", **value, **extra}  # fmt: skip
        if ranges:
            resource["referenceRange"] = ranges
        return self.add(resource)

    def bundle(self) -> dict:
        result = {"resourceType": "Bundle", "type": "collection", "entry": copy.deepcopy(self.entries)}
        validate_bundle(result)
        return result


class Page(HTMLParser):
    """Collects ids, aria-labelledby targets, <time datetime>, tables and attributes from rendered HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.labelled_by: list[str] = []
        self.datetimes: list[str] = []
        self.attributes: list[str] = []
        self.tags: list[str] = []
        self.stack: list[tuple[str, dict]] = []
        self.tables: list[dict] = []
        self.sections_without_label = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        self.tags.append(tag)
        self.attributes += list(attributes)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if "aria-labelledby" in attributes:
            self.labelled_by.append(attributes["aria-labelledby"])
        if tag == "section" and "aria-labelledby" not in attributes:
            self.sections_without_label += 1
        if tag == "time":
            self.datetimes.append(attributes.get("datetime", ""))
        if tag == "table":
            parent = self.stack[-1] if self.stack else ("", {})
            self.tables.append({"wrapped": parent[0] == "div" and "table-wrap" in parent[1].get("class", ""),
                                "caption": False, "th_scope": [], "th_rows": 0})  # fmt: skip
        if tag == "caption" and self.tables:
            self.tables[-1]["caption"] = True
        if tag == "th" and self.tables:
            self.tables[-1]["th_scope"].append(attributes.get("scope"))
        if tag not in ("br", "img", "input", "meta", "link", "hr"):
            self.stack.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break
