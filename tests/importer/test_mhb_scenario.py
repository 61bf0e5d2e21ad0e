"""The paper's scenario patient (Lee 2020, Table 1): five 2017 visits, JSON and XML downloads."""
from __future__ import annotations

import pytest
from importer_helpers import by_ref, coding, read, resources

from phr.importer import import_file

# (date, ICD-10-CM dotted, NHI drug code, drug name). Brain-stem stroke is coded I63.9: the patient takes
# warfarin (Cofarin), so the stroke was ischaemic, and the ICD-10-CM index sends "infarction, brain (stem)"
# to I63.9; I61.3 would be a brain-stem haemorrhage, for which warfarin is contraindicated.
VISITS = [
    ("2017-10-10", "E11.9", "AX99001100", "Iunaidon Tablets"),
    ("2017-07-16", "G40.909", "AX99002100", "Neurtrol F.C. Tablets 300 mg"),
    ("2017-05-25", "I63.9", "AX99003100", "Cofarin Tab 1 mg"),
    ("2017-05-20", "I63.9", "AX99003100", "Cofarin Tab 1 mg"),
    ("2017-01-20", "R80.9", "AX99004100", "Kaluril Tablets 5 mg"),
]


def test_json_and_xml_downloads_give_identical_bytes(scenario):
    from_xml = import_file(read("mhb/scenario.xml"), "健康存摺醫療類_20171031.xml")
    assert from_xml.source_format == "mhb-xml" and scenario.source_format == "mhb-json"
    assert from_xml.canonical == scenario.canonical
    assert from_xml.sha256 == scenario.sha256


def test_converting_twice_gives_identical_bytes(scenario):
    assert import_file(read("mhb/scenario.json")).canonical == scenario.canonical


@pytest.mark.parametrize(("day", "icd", "drug", "drug_name"), VISITS)
def test_each_visit_has_its_diagnosis_and_drug(scenario, day, icd, drug, drug_name):
    [encounter] = [e for e in resources(scenario, "Encounter") if e["period"]["start"] == day]
    principal = by_ref(scenario, encounter["diagnosis"][0]["condition"])
    assert coding(principal["code"], "icd-10-cm-2014-tw")["code"] == icd
    assert coding(principal["code"], "sid/icd-10-cm")["code"] == icd
    [request] = [m for m in resources(scenario, "MedicationRequest") if m["encounter"] == encounter_ref(encounter)]
    assert request["medicationCodeableConcept"]["coding"][0] == {
        "system": "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/medication-nhi-tw",
        "code": drug,
        "display": drug_name,
    }
    assert request["authoredOn"] == day


def encounter_ref(encounter: dict) -> dict:
    return {"reference": f"urn:uuid:{encounter['id']}"}


def test_summary_counts_dates_and_the_skipped_fee_line(scenario):
    summary = scenario.summary
    assert summary.counts["Encounter"] == 5
    assert summary.counts["Condition"] == 6  # five principal diagnoses + R80.9 secondary on 2017-10-10
    assert summary.counts["MedicationRequest"] == 5
    assert (summary.date_from, summary.date_to) == ("2016-11-05", "2017-10-11")
    [fee] = summary.skipped
    assert (fee.section, fee.row_index) == ("r1_1", 1)
    assert "00102B" in fee.reason and "billing" in fee.reason
    assert any("r2, r3, r5, r8, r9, r10, r11, r12, r13, r14" in note for note in summary.notes)


def test_secondary_diagnosis_ranks_after_the_principal(scenario):
    [encounter] = [e for e in resources(scenario, "Encounter") if e["period"]["start"] == "2017-10-10"]
    ranked = [(d["rank"], by_ref(scenario, d["condition"])["code"]["text"]) for d in encounter["diagnosis"]]
    assert ranked == [(1, "第二型糖尿病，無併發症"), (2, "蛋白尿")]
