"""Privacy tags hide items everywhere (view and all three partials); merge_views joins records."""
from __future__ import annotations

from viewer_helpers import Crafted, bundle, key_of, render, render_all

from phr.view import build_view, item_keys, merge_views


def _all_keys(view) -> set[str]:
    keys = {v.key for v in view.visits} | {m.key for m in view.medications}
    keys |= {d.key for v in view.visits for d in v.diagnoses} | {p.key for v in view.visits for p in v.procedures}
    keys |= {m.key for v in view.visits for m in v.medications}
    for name in ("other_diagnoses", "other_procedures", "allergies", "immunizations", "labs", "reports", "consents",
                 "programmes"):
        keys |= {item.key for item in getattr(view, name)}
    keys |= {f.key for p in view.programmes for f in p.follow_ups}
    keys |= {v.key for p in view.programmes for f in p.follow_ups for v in f.values}
    return keys


def test_patient_hides_a_diagnosis_and_it_is_gone_from_view_and_html():
    source = bundle("mhb/scenario.json")
    epilepsy = key_of(source, "Condition", "G40.909")
    view = build_view(source, hidden=frozenset({epilepsy}))
    assert epilepsy not in _all_keys(view)
    visit = next(v for v in view.visits if v.date == "2017-07-16")
    assert visit.diagnoses == () and [m.name for m in visit.medications] == ["Neurtrol F.C. Tablets 300 mg"]
    assert view.counts["diagnoses"] == 5
    html = render_all(view)
    assert "G40.909" not in html and "癲癇" not in html and epilepsy not in html
    assert "Neurtrol" in html  # only the tagged diagnosis is hidden


def test_patient_hides_a_medication_and_it_is_gone_from_visit_history_and_html():
    source = bundle("mhb/scenario.json")
    neurtrol = key_of(source, "MedicationRequest", "Neurtrol")
    view = build_view(source, hidden=frozenset({neurtrol}))
    assert neurtrol not in _all_keys(view) and view.counts["medications"] == 4
    assert next(v for v in view.visits if v.date == "2017-07-16").medications == ()
    html = render_all(view)
    assert "Neurtrol" not in html and "AX99002100" not in html
    assert "G40.909" in html


def test_patient_hides_a_whole_visit_with_its_diagnoses_and_drugs():
    source = bundle("mhb/scenario.json")
    visit_key = key_of(source, "Encounter", "2017-10-10")
    view = build_view(source, hidden=frozenset({visit_key}))
    assert [v.date for v in view.visits] == ["2017-07-16", "2017-05-25", "2017-05-20", "2017-01-20"]
    assert "AX99001100" not in {m.code for m in view.medications}
    assert "E11.9" not in {d.code for v in view.visits for d in v.diagnoses}
    assert view.counts["visits"] == 4 and view.counts["diagnoses"] == 4
    for name in ("records/_visits.html", "records/_medications.html", "records/_clinical.html"):
        html = render(name, view)
        for secret in ("Iunaidon", "AX99001100", "E11.9", "第二型糖尿病", visit_key):
            assert secret not in html, (name, secret)
    assert "2017-10-10" not in render("records/_visits.html", view).split("<ol")[1]  # the HbA1c of that day stays


def test_hiding_an_episode_or_a_report_hides_what_was_recorded_under_it():
    source = bundle("mhb/full.json")
    hepatitis = key_of(source, "EpisodeOfCare", "BC肝炎")
    checkup = key_of(source, "DiagnosticReport", "成人預防保健")
    view = build_view(source, hidden=frozenset({hepatitis, checkup}))
    html = render_all(view)
    assert "Anti-HCV" not in html and "BC肝炎" not in html and "HBsAg" not in html
    assert not [lab for lab in view.labs if lab.panel and "成人預防保健" in lab.panel]
    assert "Body weight" not in html
    assert [v.date for v in view.visits if v.kind == "programme"] == ["2023-03-15", "2022-06-01"]
    assert {"HGB", "CRE"} <= {lab.name for lab in view.labs}


def test_hidden_keys_cover_every_item_key():
    source = bundle("mhb/full.json")
    everything = frozenset(k for k, _, _ in item_keys(source))
    view = build_view(source, hidden=everything)
    assert _all_keys(view) == set() and set(view.counts.values()) == {0}
    assert (view.date_from, view.date_to) == (None, None)


def test_merged_timeline_puts_all_visits_latest_first_and_keeps_who_added_them():
    mhb = build_view(bundle("mhb/scenario.json"), record_id="rec-mhb", author="Patient upload")
    c = Crafted()
    manila = c.org("Manila Doctors Hospital")
    visit = c.visit("2017-11-02", manila, text="Outpatient consultation")
    c.add({"resourceType": "Condition", "subject": c.patient, "encounter": visit,
           "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "R51"}], "text": "Headache"}})
    c.order("AX99003100", "Cofarin Tab 1 mg", "2017-11-02", manila, encounter=visit)
    c.order("ZZ00000001", "Paracetamol 500 mg", "2017-06-01", manila, days=3)
    doctor = build_view(c.bundle(), record_id="rec-dr", author="Dr Alvin")
    merged = merge_views([mhb, doctor])
    assert [(v.date, v.record_id, v.author) for v in merged.visits] == [
        ("2017-11-02", "rec-dr", "Dr Alvin"), *[(day, "rec-mhb", "Patient upload") for day, *_ in [
            ("2017-10-10",), ("2017-07-16",), ("2017-05-25",), ("2017-05-20",), ("2017-01-20",)]]]
    assert [m.start for m in merged.medications] == sorted((m.start for m in merged.medications), reverse=True)
    cofarin = [(m.start, m.author, m.repeat, m.repeat_with) for m in merged.medications if m.code == "AX99003100"]
    assert cofarin == [("2017-11-02", "Dr Alvin", True, "示範地區醫院"),
                       ("2017-05-25", "Patient upload", True, "Manila Doctors Hospital"),
                       ("2017-05-20", "Patient upload", True, "Manila Doctors Hospital")]
    assert not any(m.repeat for m in mhb.medications)  # the flag comes from the other record
    assert merged.counts["visits"] == 6 and merged.counts["medications"] == 7
    assert (merged.date_from, merged.date_to) == ("2016-11-05", "2017-11-02")
    assert (merged.patient.masked_id, merged.patient.name) == ("Y20000****", "Test Patient")
    html = render("records/_medications.html", merged) + render("records/_visits.html", merged)
    assert "Added by Dr Alvin" in html and "Added by Patient upload" in html


def test_merging_the_same_record_twice_shows_each_item_once():
    view = build_view(bundle("mhb/full.json"), record_id="a")
    merged = merge_views([view, build_view(bundle("mhb/full.json"), record_id="b")])
    assert dict(merged.counts) == dict(view.counts)
    assert {v.record_id for v in merged.visits} == {"a"}
    assert merge_views([]).visits == ()
