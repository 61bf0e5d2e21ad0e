"""Every quirk of real My Health Bank downloads listed in the format reference."""
from __future__ import annotations

import json

import pytest
from importer_helpers import read, resources

from phr.importer import ImportRejected, import_file, mhb


@pytest.mark.parametrize("name", ["scenario-bom-crlf.json", "scenario-numbers.json", "scenario-b2.1.json"])
def test_quirky_copies_of_the_scenario_give_the_same_bytes(scenario, name):
    assert import_file(read(f"mhb/{name}")).canonical == scenario.canonical


def test_b21_is_read_as_the_application_date():
    document = mhb.parse_json_object(json.loads(read("mhb/scenario-b2.1.json").decode("utf-8-sig")))
    assert document.application_date == "20171031"


def test_numbers_keep_leading_zeros_of_codes():
    result = import_file(read("mhb/scenario-numbers.json"))
    sequences = sorted(e["identifier"][0]["value"] for e in resources(result, "Encounter"))
    assert sequences == ["0003", "0018", "0019", "0027", "0041"]


def test_short_numeric_facility_code_is_left_padded():
    document = mhb.parse_json_object({"myhealthbank": {"bdata": {"r7": [{"r7.3": 101090517, "r7.11": 7}]}}})
    assert document.sections["r7"][0] == {"r7.3": "0101090517", "r7.11": "7"}


def test_upper_case_r12_to_r14_equal_lower_case():
    data = json.loads(read("mhb/full.json"))
    bdata = data["myhealthbank"]["bdata"]
    for key in ("R12", "R13", "R14"):
        bdata[key.lower()] = bdata.pop(key)
    assert import_file(json.dumps(data).encode()).canonical == import_file(read("mhb/full.json")).canonical


def test_every_no_data_shape_is_no_data_and_absent_sections_are_reported():
    result = import_file(read("mhb/no-data.json"))
    assert result.summary.counts == {"Patient": 1}
    assert "Sections marked 無資料 (no data): r1, r2, r3, r4, r5, r6, r12, r13, r14." in result.summary.notes
    assert "Sections absent from the file: r7, r8, r9, r10, r11." in result.summary.notes


def test_xml_no_data_and_empty_field_forms():
    xml = """<myhealthbank><bdata><b1.1>Y20000****</b1.1><r2>無資料</r2><r3/>
      <r6><r6.1>20161105</r6.1><r6.3>  </r6.3><r6.5/></r6></bdata></myhealthbank>"""
    result = import_file(xml.encode())
    [vaccine] = resources(result, "Immunization")
    assert "performer" not in vaccine
    assert vaccine["vaccineCode"]["coding"][0]["code"] == "unknown"  # whitespace-only name = no value
    assert any("r2, r3" in note for note in result.summary.notes)


def test_single_objects_are_wrapped_in_lists(scenario):
    result = import_file(read("mhb/single-object.json"))
    [request] = resources(result, "MedicationRequest")
    assert request["medicationCodeableConcept"]["text"] == "Neurtrol F.C. Tablets 300 mg"
    assert result.summary.counts["Immunization"] == 1 and result.summary.counts["Observation"] == 1


def test_crlf_in_long_text_becomes_lf_and_control_characters_are_removed():
    text = {"myhealthbank": {"bdata": {"r8": [{"r8.6": "20230315", "r8.9": "X光", "r8.10": "line1\r\nline2\x07"}]}}}
    [report] = resources(import_file(json.dumps(text).encode()), "DiagnosticReport")
    assert report["conclusion"] == "line1\nline2"


def test_xml_with_control_characters_is_cleaned_and_reported():
    result = import_file("<myhealthbank><bdata><r6><r6.1>20161105</r6.1><r6.3>流感\x01疫苗</r6.3></r6></bdata></myhealthbank>".encode())
    assert resources(result, "Immunization")[0]["vaccineCode"]["text"] == "流感疫苗"
    assert "Control characters were removed from the XML." in result.summary.notes


def test_raw_control_characters_inside_json_strings_are_accepted():
    raw = '{"myhealthbank": {"bdata": {"r6": [{"r6.1": "20161105", "r6.3": "流感\t疫苗\n"}]}}}'.replace("\\n", "\n")
    assert resources(import_file(raw.encode()), "Immunization")[0]["vaccineCode"]["text"] == "流感\t疫苗"


