"""Issue 14, item 9 in Chromium: a link on another site cannot make a doctor's browser read a record, which
would decrypt it and write a chain log entry in the doctor's name; the doctor is asked, and reads from here."""
from __future__ import annotations

import re
import sqlite3

from browser_helpers import (
    DATA,
    grant,
    register,
    reload_until,
    upload_confirmed,
    user_records,
)

DOCTOR = {"country": "Taiwan", "institution": "Cross Site Clinic", "licence_no": "TW-MD-14009"}
EVIL = "http://evil.test/"


def _reads(server) -> int:
    with sqlite3.connect(server.env["PHR_DATABASE_URL"].removeprefix("sqlite:///")) as con:
        return con.execute("SELECT count(*) FROM access_events WHERE action = 'read'").fetchone()[0]


def test_a_link_from_another_site_asks_the_doctor_before_a_logged_read(new_page, server):
    patient = new_page()
    register(patient, "cross.site@example.tw", "Cross Site Patient")
    record_id = upload_confirmed(patient, DATA / "fhir" / "valid-collection.json")
    reload_until(patient, lambda: re.search(r"Anchored in block \d+", patient.inner_text("#anchor-status")))
    doctor = new_page()
    register(doctor, "cross.doctor@example.tw", "Dr Cross Site", doctor=DOCTOR)
    grant(patient, "Dr Cross Site")
    patient_id, _ = user_records(server, "cross.site@example.tw")
    target = f"{server.base}/sharing/patients/{patient_id}/records/{record_id}"
    # Another site, served by the browser itself: a page with a link to the doctor's read.
    doctor.context.route(EVIL, lambda route: route.fulfill(content_type="text/html",
                                                           body=f'<a id="go" href="{target}">Read the news</a>'))

    before = _reads(server)
    doctor.goto(EVIL)
    doctor.click("#go")
    doctor.wait_for_url(target)
    page = doctor.inner_text("main")
    assert "Open this record?" in page and "Type 2 diabetes mellitus" not in page
    assert _reads(server) == before  # nothing decrypted, nothing logged

    doctor.get_by_role("link", name="Open the record").click()  # the doctor's choice, on this site
    doctor.get_by_text("Type 2 diabetes mellitus").first.wait_for()
    assert doctor.url == target and _reads(server) == before + 1
    # Counted in the sweep by tests/sharing/test_cross_site_reads.py (the same attack, through the test client).
