"""What a person does in the browser, as small functions over a Playwright page."""
from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

PASSWORD = "correct horse battery staple"
VALIDATOR_EMAIL = "ops@signer-one.example"  # created with the CLI before the server starts (conftest.py)
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SCENARIO = DATA / "mhb" / "scenario.xml"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def register(page, email: str, name: str, *, doctor: dict | None = None) -> str:
    """Fill in the registration form, save the recovery kit, and return the recovery code."""
    page.goto("/auth/register")
    page.fill("#email", email)
    page.fill("#display_name", name)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    if doctor:
        page.check("input[name=role][value=doctor]")
        page.fill("#country", doctor["country"])
        page.fill("#institution", doctor["institution"])
        page.fill("#licence_no", doctor["licence_no"])
    page.locator("form[action$='/auth/register'] button[type=submit]").click()
    page.wait_for_url("**/auth/kit")
    code = page.locator(".recovery-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9-]{10,}", code), code
    page.locator("form[action$='/auth/kit/done'] button").click()
    page.wait_for_load_state()
    return code


def log_in(page, email: str) -> None:
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action*='/auth/login'] button[type=submit]").click()
    page.wait_for_url("**/auth/account")


def upload(page, path: Path = SCENARIO) -> None:
    """Choose the file and check it; the preview replaces the form (htmx) or arrives as a page (no JS)."""
    page.goto("/records/upload")
    page.set_input_files("#file", str(path))
    page.locator("form[action$='/records/upload'] button[type=submit]").click()
    page.locator("#preview-title").wait_for()


def confirm(page) -> str:
    """Press "Encrypt, store and anchor"; returns the new record's id (from the record page's URL)."""
    page.locator("form[action*='/confirm'] button").click()
    page.wait_for_url(re.compile(r"/records/[0-9a-f]{64}$"))
    return page.url.rsplit("/", 1)[1]


def reload_until(page, check, timeout: float = 90.0, every: float = 1.0) -> None:
    """Reload the page (as a person without JS would) until ``check()`` holds; bounded."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting on {page.url}"
        time.sleep(every)
        page.reload()


def visible_text(page) -> str:
    """The page's visible words, minus parts marked lang="en" (server messages kept in English on purpose)."""
    return page.evaluate("""() => {
      const copy = document.body.cloneNode(true);
      copy.querySelectorAll('[lang="en"], code, .mono, script').forEach((el) => el.remove());
      return document.title + "\\n" + copy.innerText;
    }""")


DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"


def shot(page, name: str, docs: str | None = None) -> Path:
    """Save a full-page screenshot to test-artifacts/screenshots/ (git-ignored).

    With ``PHR_DOCS_SCREENSHOTS=1``, shots given a ``docs`` name are also saved, one screen high,
    to docs/screenshots/ for the README.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs and os.environ.get("PHR_DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_SCREENSHOTS / f"{docs}.png"))
    return path


def user_records(server, email: str) -> tuple[int, list[str]]:
    """(user id, record ids) of a user, read from the app's database."""
    with sqlite3.connect(server.env["PHR_DATABASE_URL"].removeprefix("sqlite:///")) as con:
        (uid,) = con.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()
        return uid, [r for (r,) in con.execute("SELECT id FROM records WHERE owner_id = ?", (uid,))]


def watch(page) -> tuple[list[tuple[str, str]], list[str]]:
    """Every request the page sends and every dialog it opens (dismissed)."""
    requests, dialogs = [], []
    page.on("request", lambda r: requests.append((r.method, r.url)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return requests, dialogs


def grant(patient, doctor_name: str) -> None:
    """The patient grants the doctor access to all records and waits for the grant to be confirmed on chain."""
    patient.goto("/sharing/")
    card = patient.locator("#directory li.card", has_text=doctor_name)
    card.get_by_role("button", name="Grant access").click()
    granted = patient.locator("#granted li.card", has_text=doctor_name)
    granted.wait_for()
    reload_until(patient, lambda: "Confirmed on chain" in granted.inner_text())


def upload_confirmed(patient, path: Path) -> str:
    """Upload ``path``, confirm it and return the record id."""
    upload(patient, path)
    return confirm(patient)
