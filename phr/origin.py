"""Which site started a request: refuse state-changing requests from other sites; tell cross-site reads apart.

A CSRF token proves the form came from our page, not that the request did. Browsers say where a request
comes from in ``Sec-Fetch-Site`` (every request) and ``Origin`` (every POST), else ``Referer``
(``Referrer-Policy: same-origin`` keeps ours). A request is *cross-site* when any of them names another
site: ``Sec-Fetch-Site`` other than ``same-origin`` or ``none`` (typed, bookmarked), or an ``Origin``
(else ``Referer``) that is not this site, ``null`` included. A request without these headers is not a
browser's cross-site request (command-line clients, the test client) and passes.

This site is ``PUBLIC_ORIGIN`` (``PHR_PUBLIC_ORIGIN``, e.g. ``https://phr.example.org``: set it behind a
reverse proxy that rewrites ``Host``); without it, the request's own host, whatever the scheme (a
TLS-terminating proxy in front makes the app see ``http``).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request

from .urls import safe_next

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})


def _ours(url: str) -> bool:
    parts = urlsplit(url)
    public = current_app.config.get("PUBLIC_ORIGIN")
    if public:
        return f"{parts.scheme}://{parts.netloc}".lower() == public.rstrip("/").lower()
    return bool(parts.scheme and parts.netloc) and parts.netloc.lower() == request.host.lower()


def cross_site() -> bool:
    """True when the browser says another site (or an opaque ``null`` origin) started this request."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in SAME_ORIGIN_FETCH:
        return True
    source = request.headers.get("Origin") or request.headers.get("Referer")
    return source is not None and not _ours(source)


def back(default: str) -> str:
    """Where a plain form post goes back to: the page it came from (our ``Referer``, path only), else ``default``."""
    referrer = request.headers.get("Referer")
    if referrer and _ours(referrer):
        parts = urlsplit(referrer)
        return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""), default)
    return default


def _refuse_foreign_writes() -> None:
    if request.method in UNSAFE_METHODS and cross_site():
        abort(403)


def init_app(app: Flask) -> None:
    """Refuse (403) every state-changing request that another site started, before any view runs."""
    app.before_request(_refuse_foreign_writes)
