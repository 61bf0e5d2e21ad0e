"""Translations: every message translated in every language, compiled catalogs up to date, language negotiation."""
from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import render_template

from phr.auth.forms import EmptyForm
from phr.i18n import LANGUAGES
from phr.records.service import Staged

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "phr" / "translations"
LOCALES = [code for code in LANGUAGES if code != "en"]
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def _key(value):
    return value if isinstance(value, str) else tuple(value)


def _po(locale):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set:
    """The message ids in the code and templates right now (as scripts/translations.sh update extracts them)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "N_",
                                "-k", "lazy_gettext", "--no-location", "--omit-header", "-o", str(pot), str(ROOT)])
    with open(pot, "rb") as f:
        return {_key(m.id) for m in read_po(f) if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_in_the_code_is_in_the_catalog(locale, extracted):
    catalog = {_key(m.id) for m in _po(locale) if m.id}
    missing = extracted - catalog
    assert not missing, f"run scripts/translations.sh update and translate: {sorted(map(str, missing))[:10]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_with_the_same_placeholders(locale):
    for m in _po(locale):
        if not m.id:
            continue
        assert "fuzzy" not in m.flags, m.id
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        assert all(s.strip() for s in strings), f"{locale}: untranslated {m.id!r}"
        wanted = set(_PLACEHOLDER.findall(ids[-1])) | set(_PLACEHOLDER.findall(ids[0]))
        for s in strings:
            assert set(_PLACEHOLDER.findall(s)) == wanted, f"{locale}: placeholders differ in {m.id!r}: {s!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_committed_mo_matches_the_po(locale):
    """The .mo files are committed; scripts/translations.sh compile rebuilds them after editing a .po."""
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    source = {_key(m.id): _key(m.string) for m in _po(locale) if m.id}
    assert compiled == source, "stale .mo: run scripts/translations.sh compile"


@pytest.mark.parametrize(("accept", "lang", "text"), [
    ("zh-TW,zh;q=0.9,en;q=0.5", "zh-Hant-TW", "登入"),
    ("zh-Hant", "zh-Hant-TW", "建立帳戶"),
    ("th-TH,th;q=0.9", "th", "เข้าสู่ระบบ"),
    ("fr-FR,en;q=0.5", "en", "Log in"),
    ("", "en", "Log in"),
])
def test_language_follows_accept_language(client, accept, lang, text):
    page = client.get("/auth/login", headers={"Accept-Language": accept} if accept else {}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page and text in page


def test_language_switch_is_remembered_in_a_cookie(auth, client):
    resp = auth.post("/auth/login", {"lang": "th", "next": "/auth/register"}, action="/lang")
    assert resp.status_code == 303 and resp.headers["Location"] == "/auth/register"
    assert "lang=th" in resp.headers["Set-Cookie"] and "HttpOnly" in resp.headers["Set-Cookie"]
    page = client.get("/auth/register", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert '<html lang="th">' in page and "สร้างบัญชี" in page  # the cookie wins over the browser's preference
    # Form labels and validation errors are translated too.
    errors = auth.post("/auth/register", {"email": "nope"}).get_data(as_text=True)
    assert "กรอกที่อยู่อีเมลที่ถูกต้อง" in errors and "รหัสผ่าน" in errors
    assert "ต้องกรอกช่องนี้" in errors and "This field is required." not in errors  # WTForms' own messages too


def test_wtforms_messages_are_traditional_chinese_not_simplified(auth):
    page = auth.post("/auth/login", {}, headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert "此欄位為必填。" in page and "该字段" not in page


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", ""])
def test_language_switch_only_returns_to_this_site(auth, target):
    resp = auth.post("/auth/login", {"lang": "zh_Hant_TW", "next": target}, action="/lang")
    assert resp.status_code == 303 and resp.headers["Location"] == "/"


def test_language_switch_needs_csrf(client):
    assert client.post("/lang", data={"lang": "th"}).status_code == 400


def test_unknown_language_is_ignored(auth):
    resp = auth.post("/auth/login", {"lang": "xx", "next": "/"}, action="/lang")
    assert resp.status_code == 303 and "lang=" not in resp.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(("lang", "filename", "body", "shown", "english"), [
    ("zh_Hant_TW", "broken.json", b'{"resourceType": "Bundle",', "此 JSON 格式無效：", "The JSON is not valid"),
    ("th", "notes.txt", b"hello", "ไฟล์ 'notes.txt' ไม่ใช่ทั้ง JSON และ XML", "is neither JSON nor XML"),
], ids=["zh_Hant_TW", "th"])
def test_a_refused_upload_is_explained_in_the_chosen_language(auth, lang, filename, body, shown, english):
    auth.register_patient("mei@example.tw")
    assert auth.post("/records/upload", {"lang": lang, "next": "/records/upload"}, action="/lang").status_code == 303
    for headers in ({}, {"HX-Request": "true"}):  # the plain page and the htmx swap say the same
        resp = auth.post("/records/upload", {"file": (io.BytesIO(body), filename)},
                         content_type="multipart/form-data", headers=headers)
        page = html.unescape(resp.get_data(as_text=True))
        assert resp.status_code == 422 and shown in page and english not in page


@pytest.mark.parametrize(("lang", "skipped", "note"), [
    ("zh_Hant_TW", "r1 第 0 列：健保支付標準項目 00102B", "標示為「無資料」的區段：r2, r3"),
    ("th", "r1 แถว 0: รายการในบัญชีอัตราค่าบริการของประกันสุขภาพแห่งชาติ (NHI) 00102B",
     "ส่วนที่ระบุว่า 無資料 (ไม่มีข้อมูล): r2, r3"),
], ids=["zh_Hant_TW", "th"])
def test_the_preview_explains_skipped_rows_and_notes_in_the_chosen_language(auth, lang, skipped, note):
    auth.register_patient("mei@example.tw")
    assert auth.post("/records/upload", {"lang": lang, "next": "/records/upload"}, action="/lang").status_code == 303
    body = (ROOT / "tests" / "data" / "mhb" / "scenario.json").read_bytes()
    for headers in ({}, {"HX-Request": "true"}):  # the plain page and the htmx swap say the same
        resp = auth.post("/records/upload", {"file": (io.BytesIO(body), "scenario.json")},
                         content_type="multipart/form-data", headers=headers)
        page = html.unescape(resp.get_data(as_text=True))
        assert resp.status_code == 200 and skipped in page and note in page
        assert "fee-schedule item" not in page and "Sections marked" not in page


def test_a_preview_staged_before_notes_were_translatable_still_shows_them(app):
    """Pending uploads kept the English text (notes as strings, a skipped row's "reason") until they expire."""
    summary = {"counts": {}, "date_from": None, "date_to": None, "notes": ["Sections absent from the file: r7."],
               "skipped": [{"section": "r6", "row": 1, "reason": "vaccination without a valid date (r6.1)"}]}
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        page = render_template("records/_preview.html", staged=Staged("0" * 32, "mhb-json", summary), form=EmptyForm())
    assert "Sections absent from the file: r7." in page and "vaccination without a valid date (r6.1)" in page
    assert "已略過 1 列" in page  # the page itself is still in the reader's language
