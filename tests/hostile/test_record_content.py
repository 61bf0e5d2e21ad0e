"""Issue 14, items 1 and 2: record content is data. Hostile text in every field the viewer shows, uploaded by a
patient and read by the patient and by a doctor she granted, renders escaped, inert and without a 500."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from record_payloads import (
    PAYLOADS,
    URI_PAYLOAD,
    hostile_bundle,
    hostile_file,
    shown_texts,
)
from web_helpers import Patient, all_confirmed, drive_worker, tally

from phr import db
from phr.models import User
from phr.view import build_view

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})
STRUCTURAL = frozenset({
    "key", "anchor", "visit_key", "visit_anchor", "sort_key", "record_id", "author", "date", "start", "end",
    "issued", "date_from", "date_to", "system", "kind", "kind_label", "source_label", "resource_type", "flag",
    "flag_label", "status", "clinical_status", "criticality", "severity", "categories", "gender", "masked_id",
    "quantity", "value",
})
"""View fields whose text the record cannot choose freely: keys, ids, dates, bound codes, labels the viewer
words itself, numbers (``quantity``/``value`` with a unit hold a payload and are checked), the masked id."""


class _Page(HTMLParser):
    """Every attribute of every element, and every text node with whether it lies inside ``hx-disable``."""

    def __init__(self, html: str):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.texts: list[tuple[str, bool]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        inert = any(name == "hx-disable" for name, _ in attrs) or (bool(self.stack) and self.stack[-1][1])
        if tag not in _VOID:
            self.stack.append((tag, inert))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        self.texts.append((data, bool(self.stack) and self.stack[-1][1]))


def assert_inert(html: str, *, where: str) -> None:
    """No payload became markup: none appears raw, none put an attribute or element in the page, and every
    bit of payload text sits inside an hx-disable container."""
    for payload in PAYLOADS + (URI_PAYLOAD,):
        if set(payload) & set("<>\"'&"):
            assert payload not in html, f"{where}: raw payload {payload!r}"
    page = _Page(html)
    evil = [(tag, name, value) for tag, name, value in page.attributes if "evil" in value or name.startswith("on")]
    assert not evil, f"{where}: payload markup {evil}"
    assert not [t for t, _n, _v in page.attributes if t in ("svg", "textarea")], where
    outside = [text for text, inert in page.texts if ("evil" in text or "%(x)s" in text) and not inert]
    assert not outside, f"{where}: record text outside hx-disable: {outside[:3]}"


def test_the_corpus_reaches_every_text_field_the_viewer_shows():
    view = build_view(hostile_bundle(), author="Dr Lin")
    loose = [(path, value) for path, value in shown_texts(view)
             if re.sub(r"\[\d+\]", "", path).rsplit(".", 1)[-1] not in STRUCTURAL
             and not any(p in value for p in PAYLOADS + (URI_PAYLOAD,))]  # fmt: skip
    assert not loose, loose[:10]
    kinds = {re.sub(r"\[\d+\]", "", path).split(".")[1] for path, value in shown_texts(view)
             if any(p in value for p in PAYLOADS)}  # fmt: skip
    assert kinds >= {"visits", "medications", "allergies", "immunizations", "labs", "reports", "consents",
                     "programmes"}, kinds  # fmt: skip (view.patient is not shown by any template)


def _user_id(app, email: str) -> int:
    with app.app_context():
        return db.session().query(User).filter_by(email=email).one().id


@pytest.fixture
def shared(live_app):
    """A patient's hostile record, confirmed on chain, shared with a doctor whose grant is confirmed."""

    def share(path):
        patient = Patient(live_app.test_client(), live_app)
        patient.register_patient("mallory@example.tw", name="Mallory")
        record_id = patient.upload_and_confirm(path)
        doctor = Patient(live_app.test_client(), live_app)
        doctor.register_doctor("dr.lin@example.org")
        resp = patient.post("/sharing/", {"doctor_id": str(_user_id(live_app, "dr.lin@example.org")), "scope": "all"},
                            action="/sharing/grant")
        assert resp.status_code == 303, resp.get_data(as_text=True)
        drive_worker(live_app, all_confirmed(live_app), timeout=90)
        return patient, doctor, _user_id(live_app, "mallory@example.tw"), record_id

    return share


