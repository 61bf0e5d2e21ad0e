"""Section-by-section mapping of the full-coverage sample (every section r1–r14 with child rows)."""
from __future__ import annotations

import pytest
from importer_helpers import by_ref, coding, read, resources

from phr.importer import import_file
from phr.importer.fhir import validate_bundle

TW = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/"


def one(result, kind, **match):
    found = [r for r in resources(result, kind) if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (kind, match, len(found))
    return found[0]


def visit_on(result, day):
    """The visit-section Encounter on ``day`` (programme follow-ups are left out)."""
    found = [e for e in resources(result, "Encounter") if e["period"] == {"start": day} and "episodeOfCare" not in e]
    assert len(found) == 1, day
    return found[0]


def test_xml_download_of_the_same_data_gives_the_same_bytes(full):
    assert import_file(read("mhb/full.xml")).canonical == full.canonical


def test_bundle_is_valid_and_every_reference_resolves(full):
    validate_bundle(full.bundle)  # raises on any unresolved reference
    assert full.bundle["type"] == "collection"
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in full.bundle["entry"])


def test_patient_keeps_the_masked_id_only_under_a_local_system(full):
    [patient] = resources(full, "Patient")
    assert patient["gender"] == "unknown"
    [identifier] = patient["identifier"]
    assert identifier["value"] == "Y20000****"
    assert "moi.gov.tw" not in identifier["system"]


def test_facilities_become_organizations_with_twcore_identifier_and_contact(full):
    hospital = [o for o in resources(full, "Organization") if o["identifier"][0]["value"] == "9988000011"]
    assert hospital[0]["identifier"][0]["system"] == TW + "organization-identifier-tw"
    assert hospital[0]["name"] == "示範地區醫院"
    assert hospital[0]["telecom"] == [{"system": "phone", "value": "02-11112222"}]  # from r4.6/r4.7
    assert hospital[0]["address"] == [{"text": "臺北市示範區示範路2號"}]


def test_r1_outpatient_visit_diagnoses_procedures_and_drugs(full):
    visit = visit_on(full, "2023-03-15")
    assert visit["class"]["code"] == "AMB" and visit["status"] == "finished"
    assert visit["identifier"][0]["value"] == "0102"
    assert by_ref(full, visit["serviceProvider"])["name"] == "示範地區醫院"
    codes = [coding(by_ref(full, d["condition"])["code"], "icd-10-cm-2023-tw")["code"] for d in visit["diagnosis"]]
    assert codes == ["E11.65", "I10", "E78.5"]
    procedures = {coding(p["code"], "icd-10-pcs-2023-tw")["code"]: p for p in resources(full, "Procedure")
                  if p.get("encounter", {}).get("reference") == f"urn:uuid:{visit['id']}"}
    assert set(procedures) == {"0CDWXZ0", "3E0234Z"}
    assert procedures["0CDWXZ0"]["code"]["text"] == "牙齒切除"
    assert procedures["0CDWXZ0"]["performedDateTime"] == "2023-03-15"
    request = one(full, "MedicationRequest", authoredOn="2023-03-15")
    assert request["dispenseRequest"]["quantity"] == {"value": 56}
    assert request["dispenseRequest"]["expectedSupplyDuration"]["value"] == 28


def test_r1_dispensing_row_becomes_medication_dispense_not_a_visit(full):
    [dispense] = resources(full, "MedicationDispense")
    assert dispense["whenHandedOver"] == "2023-03-16"
    assert by_ref(full, dispense["performer"][0]["actor"])["name"] == "示範社區藥局"
    assert dispense["daysSupply"]["value"] == 28
    assert not [e for e in resources(full, "Encounter") if e.get("period", {}).get("start") == "2023-03-16"]


