"""The core flow with JavaScript turned off: plain forms, full pages, reload to follow anchoring."""
from __future__ import annotations

import re

from browser_helpers import confirm, register, reload_until, upload

DOCTOR = {"country": "Philippines", "institution": "Makati Medical Center", "licence_no": "PH-MD-77001"}


def test_register_upload_anchor_grant_and_doctor_reads_without_javascript(new_page):
    patient = new_page(js=False)
    register(patient, "ana.nojs@example.tw", "Lin Ana")

    upload(patient)
    assert patient.url.endswith("/records/upload")  # the preview arrived as a full page from the plain POST
    assert patient.locator("h1").inner_text() == "Upload a record"
    record_id = confirm(patient)

    # Without htmx the status does not poll: reloading shows progress until the record is anchored (bounded).
    reload_until(patient, lambda: re.search(r"Anchored in block \d+", patient.inner_text("#anchor-status")))
    assert record_id in patient.url

    doctor = new_page(js=False)
    register(doctor, "reyes.nojs@example.ph", "Dr Jose Reyes", doctor=DOCTOR)

    # The directory search is a GET form; the grant is a plain POST answered by a redirect and a flash.
    patient.goto("/sharing/")
    patient.fill("#doctor-search", "Makati")
    patient.get_by_role("button", name="Search").click()
    assert "q=Makati" in patient.url
    patient.locator("#directory li.card", has_text="Dr Jose Reyes").get_by_role("button", name="Grant access").click()
    patient.wait_for_url("**/sharing/")
    assert "Dr Jose Reyes can read your records once the grant is confirmed on the chain." in patient.inner_text("main")
    reload_until(patient, lambda: "Confirmed on chain" in patient.inner_text("#granted"))

    doctor.goto("/sharing/patients")
    doctor.get_by_role("link", name="Lin Ana").click()
    reload_until(doctor, lambda: "Verified against the chain" in doctor.inner_text("main"))
    assert "Iunaidon" in doctor.inner_text("main")
