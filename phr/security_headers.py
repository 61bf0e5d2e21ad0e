"""Security headers on every response: a strict Content-Security-Policy and friends.

The policy allows no inline script or style at all. htmx is configured through
``<meta name="htmx-config">`` (``includeIndicatorStyles: false``, so it injects no
``<style>``) and ``hx-*`` attributes, which are data, not script; the little
behaviour we add lives in ``static/js/app.js``.

Pages and downloads of the blueprints in ``PRIVATE_BLUEPRINTS`` carry health data: they are
``Cache-Control: no-store``, so neither the browser's cache nor its back/forward history keeps a copy.
"""
from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join([  # noqa: FLY002 - one directive per line reads best
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

PRIVATE_BLUEPRINTS = frozenset({"records", "sharing"})


def _add_headers(resp: Response) -> Response:
    for name, value in HEADERS.items():
        resp.headers.setdefault(name, value)
    if request.blueprint in PRIVATE_BLUEPRINTS:
        resp.headers["Cache-Control"] = "no-store"
    return resp


def init_app(app: Flask) -> None:
    """Send the headers on every response; keep the session cookie HttpOnly and SameSite=Lax."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.after_request(_add_headers)
