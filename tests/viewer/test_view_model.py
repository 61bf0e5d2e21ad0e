"""build_view on the sample downloads: visits latest first, medication history, flags, results, item keys."""
from __future__ import annotations

import pytest
from viewer_helpers import Crafted, bundle, key_of

from phr.view import build_view, item_keys

SCENARIO = [  # (date, ICD-10-CM codes, drug, NHI code, facility) — the paper's Table 1
    ("2017-10-10", ["E11.9", "R80.9"], "Iunaidon Tablets", "AX99001100", "示範地區醫院"),
    ("2017-07-16", ["G40.909"], "Neurtrol F.C. Tablets 300 mg", "AX99002100", "示範神經科診所"),
    ("2017-05-25", ["I63.9"], "Cofarin Tab 1 mg", "AX99003100", "示範地區醫院"),
    ("2017-05-20", ["I63.9"], "Cofarin Tab 1 mg", "AX99003100", "示範地區醫院"),
    ("2017-01-20", ["R80.9"], "Kaluril Tablets 5 mg", "AX99004100", "示範家庭醫學科診所"),
]


@pytest.mark.parametrize("sample", ["mhb/scenario.json", "mhb/scenario.xml"])
def test_scenario_visits_come_latest_first_with_their_diagnoses_and_drugs(sample):
    view = build_view(bundle(sample))
    assert [(v.date, [d.code for d in v.diagnoses], [m.name for m in v.medications], [m.code for m in v.medications],
             v.facility) for v in view.visits] == [
        (day, codes, [drug], [code], facility) for day, codes, drug, code, facility in SCENARIO
    ]  # fmt: skip
    for visit in view.visits:
        assert visit.kind == "western" and visit.kind_label == "Western-medicine outpatient"
        assert visit.diagnoses[0].principal and not any(d.principal for d in visit.diagnoses[1:])
        assert {d.system for d in visit.diagnoses} == {"ICD-10-CM"}
    diabetes = view.visits[0].diagnoses[0]
    assert diabetes.text == "第二型糖尿病，無併發症" and diabetes.visit_key == view.visits[0].key
    assert view.counts["visits"] == 5 and view.counts["diagnoses"] == 6 and view.counts["medications"] == 5
    assert (view.date_from, view.date_to) == ("2016-11-05", "2017-10-10")
    assert view.patient.masked_id == "Y20000****"


def test_medication_history_lists_every_order_latest_first_with_supply_and_prescriber():
    view = build_view(bundle("mhb/scenario.json"), record_id="rec-1", author="Patient")
    rows = [(m.start, m.end, m.name, m.code, m.system, m.quantity, m.days, m.facility, m.source_label)
            for m in view.medications]  # fmt: skip
    assert rows == [
        ("2017-10-10", "2017-11-06", "Iunaidon Tablets", "AX99001100", "NHI drug", "56", 28, "示範地區醫院", "Prescribed"),
        ("2017-07-16", "2017-08-12", "Neurtrol F.C. Tablets 300 mg", "AX99002100", "NHI drug", "56", 28, "示範神經科診所",
         "Prescribed"),
        ("2017-05-25", "2017-06-21", "Cofarin Tab 1 mg", "AX99003100", "NHI drug", "28", 28, "示範地區醫院", "Prescribed"),
        ("2017-05-20", "2017-06-16", "Cofarin Tab 1 mg", "AX99003100", "NHI drug", "28", 28, "示範地區醫院", "Prescribed"),
        ("2017-01-20", "2017-02-16", "Kaluril Tablets 5 mg", "AX99004100", "NHI drug", "28", 28, "示範家庭醫學科診所",
         "Prescribed"),
    ]  # fmt: skip
    visits = {v.key: v for v in view.visits}
    for med in view.medications:
        assert med in visits[med.visit_key].medications
        assert (med.record_id, med.author) == ("rec-1", "Patient")
    # the two Cofarin orders five days apart, 28 days each, at the same hospital: overlap, not repeat
    assert [(m.start, m.overlap, m.overlap_with, m.repeat) for m in view.medications if m.code == "AX99003100"] == [
        ("2017-05-25", True, "2017-05-20", False), ("2017-05-20", True, "2017-05-25", False)]
    assert not any(m.overlap or m.repeat for m in view.medications if m.code != "AX99003100")


