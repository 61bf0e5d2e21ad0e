"""Issue 14, item 1 in Chromium: record content never runs as htmx, script or markup in a reader's browser.

The hostile corpus (tests/record_payloads.py) in every text field, read by its patient and by a
granted doctor; and the attack as it was reproduced: patient B's record whose category text made the
browser of a doctor both patients granted fetch A's decrypted bundle and post it as a visit into B's file.
"""
from __future__ import annotations

import json
import re
import time

from browser_helpers import (
    DATA,
    grant,
    register,
    reload_until,
    upload_confirmed,
    user_records,
    watch,
)
from record_payloads import PAYLOADS, hostile_file
from web_helpers import tally

DOCTOR = {"country": "Taiwan", "institution": "Hostile Test Hospital", "licence_no": "TW-MD-14001"}
INJECTED = ("[hx-get], [hx-post], [hx-trigger], [onerror], [onload], img, svg, textarea, #exf, "
            "main script, main form[hx-post], main button[hx-post]")
"""What a payload would add to the page were it markup (the viewer itself has none of these in record content)."""


def _assert_inert(page, requests, dialogs, where: str) -> None:
    time.sleep(3)  # let any hx-trigger="load delay…"/"every 1s" fire, were it live
    assert not [u for _m, u in requests if "/evil" in u], where
    assert not dialogs, where
    injected = page.evaluate("(s) => [...document.querySelectorAll(s)].filter((e) => e.closest('.record-content'))"
                             ".map((e) => e.outerHTML.slice(0, 80))", INJECTED)
    assert not injected, (where, injected)


def test_hostile_record_is_inert_text_for_its_patient_and_a_granted_doctor(new_page, server, tmp_path):
    patient = new_page()
    register(patient, "hostile.patient@example.tw", "Hostile Patient")
    record_id = upload_confirmed(patient, hostile_file(tmp_path))
    doctor = new_page()
    register(doctor, "hostile.doctor@example.tw", "Dr Hostile Reader", doctor=DOCTOR)
    grant(patient, "Dr Hostile Reader")
    pid, _records = user_records(server, "hostile.patient@example.tw")

    for page, url, ready in [(patient, f"/records/{record_id}", "Vaccinations"), (patient, "/records/", "Vaccinations"),
                             (doctor, f"/sharing/patients/{pid}", "Vaccinations"),
                             (doctor, f"/sharing/patients/{pid}/records/{record_id}", "Vaccinations")]:
        requests, dialogs = watch(page)
        page.goto(url)
        reload_until(page, lambda p=page, r=ready: r in p.inner_text("main"))  # a doctor reads once it is anchored
        _assert_inert(page, requests, dialogs, url)
        text = page.inner_text(".record-content")
        assert all(p in text for p in PAYLOADS), (url, [p for p in PAYLOADS if p not in text])  # shown as text
    # Counted in the sweep by tests/hostile/test_record_content.py (the same corpus, through the test client).


def _exfiltrating_bundle(a_id: int, a_record: str, b_id: int) -> dict:
    """B's record as in the attack: category text holding a textarea, an hx-get of A's bundle into it and an
    hx-post of it as a new visit in B's file (the doctor's session and CSRF header ride along)."""
    category = (f'<textarea id=exf name=notes></textarea>'
                f'<div hx-get="/sharing/patients/{a_id}/records/{a_record}/bundle.json" hx-trigger=load '
                f'hx-target=#exf></div>'
                f'<div hx-post="/sharing/patients/{b_id}/visit" hx-include=#exf hx-trigger="load delay:2s" '
                f'hx-vals=\'{{"code": "Z00", "diagnosis": "exfiltrated"}}\'></div>')  # fmt: skip
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "https://b.example/fhir/Patient/b", "resource": {"resourceType": "Patient", "id": "b"}},
        {"fullUrl": "https://b.example/fhir/Observation/o", "resource": {
            "resourceType": "Observation", "id": "o", "status": "final", "category": [{"text": category}],
            "code": {"text": "Fasting glucose"}, "subject": {"reference": "Patient/b"},
            "effectiveDateTime": "2024-03-01", "valueQuantity": {"value": 95, "unit": "mg/dL"}}},
    ]}  # fmt: skip


def test_record_text_cannot_make_a_doctors_browser_copy_another_patients_record(new_page, server, tmp_path, sweep):
    a = new_page()
    register(a, "exfil.victim@example.tw", "Exfil Victim")
    a_record = upload_confirmed(a, DATA / "fhir" / "valid-collection.json")  # small enough for a visit's notes (4000)
    b = new_page()
    register(b, "exfil.attacker@example.tw", "Exfil Attacker")
    a_id, _ = user_records(server, "exfil.victim@example.tw")
    b_id, _ = user_records(server, "exfil.attacker@example.tw")
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_exfiltrating_bundle(a_id, a_record, b_id)))
    b_record = upload_confirmed(b, path)
    doctor = new_page()
    register(doctor, "exfil.doctor@example.tw", "Dr Both Granted", doctor=DOCTOR | {"licence_no": "TW-MD-14002"})
    grant(a, "Dr Both Granted")
    grant(b, "Dr Both Granted")

    requests, dialogs = watch(doctor)
    doctor.goto(f"/sharing/patients/{b_id}/records/{b_record}")
    reload_until(doctor, lambda: "Fasting glucose" in doctor.inner_text("main"))
    _assert_inert(doctor, requests, dialogs, "B's record")
    assert user_records(server, "exfil.attacker@example.tw")[1] == [b_record], "a visit was added to B's file"
    assert not [u for _m, u in requests if a_record in u], "the doctor's browser fetched A's record"
    assert not [(m, u) for m, u in requests if m == "POST"], "the doctor's browser posted something"
    assert "林小美" not in doctor.inner_text("main")  # A's name (in A's bundle) is nowhere on B's page
    assert "hx-post=" in doctor.inner_text(".record-content")  # the payload is there, as text
    assert re.search(r"/sharing/patients/\d+/records/[0-9a-f]{64}$", doctor.url)
    tally(sweep, "issue-14 attacks reproduced and stopped")