def test_fee_material_and_unknown_order_rows_are_reported_not_mapped(full):
    reasons = {(s.section, s.row_index, s.reason.split(":")[0]): s.reason for s in full.summary.skipped}
    assert "08011C" in reasons[("r1_1", 1, "r1 row 0")] and "billing" in reasons[("r1_1", 1, "r1 row 0")]
    assert "05226B" in reasons[("r1_1", 1, "r1 row 1")]
    assert "special material" in reasons[("r1_1", 2, "r1 row 0")]
    assert "'XYZ'" in reasons[("r1_1", 3, "r1 row 0")]
    assert "02007A" in reasons[("r2_1", 1, "r2 row 0")]


def test_r2_inpatient_stay(full):
    stay = one(full, "Encounter", period={"start": "2023-04-01", "end": "2023-04-05"})
    assert stay["class"]["code"] == "IMP"
    assert [by_ref(full, d["condition"])["code"]["coding"][0]["code"] for d in stay["diagnosis"]] == ["I63.9", "I10"]
    request = one(full, "MedicationRequest", authoredOn="2023-04-01")
    assert request["dispenseRequest"]["validityPeriod"] == {"start": "2023-04-01", "end": "2023-04-05"}
    assert request["encounter"]["reference"] == f"urn:uuid:{stay['id']}"


