"""The three partials: semantic HTML, no inline script/style/handlers, escaping, visible flags."""
from __future__ import annotations

import re

import pytest
from viewer_helpers import PARTIALS, Crafted, Page, bundle, render

from phr.view import build_view

SAMPLES = ["mhb/scenario.json", "mhb/full.json", "fhir/valid-collection.json", "fhir/valid-transaction.json"]
ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("partial", PARTIALS)
def test_partials_are_semantic_and_csp_clean(sample, partial):
    html = render(partial, build_view(bundle(sample), author="Dr X"))
    page = Page(html)
    assert page.tags.count("section") >= 1 and page.sections_without_label == 0
    assert len(page.ids) == len(set(page.ids))
    assert set(page.labelled_by) <= set(page.ids)
    assert all(ISO.match(d) for d in page.datetimes), page.datetimes
    assert page.datetimes or "No medications" in html
    for table in page.tables:
        assert table["wrapped"] and table["caption"] and None not in table["th_scope"]
    assert "script" not in page.tags and "style" not in page.tags
    assert not [a for a in page.attributes if a.startswith("on") or a == "style"]


def test_scenario_visits_partial_reads_like_the_papers_table():
    html = render("records/_visits.html", build_view(bundle("mhb/scenario.json")))
    order = [html.index(f'<time datetime="{day}">') for day in
             ("2017-10-10", "2017-07-16", "2017-05-25", "2017-05-20", "2017-01-20")]
    assert order == sorted(order)
    for text in ("<code>E11.9</code>", "第二型糖尿病，無併發症", "Iunaidon Tablets", "<code>AX99001100</code>",
                 "Western-medicine outpatient", "示範神經科診所", "principal"):
        assert text in html


def test_medication_table_says_overlap_in_words():
    html = render("records/_medications.html", build_view(bundle("mhb/scenario.json")))
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, re.DOTALL)
    flagged = [row for row in rows if 'class="flagged"' in row]
    assert len(flagged) == 2 and all("Cofarin" in row and "Overlap</strong>" in row for row in flagged)
    assert "also supplied from 2017-05-20" in html and "Repeat</strong>" not in html
    assert html.count("<time") == 10


def test_results_table_marks_abnormal_values_in_words():
    html = render("records/_clinical.html", build_view(bundle("mhb/full.json")))
    row = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", html, re.DOTALL) if ">CRE<" in r)
    assert 'class="flagged"' in row and "&lt; 0.5" in row and "&gt;=0.6" in row and ">Low</strong>" in row
    for text in ("Benign tissue.", "Amoxicillin 500mg cap", "COVID-19疫苗", "同意安寧緩和醫療", "糖尿病追蹤",
                 "Chest PA view:\nNo active lung lesion."):
        assert text in html


def test_record_text_is_escaped():
    c = Crafted()
    clinic = c.org('<img src=x onerror="alert(1)">')
    visit = c.visit("2024-01-01", clinic)
    c.order("AA11111111", "<script>alert(1)</script>", "2024-01-01", clinic, encounter=visit)
    view = build_view(c.bundle(), author="<b>Mallory</b>")
    for partial in PARTIALS:
        html = render(partial, view)
        assert "<script>" not in html and "<img" not in html and "<b>Mallory" not in html
    assert "&lt;script&gt;" in render("records/_medications.html", view)


def test_empty_record_renders_friendly_messages():
    view = build_view({"resourceType": "Bundle", "type": "collection"})
    html = "".join(render(p, view) for p in PARTIALS)
    assert "No visits in this record." in html and "No medications in this record." in html
    assert "No test results in this record." in html and "<table" not in html
