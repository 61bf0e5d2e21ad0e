"""What a hide rule matches in a bundle (phr.sharing.hiding), without the stack: the importer's real output."""
import json

import pytest
from web_helpers import DATA

from phr import view
from phr.importer import import_file
from phr.sharing import hiding
from phr.sharing.service import visit_bundle


def _bundle(name: str) -> dict:
    path = DATA / "mhb" / name
    return json.loads(import_file(path.read_bytes(), path.name, max_bytes=10**7).canonical)


def _find(bundle: dict, kind: str, text: str) -> str:
    return next(url for url, f in view.item_facts(bundle).items() if f.resource_type == kind and text in f.label)


def _kinds(bundle: dict, urls: set[str]) -> list[str]:
    return sorted(e["resource"]["resourceType"] for e in bundle["entry"] if e["fullUrl"] in urls)


JAN, APR = _bundle("scenario-overlap-2018-01.json"), _bundle("scenario-overlap-2018-04.json")


def test_a_visit_rule_matches_the_same_visit_under_another_entry_id():
    rule = hiding.rule_for(JAN, _find(JAN, "Encounter", "神經科"), "visit")
    assert rule.value == "2017-07-16\x1f9988000022"
    july_in_apr = _find(APR, "Encounter", "2017-07-16")
    assert july_in_apr != _find(JAN, "Encounter", "神經科")  # the April row was adjusted: another id
    hidden = hiding.hidden_entries([rule], APR)
    assert july_in_apr in hidden and _kinds(APR, hidden) == ["Condition", "Encounter", "MedicationRequest"]
    assert _find(APR, "Encounter", "2018-02-14") not in hidden  # another visit to the same clinic stays


def test_a_diagnosis_rule_hides_every_visit_that_lists_the_code_and_what_was_recorded_there():
    rule = hiding.rule_for(JAN, _find(JAN, "Condition", "G40"), "diagnosis")
    assert rule.value == "G40909"
    hidden = hiding.hidden_entries([rule], APR)
    assert _kinds(APR, hidden) == ["Condition"] * 2 + ["Encounter"] * 2 + ["MedicationRequest"] * 2


def test_a_drug_rule_matches_by_code_or_by_name_when_a_doctor_wrote_no_code():
    rule = hiding.rule_for(JAN, _find(JAN, "MedicationRequest", "Neurtrol"), "drug")
    assert (rule.value, rule.name) == ("AX99002100", "neurtrol f.c. tablets 300 mg")
    assert _kinds(APR, hiding.hidden_entries([rule], APR)) == ["MedicationRequest"] * 2

    class Person:  # the two users a visit note names
        display_name, licence_no, country, institution = "Chen Mei", "L-1", "TH", "Siriraj Hospital"

    note = visit_bundle(Person(), Person(), code="G40.909", diagnosis="Epilepsy", notes="",
                        medications=[{"name": "ＮＥＵＲＴＲＯＬ F.C. Tablets 300 mg", "dose": "", "days": None}])
    assert _kinds(note, hiding.hidden_entries([rule], note)) == ["MedicationRequest"]
    # The note's Encounter does not list its diagnosis (the Condition names the Encounter): the visit goes all the
    # same, and with it the writing doctor, whom nothing visible names any more.
    diagnosis = hiding.rule_for(JAN, _find(JAN, "Condition", "G40"), "diagnosis")
    assert _kinds(note, hiding.hidden_entries([diagnosis], note)) == [
        "Condition", "Encounter", "MedicationRequest", "Practitioner"]


def test_facilities_named_only_by_hidden_entries_go_too_and_the_patient_never_does():
    old = _bundle("scenario.json")
    rule = hiding.rule_for(old, _find(old, "Encounter", "2017-01-20"), "visit")  # the family clinic's only visit
    hidden = hiding.hidden_entries([rule], old)
    assert "Organization" in _kinds(old, hidden) and "Patient" not in _kinds(old, hidden)
    assert hiding.hidden_entries([], old) == set()


@pytest.mark.parametrize("kind, resource", [("visit", "Condition"), ("diagnosis", "Encounter"),
                                            ("drug", "Condition"), ("nonsense", "Encounter")])
def test_a_rule_only_names_its_kind_of_item(kind, resource):
    with pytest.raises(hiding.NotHideable):
        hiding.rule_for(JAN, _find(JAN, resource, "2017-07-16"), kind)