def test_r3_dental_visit_tooth_procedure_and_drug(full):
    visit = visit_on(full, "2023-05-10")
    assert visit["type"][0]["text"].startswith("牙醫門診")
    tooth = [p for p in resources(full, "Procedure") if p.get("bodySite")]
    assert len(tooth) == 1
    assert coding(tooth[0]["code"], "medical-service-payment-tw")["code"] == "92014C"
    assert tooth[0]["bodySite"][0]["coding"][0]["code"] == "16"
    assert tooth[0]["bodySite"][0]["text"] == "右上第一大臼齒"
    assert one(full, "MedicationRequest", authoredOn="2023-05-10")["dispenseRequest"]["expectedSupplyDuration"] == {
        "value": 3, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"}


def test_r4_allergy(full):
    [allergy] = resources(full, "AllergyIntolerance")
    assert allergy["code"] == {"text": "Amoxicillin 500mg cap"}
    assert allergy["category"] == ["medication"]
    assert allergy["recordedDate"] == "2023-05-20"
    assert allergy["reaction"][0]["severity"] == "moderate"
    assert [m["text"] for m in allergy["reaction"][0]["manifestation"]] == ["胸痛(Chest pain)", "呼吸急促"]
    role = by_ref(full, allergy["recorder"])
    assert by_ref(full, role["organization"])["identifier"][0]["value"] == "9988000011"
    assert {"text": "收載方式 (collection method): 雲端登錄"} in allergy["note"]


def test_r5_consent_keeps_the_wish_text_and_raw_code(full):
    [consent] = resources(full, "Consent")
    assert consent["status"] == "active" and consent["dateTime"] == "2020-01-01"
    assert consent["category"][0]["text"] == "同意安寧緩和醫療"
    assert coding(consent["category"][0], "mhb-wish-code") == {
        "system": "https://phr.invalid/fhir/CodeSystem/mhb-wish-code", "code": "2"}


def test_r6_immunizations_and_the_undated_one_is_skipped(full):
    vaccines = {i["occurrenceDateTime"]: i for i in resources(full, "Immunization")}
    assert set(vaccines) == {"2022-10-01", "2021-07-15"}
    assert vaccines["2022-10-01"]["vaccineCode"] == {"text": "流感疫苗"}
    assert vaccines["2022-10-01"]["performer"] == [{"actor": {"display": "示範區衛生所"}}]
    assert [s.reason for s in full.summary.skipped if s.section == "r6"] == ["vaccination without a valid date (r6.1)"]
    assert any("'r6.2'" in note for note in full.summary.notes)


def lab(result, label):
    return one(result, "Observation", code={**next(
        o["code"] for o in resources(result, "Observation") if o["code"].get("text") == label)})


@pytest.mark.parametrize(("label", "value", "ranges"), [
    ("HGB", {"valueQuantity": {"value": 13.5}}, [{"low": {"value": 13}, "high": {"value": 17}, "text": "[13-17]"}]),
    ("WBC", {"valueQuantity": {"value": 6.2}}, [{"low": {"value": 3.8}, "high": {"value": 10}, "text": "[3.8][10]"}]),
    ("Protein", {"valueString": "陰性"}, [{"text": "陰性"}]),
    ("CRE", {"valueQuantity": {"value": 0.5, "comparator": "<"}}, [{"low": {"value": 0.6}, "text": ">=0.6"}]),
])  # fmt: skip
def test_r7_lab_values_and_reference_ranges(full, label, value, ranges):
    observation = lab(full, label)
    assert {k: observation[k] for k in value} == value
    assert observation["referenceRange"] == ranges
    assert observation["issued"] == "2023-03-16T10:30:00+08:00"
    assert observation["effectiveDateTime"] == "2023-03-15"
    assert observation["category"][0]["coding"][0]["code"] == "laboratory"


def report_category(report):
    return report.get("category", [{"coding": [{"code": None}]}])[0]["coding"][0]["code"]


def test_r7_rows_of_one_order_are_grouped_in_a_diagnostic_report(full):
    reports = [r for r in resources(full, "DiagnosticReport") if report_category(r) == "LAB"]
    cbc = [r for r in reports if r["code"]["coding"][0]["code"] == "08011C"]
    assert len(reports) == 3 and len(cbc) == 1
    assert sorted(by_ref(full, ref)["code"]["text"] for ref in cbc[0]["result"]) == ["HGB", "WBC"]


def test_r8_imaging_and_pathology_reports(full):
    reports = {r["code"]["coding"][0]["code"]: r for r in resources(full, "DiagnosticReport")
               if report_category(r) in {"RAD", "PAT"}}
    assert reports["32001C"]["category"][0]["coding"][0]["code"] == "RAD"
    assert reports["32001C"]["conclusion"] == "Chest PA view:\nNo active lung lesion."
    assert reports["32001C"]["issued"] == "2023-03-17T12:00:00+08:00"
    assert reports["25004C"]["category"][0]["coding"][0]["code"] == "PAT"
    assert reports["25004C"]["effectiveDateTime"] == "2023-04-02"


def test_r9_chinese_medicine_visit_and_herbal_product(full):
    visit = visit_on(full, "2023-06-01")
    assert coding(by_ref(full, visit["diagnosis"][0]["condition"])["code"], "icd-10-cm-2023-tw")["code"] == "M54.56"
    treatment = [p for p in resources(full, "Procedure") if p["encounter"]["reference"] == f"urn:uuid:{visit['id']}"]
    assert coding(treatment[0]["code"], "mhb-procedure-code")["code"] == "B41"
    herbal = one(full, "MedicationRequest", authoredOn="2023-06-01")
    assert coding(herbal["medicationCodeableConcept"], "nhi-medication-ch-herb-tw")["code"] == "A003284"
    assert herbal["medicationCodeableConcept"]["text"] == '"永勝"葛根湯濃縮顆粒'


def test_r10_adult_health_check(full):
    [report] = [r for r in resources(full, "DiagnosticReport") if r["code"].get("text", "").startswith("成人預防保健")]
    results = [by_ref(full, ref) for ref in report["result"]]
    loinc = {o["code"]["coding"][0]["code"]: o for o in results if o["code"]["coding"][0]["system"] == "http://loinc.org"}
    assert loinc["8302-2"]["valueQuantity"] == {"value": 170, "unit": "cm", "system": "http://unitsofmeasure.org",
                                                "code": "cm"}
    assert loinc["39156-5"]["valueQuantity"]["value"] == 24.2
    assert loinc["8280-0"]["valueQuantity"]["unit"] == "[in_i]"  # 31.5 is only plausible in inches
    assert loinc["1558-6"]["valueQuantity"]["value"] == 103
    assert loinc["20454-5"]["valueString"] == "+"
    assert loinc["5196-1"]["valueCodeableConcept"]["text"] == "陰性"
    assert "2089-1" not in loinc  # LDL 0 = not measured
    assert any(s.reason.startswith("r10.17 is 0") for s in full.summary.skipped)
    lipid = [o for o in results if o["code"].get("text") == "血脂肪檢查結果"]
    assert lipid[0]["valueCodeableConcept"]["coding"][0]["code"] == "2"
    assert all(o["effectiveDateTime"] == "2022-11-20" for o in results)


def test_r11_cancer_screening_results(full):
    [result] = [o for o in resources(full, "Observation") if o["code"].get("text") == "定量免疫法糞便潛血檢查"]
    assert result["valueString"] == "無異常"
    assert result["category"] == [{"text": "大腸癌篩檢"}]
    assert result["note"] == [{"text": "請每兩年定期篩檢。"}]
    assert result["performer"] == [{"display": "示範家庭醫學科診所"}]
    assert any(s.section == "r11" and "without results" in s.reason for s in full.summary.skipped)


def programme_observations(result, label_start):
    [episode] = [e for e in resources(result, "EpisodeOfCare") if e["type"][0]["text"].startswith(label_start)]
    visits = [e for e in resources(result, "Encounter")
              if e.get("episodeOfCare") == [{"reference": f"urn:uuid:{episode['id']}"}]]
    refs = {f"urn:uuid:{v['id']}" for v in visits}
    return episode, [o for o in resources(result, "Observation") if o.get("encounter", {}).get("reference") in refs]


def test_r12_diabetes_programme(full):
    episode, observations = programme_observations(full, "糖尿病")
    assert episode["status"] == "active" and episode["period"] == {"start": "2021-03-01"}
    values = {o["code"]["text"]: o for o in observations}
    assert values["醣化血色素 (Hemoglobin A1c)"]["valueQuantity"] == {"value": 7.4}
    assert values["尿液微量白蛋白 (Urine microalbumin)"]["valueQuantity"] == {"value": 198.57}
    assert values["尿液微量白蛋白 (Urine microalbumin)"]["effectiveDateTime"] == "2023-03-16"  # urine test date


def test_r13_ckd_programme_closed(full):
    episode, observations = programme_observations(full, "初期慢性腎病")
    assert episode["status"] == "finished" and episode["period"]["end"] == "2022-12-31"
    assert {coding(o["code"], "loinc.org")["code"] for o in observations if "coding" in o["code"]} >= {"2890-2"}


def test_r14_hepatitis_programme_nine_field_row_reads_anti_hcv(full):
    _, observations = programme_observations(full, "BC肝炎")
    texts = {(o["effectiveDateTime"], o["code"]["text"]): o for o in observations}
    assert texts[("2023-06-01", "Anti-HCV (Hepatitis C antibody)")]["valueString"] == "陽性"
    assert texts[("2023-06-01", "GOT (AST)")]["valueQuantity"] == {"value": 25}
    assert texts[("2023-01-01", "GOT (AST)")]["valueQuantity"] == {"value": 25}
    assert texts[("2023-01-01", "腹部超音波檢查結果 (Abdominal ultrasound result)")]["valueString"] == "正常"
    assert any("r14_1.6 read as anti-HCV" in note for note in full.summary.notes)


def test_old_layout_download_with_icd9_codes():
    result = import_file(read("mhb/old-layout.json"))
    conditions = {c["code"]["text"]: c["code"]["coding"] for c in resources(result, "Condition")}
    assert conditions["糖尿病"] == [{"system": TW + "icd-9-cm-2001-tw", "code": "250.00", "display": "糖尿病"}]
    assert conditions["跌倒"][0]["code"] == "E888.9"  # E code before 2016 is ICD-9 external cause
    [procedure] = resources(result, "Procedure")
    assert procedure["code"]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-9-cm", "code": "45.13",
                                              "display": "小腸內視鏡檢查"}
    [role] = resources(result, "PractitionerRole")
    assert role["practitioner"] == {"display": "王醫師"}
    assert any("absent from the file: r5, r7, r8, r10, r11, r12, r13, r14" in n for n in result.summary.notes)
