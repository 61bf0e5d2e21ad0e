"""Security headers on every response: a strict Content-Security-Policy and friends.

The policy allows no inline script or style at all. htmx is configured through
``<meta name="htmx-config">`` (``includeIndicatorStyles: false``, so it injects no
``<style>``) and ``hx-*`` attributes, which are data, not script; the little
behaviour we add lives in ``static/js/app.js``.
"""
from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _add_headers(resp: Response) -> Response:
    for name, value in HEADERS.items():
        resp.headers.setdefault(name, value)
    return resp


def init_app(app: Flask) -> None:
    """Send the headers on every response; keep the session cookie HttpOnly and SameSite=Lax."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.after_request(_add_headers)