def test_full_download_maps_every_visit_kind_and_section():
    view = build_view(bundle("mhb/full.json"))
    kinds = [(v.date, v.kind) for v in view.visits]
    assert ("2023-06-01", "chinese") in kinds and ("2023-05-10", "dental") in kinds
    assert ("2023-04-01", "inpatient") in kinds and ("2023-03-15", "western") in kinds
    assert sum(kind == "programme" for _, kind in kinds) == 4
    stay = next(v for v in view.visits if v.kind == "inpatient")
    assert stay.end == "2023-04-05" and stay.facility == "示範醫學中心"
    assert [p.code for p in stay.procedures] == ["5A1955Z", "B548ZZA"] and stay.procedures[0].system == "ICD-10-PCS"
    dental = next(v for v in view.visits if v.kind == "dental")
    assert "右上第一大臼齒" in [p.body_site for p in dental.procedures]
    # the pharmacy's dispensing fills the hospital's prescription: listed, not flagged as a second supply
    iunaidon = [m for m in view.medications if m.code == "AX99001100"]
    assert [(m.source_label, m.facility, m.visit_key is None) for m in iunaidon] == [
        ("Dispensed", "示範社區藥局", True), ("Prescribed", "示範地區醫院", False)]
    assert not any(m.overlap or m.repeat for m in iunaidon)
    assert [(r.category, r.name, r.conclusion) for r in view.reports] == [
        ("Pathology", "病理組織檢查", "Benign tissue."), ("Imaging", "胸腔檢查", "Chest PA view:\nNo active lung lesion.")]
    assert [a.substance for a in view.allergies] == ["Amoxicillin 500mg cap"]
    assert view.allergies[0].reactions == ("胸痛(Chest pain)", "呼吸急促") and view.allergies[0].severity == "moderate"
    assert [(i.date, i.vaccine) for i in view.immunizations] == [("2022-10-01", "流感疫苗"), ("2021-07-15", "COVID-19疫苗")]
    assert [c.text for c in view.consents] == ["同意安寧緩和醫療"]
    programmes = {p.name: p for p in view.programmes}
    hepatitis = programmes["BC肝炎追蹤 (hepatitis B/C programme)"]
    assert hepatitis.status == "active" and [f.date for f in hepatitis.follow_ups] == ["2023-06-01", "2023-01-01"]
    assert ("Anti-HCV (Hepatitis C antibody)", "陽性") in [(v.name, v.value) for v in hepatitis.follow_ups[0].values]
    assert programmes["初期慢性腎病追蹤 (early CKD programme)"].end == "2022-12-31"
    # programme values are shown with their programme, not again among test results
    programme_keys = {v.key for p in view.programmes for f in p.follow_ups for v in f.values}
    assert programme_keys and not programme_keys & {lab.key for lab in view.labs}


def test_labs_show_reference_ranges_and_flag_values_outside_them():
    labs = {lab.name: lab for lab in build_view(bundle("mhb/full.json")).labs}
    assert (labs["HGB"].value, labs["HGB"].range, labs["HGB"].abnormal) == ("13.5", "[13-17]", False)
    assert (labs["WBC"].value, labs["WBC"].range, labs["WBC"].abnormal) == ("6.2", "[3.8][10]", False)
    assert (labs["CRE"].value, labs["CRE"].range, labs["CRE"].flag, labs["CRE"].flag_label) == (
        "< 0.5", ">=0.6", "low", "Low")
    assert (labs["Protein"].value, labs["Protein"].range, labs["Protein"].abnormal) == ("陰性", "陰性", False)
    assert labs["CRE"].facility == "示範地區醫院" and labs["CRE"].panel == "肌酸酐" and labs["CRE"].code == "09015C"
    assert labs["Body weight"].value == "70 kg" and labs["Body weight"].category == "Vital signs"
    hba1c = build_view(bundle("mhb/scenario.json")).labs[0]
    assert (hba1c.name, hba1c.value, hba1c.range, hba1c.date, hba1c.abnormal, hba1c.flag_label) == (
        "HbA1c", "7.4", "4.0-6.0", "2017-10-10", True, "High")


