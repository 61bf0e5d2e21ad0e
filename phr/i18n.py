"""Languages: English, Traditional Chinese (Taiwan) and Thai, with Flask-Babel.

The language comes from the ``lang`` cookie set by the switch in the header
(``POST /lang``), else from the browser's ``Accept-Language``, else English.
Templates use ``_()``/``ngettext()``; Python code uses :func:`flask_babel.gettext`,
and ``lazy_gettext`` for form labels built at import time.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_babel import (
    Babel,
    format_date,
    format_datetime,
    get_locale,
    get_translations,
    gettext,
    ngettext,
)

from .urls import safe_next

# Locale id (translation folder name) → name shown in the switch, in its own language.
LANGUAGES = {"en": "English", "zh_Hant_TW": "繁體中文", "th": "ไทย"}
DEFAULT = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
# Accept-Language primary subtag → our locale (any Chinese gets Traditional Chinese, Taiwan).
_BY_LANGUAGE = {"en": "en", "zh": "zh_Hant_TW", "th": "th"}

babel = Babel()
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    if not has_request_context():  # the worker and CLI commands speak English
        return DEFAULT
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for tag, _quality in request.accept_languages:
        found = _BY_LANGUAGE.get(tag.replace("_", "-").split("-")[0].lower())
        if found:
            return found
    return DEFAULT


def html_lang() -> str:
    """The BCP 47 tag for ``<html lang>``: en, zh-Hant-TW, th."""
    return str(get_locale() or DEFAULT).replace("_", "-")


@bp.post("/lang")
def set_language():
    """The header's language switch (a plain form with CSRF): remember the choice in a cookie."""
    lang = request.form.get("lang", "")
    resp = redirect(safe_next(request.form.get("next"), url_for("status.index")), 303)
    if lang in LANGUAGES:
        resp.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])  # like the session (PHR_COOKIE_SECURE)
    return resp


class _FormTranslations:
    """WTForms' built-in messages ("This field is required.", …) from our catalogs.

    Flask-WTF would load WTForms' own catalogs, which have no Thai and map zh_Hant_TW to
    Simplified Chinese; it uses whatever ``request.wtforms_translations`` holds, so we put this there.
    """

    def ugettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


def _form_translations() -> None:
    request.wtforms_translations = _FormTranslations()


def _wtforms_messages() -> None:  # never called: marks the WTForms messages our forms can show, for pybabel
    gettext("This field is required.")
    gettext("Invalid input.")
    gettext("Not a valid choice.")
    gettext("Not a valid integer value.")
    gettext("Not a valid date value.")
    gettext("Number must be between %(min)s and %(max)s.")
    gettext("Field must be between %(min)d and %(max)d characters long.")
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1)
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1)
    ngettext("'%(value)s' is not a valid choice for this field.", "'%(value)s' are not valid choices for this field.",
             1)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.before_request(_form_translations)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES, html_lang=html_lang, get_locale=get_locale,
        format_date=format_date, format_datetime=format_datetime,
    )
    app.after_request(_vary_on_language)


def _vary_on_language(resp):
    resp.vary.update(("Cookie", "Accept-Language"))
    return resp