def test_hostile_record_text_renders_escaped_and_inert_for_patient_and_doctor(shared, tmp_path, sweep):
    patient, doctor, pid, rid = shared(hostile_file(tmp_path))
    pages = [(patient, f"/records/{rid}"), (patient, "/records/"), (patient, f"/sharing/records/{rid}/privacy"),
             (doctor, f"/sharing/patients/{pid}"), (doctor, f"/sharing/patients/{pid}/records/{rid}")]
    for who, path in pages:
        resp = who.client.get(path)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, (path, html[-2000:])
        assert_inert(html, where=path)
        shown = [p for p in PAYLOADS if str(escape(p)) in html]
        assert len(shown) == len(PAYLOADS), (path, set(PAYLOADS) - set(shown))  # shown, as text
        assert resp.headers["Cache-Control"] == "no-store", path
    tally(sweep, "issue-14 attacks reproduced and stopped")


FASTING = "Fasting %(x)s 100%"


def test_format_strings_in_categories_do_not_break_the_record_page_or_timeline(shared, tmp_path, sweep):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "https://example.org/fhir/Patient/p1", "resource": {"resourceType": "Patient", "id": "p1"}},
        {"fullUrl": "https://example.org/fhir/Observation/o1", "resource": {
            "resourceType": "Observation", "id": "o1", "status": "final", "category": [{"text": FASTING}],
            "code": {"text": "Glucose"}, "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2024-03-01", "valueQuantity": {"value": 95, "unit": "mg/dL"}}},
        {"fullUrl": "https://example.org/fhir/DiagnosticReport/r1", "resource": {
            "resourceType": "DiagnosticReport", "id": "r1", "status": "final", "category": [{"text": FASTING}],
            "code": {"text": "Panel"}, "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2024-03-01", "conclusion": "Normal."}},
    ]}  # fmt: skip
    path = tmp_path / "fasting.json"
    path.write_text(json.dumps(bundle))
    patient, doctor, pid, rid = shared(path)
    for who, url in [(patient, f"/records/{rid}"), (patient, "/records/"), (doctor, f"/sharing/patients/{pid}"),
                     (doctor, f"/sharing/patients/{pid}/records/{rid}")]:
        resp = who.client.get(url)
        assert resp.status_code == 200, url
        assert resp.get_data(as_text=True).count(FASTING) == 2, url  # the lab's and the report's category, as text
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_htmx_is_configured_defensively(client):
    page = client.get("/auth/login").get_data(as_text=True)
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page).group(1))
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    assert config["selfRequestsOnly"] is True and config["historyCacheSize"] == 0  # no page snapshots stored


def test_hide_rules_made_from_hostile_items_render_escaped_and_inert_on_the_hidden_page(shared, tmp_path):
    """Item 10's pages show rule labels taken from record text (facility, diagnosis and drug names)."""
    patient, _doctor, _pid, rid = shared(hostile_file(tmp_path))
    page = patient.client.get(f"/records/{rid}").get_data(as_text=True)
    controls = set(re.findall(r'name="item" value="([^"]+)">\s*<input type="hidden" name="kind" value="(\w+)"', page))
    assert {kind for _item, kind in controls} >= {"visit", "diagnosis", "drug"}, controls
    for item, kind in sorted(controls):  # each control offered can make its rule
        resp = patient.post(f"/records/{rid}", {"record_id": rid, "item": item, "kind": kind}, action="/sharing/hidden")
        assert resp.status_code == 303, (item, kind, re.findall(r"<main.*?</main>", resp.get_data(as_text=True), re.DOTALL))
    resp = patient.client.get("/sharing/hidden")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html[-2000:]
    assert_inert(html, where="/sharing/hidden")
    assert "evil" in html  # the labels are there, as text