@pytest.mark.parametrize(("text", "expected"), [
    ("20171010", "2017-10-10"), ("1061010", "2017-10-10"), ("106/10/10", "2017-10-10"),
    ("114/05/18||2025/05/18", "2025-05-18"), ("201710", "2017-10"), ("20171301", None), ("20170230", None),
    ("991231", None), ("abc", None), ("", None),
])  # fmt: skip
def test_western_roc_and_partial_dates(text, expected):
    assert mhb.fhir_date(text) == expected


def test_invalid_date_becomes_missing_with_a_note():
    data = {"myhealthbank": {"bdata": {"r4": [{"r4.1": "20171345", "r4.2": "Aspirin"}]}}}
    result = import_file(json.dumps(data).encode())
    assert "recordedDate" not in resources(result, "AllergyIntolerance")[0]
    assert "r4 row 0: '20171345' is not a valid date and was left out." in result.summary.notes


@pytest.mark.parametrize(("raw", "day", "system", "expected"), [
    ("E119", "2017-10-10", "icd-10-cm-2014-tw", "E11.9"),
    ("J1083", "2022-01-01", "icd-10-cm-2021-tw", "J10.83"),
    ("E11.9", "2024-01-01", "icd-10-cm-2023-tw", "E11.9"),
    ("59010", "2015-01-01", "icd-9-cm-2001-tw", "590.10"),
    ("71946", None, "icd-9-cm-2001-tw", "719.46"),
    ("V1005", "2014-01-01", "icd-9-cm-2001-tw", "V10.05"),
    ("E8889", "2015-06-01", "icd-9-cm-2001-tw", "E888.9"),
    ("E8889", "2016-06-01", "icd-10-cm-2014-tw", "E88.89"),
    ("無", "2016-06-01", "mhb-diagnosis-code", "無"),
])  # fmt: skip
def test_diagnosis_codes_are_dotted_and_edition_follows_the_service_date(raw, day, system, expected):
    from datetime import date

    when = date.fromisoformat(day) if day else None
    first = mhb.diagnosis_codings(mhb.code(raw), when)[0]
    assert first["system"].endswith(system) and first["code"] == expected


def test_full_width_codes_are_normalised_but_names_kept():
    data = {"myhealthbank": {"bdata": {"r1": [{"r1.5": "20230101", "r1.8": "Ｅ１１９ ", "r1.9": "全套血液檢查Ｉ"}]}}}
    [condition] = resources(import_file(json.dumps(data).encode()), "Condition")
    assert condition["code"]["coding"][0]["code"] == "E11.9"
    assert condition["code"]["text"] == "全套血液檢查Ｉ"


def test_identical_rows_are_imported_once_and_reported():
    row = {"r6.1": "20161105", "r6.3": "流感疫苗"}
    result = import_file(json.dumps({"myhealthbank": {"bdata": {"r6": [row, row]}}}).encode())
    assert result.summary.counts["Immunization"] == 1
    assert [(s.section, s.row_index) for s in result.summary.skipped] == [("r6", 1)]


def test_identical_order_rows_of_one_visit_are_reported_under_the_order_section():
    order = {"r1_1.1": "AX99001100", "r1_1.2": "Iunaidon Tablets", "r1_1.3": "56.00", "r1_1.4": "28"}
    visit = {"r1.5": "20230101", "r1.8": "E11.9", "r1_1": [order, order]}
    result = import_file(json.dumps({"myhealthbank": {"bdata": {"r1": [visit]}}}).encode())
    [skipped] = result.summary.skipped
    assert (skipped.section, skipped.row_index) == ("r1_1", 1)
    assert skipped.reason == "r1 row 0: identical to another order row of the same visit"
    assert (skipped.reason.msgid, skipped.reason.params) == (
        "%(section)s row %(row)d: identical to another order row of the same visit", {"section": "r1", "row": 0})


def test_keys_differing_only_in_case_are_rejected():
    with pytest.raises(ImportRejected, match="'r12' twice"):
        import_file(b'{"myhealthbank": {"bdata": {"R12": [], "r12": []}}}')


def test_unknown_blocks_and_fields_are_listed_not_dropped_silently():
    data = {"myhealthbank": {"bdata": {"r15": [{"r15.1": "x"}], "r6": [{"r6.1": "20161105", "r6.9": "x"}]}}}
    notes = import_file(json.dumps(data).encode()).summary.notes
    assert "Unknown block 'r15' was not imported." in notes
    assert "r6: field 'r6.9' is not in the format reference; its values were not imported." in notes


def test_json_without_health_bank_root_is_rejected():
    with pytest.raises(ImportRejected, match="myhealthbank/bdata is missing"):
        import_file(b'{"myhealthbank": {"data": {}}}')
