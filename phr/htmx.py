"""The one rule for "page or fragment?" shared by the blueprints.

A fragment is for an htmx request that is not a boosted page load (boosted
navigation also sends ``HX-Request`` but wants the whole page), optionally only
when aimed at one element (``HX-Target``) or fired by one (``HX-Trigger``).
Whatever the answer, the response varies on the headers that decided it, so a
cache never hands a fragment to a page load or the reverse.
"""
from __future__ import annotations

from flask import after_this_request, request


def fragment_wanted(*, target: str | None = None, trigger: str | None = None) -> bool:
    """True for an htmx request that wants a fragment (aimed at ``target`` / fired by ``trigger`` if given).

    Adds ``Vary: HX-Request, HX-Boosted`` (and ``HX-Target`` / ``HX-Trigger`` when asked about them) to the response.
    """
    headers = ["HX-Request", "HX-Boosted"]
    if target is not None:
        headers.append("HX-Target")
    if trigger is not None:
        headers.append("HX-Trigger")

    @after_this_request
    def _vary(resp):
        resp.vary.update(headers)
        return resp

    return (bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")
            and (target is None or request.headers.get("HX-Target") == target)
            and (trigger is None or request.headers.get("HX-Trigger") == trigger))