@pytest.mark.parametrize(("value", "ranges", "extra", "flag"), [
    ({"valueQuantity": {"value": 12, "unit": "mg/dL"}}, [{"low": {"value": 3}, "high": {"value": 10}}], {}, "high"),
    ({"valueQuantity": {"value": 2}}, [{"low": {"value": 3}, "high": {"value": 10}}], {}, "low"),
    ({"valueQuantity": {"value": 10}}, [{"low": {"value": 3}, "high": {"value": 10}}], {}, None),
    ({"valueQuantity": {"value": 5, "comparator": "<"}}, [{"low": {"value": 3}, "high": {"value": 10}}], {}, None),
    ({"valueQuantity": {"value": 3, "comparator": "<"}}, [{"low": {"value": 3}}], {}, "low"),
    ({"valueQuantity": {"value": 200, "comparator": ">"}}, [{"high": {"value": 100}}], {}, "high"),
    ({"valueQuantity": {"value": 7, "code": "%"}}, [{"high": {"value": 6, "code": "mmol/mol"}}], {}, None),
    ({"valueString": "positive"}, [{"text": "negative"}], {}, None),
    ({"valueString": "positive"}, None, {"interpretation": [{"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "POS"}]}]},
     "abnormal"),
    ({"valueQuantity": {"value": 5}}, [{"low": {"value": 3}, "high": {"value": 10}}], {"interpretation": [{"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "H"}]}]}, "high"),
])  # fmt: skip
def test_abnormal_flag_only_when_the_whole_possible_value_is_outside_the_range(value, ranges, extra, flag):
    crafted = Crafted()
    crafted.lab("Test", value, ranges, **extra)
    (lab,) = build_view(crafted.bundle()).labs
    assert (lab.flag, lab.abnormal) == (flag, flag is not None)


def test_range_text_is_built_from_numbers_when_the_lab_gives_none():
    crafted = Crafted()
    crafted.lab("K", {"valueQuantity": {"value": 4.1, "unit": "mmol/L"}},
                [{"low": {"value": 3.5, "unit": "mmol/L"}, "high": {"value": 5.1, "unit": "mmol/L"}}])
    (lab,) = build_view(crafted.bundle()).labs
    assert (lab.value, lab.range) == ("4.1 mmol/L", "3.5 mmol/L – 5.1 mmol/L")


def test_repeat_and_overlap_flags_on_a_crafted_medication_history():
    c = Crafted()
    north, south, pharmacy = c.org("North Clinic"), c.org("South Hospital"), c.org("Corner Pharmacy")
    c.order("AA11111111", "Metformin 500 mg", "2024-01-01", north)              # A: repeated at another facility
    c.order("AA11111111", "Metformin 500 mg", "2024-03-01", south)              #    later, no overlap
    c.order("BB22222222", "Amlodipine 5 mg", "2024-01-01", north, days=30)      # B: overlapping, same clinic
    c.order("BB22222222", "Amlodipine 5 mg", "2024-01-20", north, days=30)
    c.order("CC33333333", "Aspirin 100 mg", "2024-01-01", north)                # C: once
    c.order("DD44444444", "Warfarin 1 mg", "2024-02-01", north)                 # D: overlapping, two facilities
    c.order("DD44444444", "Warfarin 1 mg", "2024-02-10", south)
    c.order("EE55555555", "Atorvastatin 20 mg", "2024-01-05", south)            # E: filled by the pharmacy
    c.dispense("EE55555555", "Atorvastatin 20 mg", "2024-01-06", pharmacy)
    flags = {(m.name, m.start): (m.repeat, m.overlap, m.repeat_with, m.overlap_with)
             for m in build_view(c.bundle()).medications}  # fmt: skip
    assert flags == {
        ("Metformin 500 mg", "2024-03-01"): (True, False, "North Clinic", ""),
        ("Metformin 500 mg", "2024-01-01"): (True, False, "South Hospital", ""),
        ("Amlodipine 5 mg", "2024-01-20"): (False, True, "", "2024-01-01"),
        ("Amlodipine 5 mg", "2024-01-01"): (False, True, "", "2024-01-20"),
        ("Aspirin 100 mg", "2024-01-01"): (False, False, "", ""),
        ("Warfarin 1 mg", "2024-02-10"): (True, True, "North Clinic", "2024-02-01"),
        ("Warfarin 1 mg", "2024-02-01"): (True, True, "South Hospital", "2024-02-10"),
        ("Atorvastatin 20 mg", "2024-01-06"): (False, False, "", ""),
        ("Atorvastatin 20 mg", "2024-01-05"): (False, False, "", ""),
    }


def test_a_dispensing_that_does_not_match_the_prescription_is_a_second_supply():
    c = Crafted()
    clinic, pharmacy = c.org("Clinic"), c.org("Pharmacy")
    c.order("EE55555555", "Atorvastatin 20 mg", "2024-01-05", clinic)
    c.dispense("EE55555555", "Atorvastatin 20 mg", "2024-01-06", pharmacy, quantity=56, days=56)
    assert [(m.overlap, m.repeat) for m in build_view(c.bundle()).medications] == [(True, True), (True, True)]


def test_drugs_without_code_are_compared_by_name_and_undated_orders_never_overlap():
    c = Crafted()
    c.add({"resourceType": "MedicationStatement", "status": "active", "subject": c.patient,
           "medicationCodeableConcept": {"text": "Herbal tea"}, "effectiveDateTime": "2024-01-01"})
    c.add({"resourceType": "MedicationStatement", "status": "active", "subject": c.patient,
           "medicationCodeableConcept": {"text": "herbal TEA"}, "effectiveDateTime": "2024-01-01"})
    c.add({"resourceType": "MedicationStatement", "status": "active", "subject": c.patient,
           "medicationCodeableConcept": {"text": "Herbal tea"}})
    meds = build_view(c.bundle()).medications
    assert [(m.start, m.overlap, m.source_label) for m in meds] == [
        ("2024-01-01", True, "Reported"), ("2024-01-01", True, "Reported"), (None, False, "Reported")]


def test_uploaded_fhir_bundle_from_another_hospital():
    view = build_view(bundle("fhir/valid-transaction.json"))
    assert view.visits == () and view.patient.name == "林小美" and view.patient.birth_date == "1960-04-02"
    assert [(d.code, d.system, d.text, d.date) for d in view.other_diagnoses] == [
        ("E11.9", "ICD-10-CM", "Type 2 diabetes mellitus", "2017-10-10")]
    assert [(lab.name, lab.code, lab.system, lab.value) for lab in view.labs] == [("HbA1c", "4548-4", "LOINC", "7.4 %")]


def test_full_identifiers_are_masked_and_unknown_codes_show_their_text_or_code():
    c = Crafted()
    visit = c.visit("2024-05-01", c.org("Somewhere"), klass="EMER")
    c.add({"resourceType": "Condition", "subject": c.patient, "encounter": visit,
           "code": {"coding": [{"system": "urn:oid:1.2.3", "code": "X-42"}]}})
    c.add({"resourceType": "Condition", "subject": c.patient, "encounter": visit, "code": {"text": "Sprained ankle"}})
    c.add({"resourceType": "Procedure", "status": "completed", "subject": c.patient, "encounter": visit})
    view = build_view(c.bundle())
    assert view.patient.masked_id == "A1******89"
    (only,) = view.visits
    assert (only.kind, only.kind_label, only.facility) == ("emergency", "Emergency", "Somewhere")
    assert sorted(((d.code, d.system, d.text) for d in only.diagnoses), key=lambda d: d[2]) == [
        (None, None, "Sprained ankle"), ("X-42", "1.2.3", "X-42")]
    assert [(p.code, p.text) for p in only.procedures] == [(None, "")]


def test_item_keys_list_every_taggable_entry_once_each_visit_followed_by_its_items():
    source = bundle("mhb/scenario.json")
    keys = item_keys(source)
    taggable = {e["fullUrl"] for e in source["entry"]
                if e["resource"]["resourceType"] not in ("Patient", "Organization", "PractitionerRole")}
    assert [k for k, _, _ in keys] == list(dict.fromkeys(k for k, _, _ in keys))
    assert {k for k, _, _ in keys} == taggable
    assert [kind for _, kind, _ in keys[:4]] == ["Encounter", "Condition", "Condition", "MedicationRequest"]
    assert keys[0] == (key_of(source, "Encounter", "2017-10-10"), "Encounter",
                       "2017-10-10 · Western-medicine outpatient · 示範地區醫院")
    assert [label for _, _, label in keys[1:4]] == [
        "2017-10-10 · E11.9 第二型糖尿病，無併發症", "2017-10-10 · R80.9 蛋白尿", "2017-10-10 · Iunaidon Tablets (AX99001100)"]
    assert keys[3][0] == key_of(source, "MedicationRequest", "Iunaidon")
    assert [kind for _, kind, _ in keys].count("Encounter") == 5


def test_less_common_fhir_shapes_from_other_hospitals():
    c = Crafted()
    doctor = c.add({"resourceType": "Practitioner", "name": [{"given": ["Boonchai"], "family": "S."}]})
    hospital = c.org("Bangkok General")
    role = c.add({"resourceType": "PractitionerRole", "practitioner": doctor, "organization": hospital})
    stay = c.visit("2024-03-01T09:30:00+07:00", hospital, klass="IMP")
    c.add({"resourceType": "Encounter", "status": "finished", "subject": c.patient, "partOf": stay,
           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
           "period": {"start": "2024-03-02"}})
    c.add({"resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": c.patient,
           "encounter": stay, "requester": role, "authoredOn": "2024-03-01",
           "contained": [{"resourceType": "Medication", "id": "m1",
                          "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                               "code": "197361", "display": "Amlodipine 5 MG Oral Tablet"}]}}],
           "medicationReference": {"reference": "#m1"},
           "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
                                  "timing": {"code": {"text": "once daily"}}}],
           "dispenseRequest": {"validityPeriod": {"start": "2024-03-01", "end": "2024-03-31"}}})
    c.add({"resourceType": "Condition", "subject": c.patient, "onsetPeriod": {"start": "2020"},
           "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003", "display": "Hypertension"}]}})
    c.add({"resourceType": "Procedure", "status": "completed", "subject": c.patient, "encounter": stay,
           "code": {"text": "Echocardiography"}, "performedPeriod": {"start": "2024-03-02T10:00:00+07:00"}})
    bp = {"coding": [{"system": "http://loinc.org", "code": "8480-6"}], "text": "Systolic"}
    c.lab("Blood pressure", {}, None, component=[
        {"code": bp, "valueQuantity": {"value": 150, "unit": "mmHg"}},
        {"code": {"text": "Diastolic"}, "valueQuantity": {"value": 95, "unit": "mmHg"}}])
    c.lab("Titre", {"valueRatio": {"numerator": {"value": 1}, "denominator": {"value": 64}}})
    c.lab("Weight range", {"valueRange": {"low": {"value": 60, "unit": "kg"}, "high": {"value": 62, "unit": "kg"}}})
    c.lab("Pregnant", {"valueBoolean": False})
    c.lab("Missing", {"dataAbsentReason": {"text": "Sample haemolysed"}})
    c.add({"resourceType": "Immunization", "status": "completed", "patient": c.patient,
           "occurrenceDateTime": "2023-10-01T08:00:00Z",
           "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "140"}]},
           "performer": [{"actor": doctor}]})
    c.add({"resourceType": "AllergyIntolerance", "patient": c.patient, "criticality": "high",
           "reaction": [{"substance": {"text": "Penicillin"}, "manifestation": [{"text": "Hives"}]}]})
    c.add({"resourceType": "DiagnosticReport", "status": "final", "subject": c.patient, "code": {"text": "CT head"},
           "conclusionCode": [{"text": "No bleed"}], "issued": "2024-03-02T12:00:00+07:00"})
    view = build_view(c.bundle())
    assert [(v.date, v.kind) for v in view.visits] == [("2024-03-02", "outpatient"), ("2024-03-01", "inpatient")]
    inpatient = next(v for v in view.visits if v.kind == "inpatient")
    (med,) = inpatient.medications
    assert (med.name, med.code, med.system, med.dose, med.start, med.end, med.facility) == (
        "Amlodipine 5 MG Oral Tablet", "197361", "RxNorm", "1 tablet once daily", "2024-03-01", "2024-03-31",
        "Bangkok General · Boonchai S.")
    assert [(p.text, p.date) for p in inpatient.procedures] == [("Echocardiography", "2024-03-02")]
    assert [(d.code, d.system, d.text, d.date) for d in view.other_diagnoses] == [
        ("38341003", "SNOMED CT", "Hypertension", "2020")]
    values = {lab.name: lab.value for lab in view.labs}
    assert values == {"Blood pressure": "Systolic: 150 mmHg; Diastolic: 95 mmHg", "Titre": "1 / 64",
                      "Weight range": "60 kg – 62 kg", "Pregnant": "false", "Missing": "(Sample haemolysed)"}
    (vaccine,) = view.immunizations
    assert (vaccine.vaccine, vaccine.code, vaccine.system, vaccine.date, vaccine.performer) == (
        "140", "140", "CVX", "2023-10-01", "Boonchai S.")
    (allergy,) = view.allergies
    assert (allergy.substance, allergy.criticality, allergy.reactions) == ("Penicillin", "high", ("Hives",))
    (report,) = view.reports
    assert (report.name, report.category, report.conclusion, report.date) == ("CT head", "Report", "No bleed",
                                                                              "2024-03-02")
