"""htmx request helpers shared by the blueprints."""
from flask import request


def fragment_wanted() -> bool:
    """True for an htmx request that wants a fragment (boosted navigation wants the full page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")
