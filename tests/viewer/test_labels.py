"""The ``label`` filter: the viewer's own words translated, anything else plain text for Jinja to escape."""
from __future__ import annotations

from flask import render_template_string
from markupsafe import Markup

from phr.labels import label
from phr.view import FLAG_LABELS, KIND_LABELS


def test_known_words_are_translated_and_record_text_stays_plain_text(app):
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        assert label(FLAG_LABELS["high"]) != "High" and type(label(FLAG_LABELS["high"])) is str
        assert label(KIND_LABELS["inpatient"]) != "Inpatient stay"
        for text in ("<b hx-get=/x>%(x)s 100%</b>", Markup("<i>x</i>")):
            assert label(text) == str(text) and type(label(text)) is str
        html = render_template_string("{{ a|label }} · {{ b|label }}", a="Fasting %(x)s <b>", b="Imaging")
        assert html == "Fasting %(x)s &lt;b&gt; · " + label("Imaging") and label("Imaging") != "Imaging"
    assert label(None) == ""
