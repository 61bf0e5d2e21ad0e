"""Every response carries a strict CSP and the other security headers; templates have no inline script or style."""
import re
from pathlib import Path

import pytest

from phr.security_headers import CONTENT_SECURITY_POLICY

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize("path", ["/", "/auth/login", "/auth/register", "/static/css/app.css", "/no-such-page"])
def test_every_response_has_the_security_headers(client, path):
    with client.get(path) as resp:  # closes the static file's stream
        pass
    assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_samesite_lax(client):
    cookie = client.get("/auth/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_when_configured(app):
    app.config["SESSION_COOKIE_SECURE"] = True  # PHR_COOKIE_SECURE=true in production
    assert "Secure" in app.test_client().get("/auth/login").headers["Set-Cookie"]


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_or_style(template):
    html = template.read_text()
    assert not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"\son[a-z]+\s*=", html)  # onclick=, onload=…
    assert not re.search(r"hx-on", html)  # hx-on runs inline JS (blocked by the CSP)
    assert not re.search(r"<style", html)
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)


def test_htmx_injects_no_style_and_evaluates_nothing(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '"includeIndicatorStyles":false' in page and '"allowEval":false' in page
