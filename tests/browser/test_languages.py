"""Every page, in English, Traditional Chinese and Thai: right <html lang>, no English UI left, no CSP or console errors."""
from __future__ import annotations

import re

import pytest
from browser_helpers import (
    VALIDATOR_EMAIL,
    confirm,
    log_in,
    register,
    shot,
    upload,
    visible_text,
)

# UI wording that must not show through on a translated page (checked on visible text; codes and
# server messages marked lang="en" are left out, see ui.visible_text).
ENGLISH = ["Log in", "Log out", "My records", "Upload a record", "Access log", "Account", "Register", "Sharing",
           "Who can see my records", "Check file", "Grant access", "Verified against the chain", "Anchored in block",
           "Records anchored in this block", "System status", "My patients", "Medication history", "Visits",
           "Language", "Recovery code", "Newest blocks", "latest first", "Doctors with access", "Password",
           "Validators", "Current signers", "Your votes", "Cast a vote", "Send vote to my node"]

LANGS = {  # locale id → (Accept-Language of the browser, <html lang>, the header's label of the language switch)
    "en": ("en-US", "en", "Language"),
    "zh_Hant_TW": ("zh-TW", "zh-Hant-TW", "語言"),
    "th": ("th-TH", "th", "ภาษา"),
}


def _check(page, lang: str, html_lang: str, nav_word: str) -> None:
    assert page.locator("html").get_attribute("lang") == html_lang, page.url
    text = visible_text(page)
    assert nav_word in page.inner_text("header"), page.url
    if lang != "en":
        leftovers = [w for w in ENGLISH if re.search(rf"\b{re.escape(w)}\b", text)]
        assert not leftovers, f"{page.url}: untranslated {leftovers}"


@pytest.mark.parametrize("lang", list(LANGS))
def test_every_page_in_each_language(new_page, lang):
    accept, html_lang, nav_word = LANGS[lang]
    check = lambda page: _check(page, lang, html_lang, nav_word)
    patient = new_page(locale=accept)  # the browser's language is negotiated with Accept-Language
    for path in ("/", "/auth/login", "/auth/register", "/auth/recover", "/status"):
        patient.goto(path)
        check(patient)
    register(patient, f"pat-{lang.lower()}@example.org", "Wang Hsiao-ming")
    check(patient)
    for path in ("/records/", "/records/upload", "/sharing/", "/sharing/log", "/blocks/", "/auth/account",
                 "/auth/password"):
        patient.goto(path)
        check(patient)
    upload(patient)
    check(patient)
    record_id = confirm(patient)
    check(patient)
    status = patient.locator("#anchor-status")
    status.locator("a[href*='/blocks/']").wait_for(timeout=90_000)  # anchored: the block link appears
    check(patient)
    patient.goto("/records/")
    check(patient)
    shot(patient, f"timeline-{lang}", docs="timeline-zh-hant-tw" if lang == "zh_Hant_TW" else None)
    patient.goto(f"/records/{record_id}")
    status.locator("a[href*='/blocks/']").click()
    check(patient)
    patient.goto(f"/sharing/records/{record_id}/privacy")
    check(patient)

    doctor = new_page(locale=accept)
    register(doctor, f"doc-{lang.lower()}@example.org", "Dr Chai", doctor={
        "country": "Thailand", "institution": "Siriraj Hospital", "licence_no": f"TH-{lang}"})
    for path in ("/sharing/patients", "/blocks/", "/auth/account"):
        doctor.goto(path)
        check(doctor)


@pytest.mark.parametrize("lang", list(LANGS))
def test_validator_pages_in_each_language(new_page, lang):
    """A validator operator (created with the CLI) sees Validators and Blocks, and their node's votes."""
    accept, html_lang, label = LANGS[lang]
    page = new_page(locale=accept)
    log_in(page, VALIDATOR_EMAIL)
    _check(page, lang, html_lang, label)
    nav = page.locator("nav.site-nav a").all_inner_texts()
    assert len(nav) == 3  # Validators, Blocks, Account
    page.locator("nav.site-nav a").first.click()
    page.wait_for_url("**/validators/")
    assert page.locator("#signers li").count() == 3 and page.locator("#proposals form").count() >= 1
    _check(page, lang, html_lang, label)
    if lang == "en":
        assert nav[:2] == ["Validators", "Blocks"]
        assert "(your node)" in page.inner_text("#signers")
        shot(page, "validators")


def test_language_switch_in_the_header_is_remembered(new_page):
    page = new_page(locale="en-US")
    page.goto("/auth/login")
    page.select_option("#lang-select", "th")
    page.get_by_role("button", name="Change").click()
    page.wait_for_url("**/auth/login")
    assert page.locator("html").get_attribute("lang") == "th"
    assert page.locator("h1").inner_text() == "เข้าสู่ระบบ"
    page.goto("/auth/register")  # the choice sticks (cookie), whatever the browser asks for
    assert page.locator("h1").inner_text() == "สร้างบัญชี"
    page.select_option("#lang-select", "zh_Hant_TW")
    page.get_by_role("button", name="เปลี่ยน").click()
    assert page.locator("html").get_attribute("lang") == "zh-Hant-TW" and page.locator("h1").inner_text() == "建立帳戶"


def test_tables_scroll_inside_their_box_on_a_phone(new_page):
    """375 px wide: the page itself never scrolls sideways; wide tables scroll in their .table-wrap."""
    page = new_page(width=375)
    register(page, "phone@example.org", "Phone User")
    upload(page)
    record_id = confirm(page)
    for path in ("/records/", f"/records/{record_id}", "/sharing/log", "/blocks/", "/status"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        shot(page, "phone-" + path.strip("/").split("/")[0] + ("-record" if record_id in path else ""))
