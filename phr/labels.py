"""The project's one ``N_`` marker, and the viewer's own words translated while record text stays text.

``N_`` marks every fixed English message or word that is translated later, where it is shown (importer
notes and rejections, viewer labels, record states); pybabel extracts it.

Record content is data, never a message. Jinja's ``_()`` returns ``Markup`` (printed unescaped) and
always ``%``-formats, so record text passed to it becomes live HTML/htmx in the reader's browser
(``<div hx-get=… hx-trigger=load>``) or a 500 (``Fasting %(x)s 100%``). The viewer marks the fixed
words it puts among record data with :func:`N_`; a template prints any field that may hold either such
a word or record text with the ``label`` filter, which translates only the marked words and returns
everything else as a plain ``str`` for Jinja to escape.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import gettext

_KNOWN: set[str] = set()


def N_(text: str) -> str:
    """Mark ``text`` as a fixed, translatable label (pybabel extracts it); returns it unchanged."""
    _KNOWN.add(text)
    return text


def label(value: object) -> str:
    """The reader's translation of a word marked with :func:`N_`, else ``value`` as plain text (never Markup)."""
    if value is None:
        return ""
    text = str(value)  # a plain str even if given Markup: Jinja escapes it
    return str(gettext(text)) if text in _KNOWN else text


def init_app(app: Flask) -> None:
    app.jinja_env.filters["label"] = label
