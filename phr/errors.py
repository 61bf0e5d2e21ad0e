"""HTTP error pages (400, 403, 404, 405, 500 …) in the site's layout and the user's language.

Blueprints still answer their own domain errors (RecordNotFound, ChainError, 413 …); this only
replaces Werkzeug's bare English pages for everything else.
"""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

_MESSAGES = {
    400: _l("The request could not be understood. If you were sending a form, reload the page and try again."),
    403: _l("You are not allowed to open this page."),
    404: _l("There is no such page."),
    405: _l("This page cannot be used that way."),
    429: _l("Too many requests. Please wait a moment and try again."),
}
_DEFAULT = _l("The server could not complete the request. Please try again.")


def _page(exc: HTTPException):
    code = exc.code or 500
    return render_template("error.html", message=_MESSAGES.get(code, _DEFAULT), code=code), code


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _page)
