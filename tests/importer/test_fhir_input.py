"""Uploaded FHIR Bundles: validation messages, normalisation to a collection, canonical round trip."""
from __future__ import annotations

import copy
import hashlib
import json

import pytest
from importer_helpers import read

from phr.importer import import_file
from phr.importer.fhir import ImportRejected, canonical_bytes, validate_bundle


def valid() -> dict:
    return json.loads(read("fhir/valid-collection.json"))


@pytest.mark.parametrize(("name", "message"), [
    ("invalid-gender.json", "entry[0].resource(Patient).gender: 'banana' is not one of male|female|other|unknown"),
    ("invalid-bundle-type.json", "Bundle.type: 'nonsense' is not one of document|message|transaction"),
    ("invalid-reference.json",
     "entry[2].resource(Observation).subject.reference: reference 'Patient/missing' does not resolve"),
    ("invalid-resource-type.json", "entry[1].resource: resource type 'Diagnosis' is not accepted"),
    ("invalid-date.json", "entry[1].resource(Condition).recordedDate: DateTime value string does not match"),
    ("not-a-bundle.json", "Expected a FHIR Bundle, found a 'Patient' resource"),
])  # fmt: skip
def test_invalid_files_are_rejected_naming_resource_and_field(name, message):
    with pytest.raises(ImportRejected) as info:
        import_file(read(f"fhir/{name}"), name)
    assert info.value.message.startswith(message)
    assert info.value.details == [] or info.value.details[0] == info.value.message


def mutate(change) -> ImportRejected:
    bundle = valid()
    change(bundle)
    with pytest.raises(ImportRejected) as info:
        validate_bundle(bundle)
    return info.value


@pytest.mark.parametrize(("change", "message"), [
    (lambda b: b["entry"][2]["resource"].update(status="done"),
     "entry[2].resource(Observation).status: 'done' is not one of registered|preliminary|final"),
    (lambda b: b["entry"][1]["resource"]["clinicalStatus"]["coding"][0].update(code="cured"),
     "entry[1].resource(Condition).clinicalStatus: 'cured' is not one of active|recurrence"),
    (lambda b: b["entry"][1]["resource"]["clinicalStatus"]["coding"][0].update(system="http://example.org"),
     "entry[1].resource(Condition).clinicalStatus: needs a coding from"),
    (lambda b: b["entry"][2]["resource"]["valueQuantity"].update(comparator="~"),
     "entry[2].resource(Observation).valueQuantity.comparator: '~' is not one of"),
    (lambda b: b["entry"][0]["resource"].update(telecom=[{"system": "pigeon", "value": "x"}]),
     "entry[0].resource(Patient).telecom[0].system: 'pigeon' is not one of"),
    (lambda b: b["entry"][0]["resource"].update(colour="blue"),
     "entry[0].resource(Patient).colour: Extra inputs are not permitted"),
    (lambda b: b["entry"][0].update(fullUrl="urn:uuid:00000000-0000-0000-0000-000000000000"),
     "entry[0].fullUrl: 'urn:uuid:00000000-0000-0000-0000-000000000000' does not match"),
    (lambda b: b["entry"][0].pop("fullUrl"), "entry[0].fullUrl: missing"),
    (lambda b: b["entry"][0]["resource"].pop("id"), "entry[0].resource(Patient).id: missing"),
    (lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])), "entry[3].fullUrl: "),
    (lambda b: b["entry"][1].pop("resource"), "entry[1].resource: missing"),
    (lambda b: b.update(entry={}), "Bundle.entry"),
])  # fmt: skip
def test_validation_messages_name_resource_and_field_path(change, message):
    assert mutate(change).message.startswith(message)


PATIENT = {"reference": "urn:uuid:0b5d9a9e-3f0c-4c0e-9d5e-1a2b3c4d5e6f"}
TEXT = {"text": "x"}
MINIMAL = {
    "AllergyIntolerance": {"patient": PATIENT, "clinicalStatus": {"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]}},
    "Immunization": {"status": "completed", "vaccineCode": TEXT, "patient": PATIENT, "occurrenceDateTime": "2017"},
    "Consent": {"status": "active", "scope": TEXT, "category": [TEXT]},
    "DiagnosticReport": {"status": "final", "code": TEXT},
    "Procedure": {"status": "completed", "subject": PATIENT},
    "MedicationRequest": {"status": "completed", "intent": "order", "medicationCodeableConcept": TEXT,
                          "subject": PATIENT},
    "MedicationDispense": {"status": "completed", "medicationCodeableConcept": TEXT},
    "Encounter": {"status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                                   "code": "AMB"}},
    "EpisodeOfCare": {"status": "active", "patient": PATIENT},
    "Observation": {"status": "final", "code": TEXT},
}  # fmt: skip
BROKEN = {"AllergyIntolerance": ("criticality", "deadly")}


def with_resource(kind: str, fields: dict) -> dict:
    bundle = valid()
    bundle["entry"] = bundle["entry"][:1] + [{"fullUrl": f"https://example.org/fhir/{kind}/x",
                                              "resource": {"resourceType": kind, "id": "x", **fields}}]
    return bundle


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_required_codes_are_checked_for_every_type_we_produce(kind):
    validate_bundle(with_resource(kind, MINIMAL[kind]))  # the minimal resource itself is valid
    field, bad = BROKEN.get(kind, ("status", "bogus"))
    with pytest.raises(ImportRejected) as info:
        validate_bundle(with_resource(kind, MINIMAL[kind] | {field: bad}))
    assert info.value.message.startswith(f"entry[1].resource({kind}).{field}: {bad!r} is not one of ")


def test_encounter_class_outside_act_code_is_allowed_but_wrong_act_code_is_not():
    validate_bundle(with_resource("Encounter", MINIMAL["Encounter"] | {"class": {"system": "urn:x", "code": "Z"}}))
    wrong = MINIMAL["Encounter"] | {"class": MINIMAL["Encounter"]["class"] | {"code": "WALK"}}
    with pytest.raises(ImportRejected, match=r"resource\(Encounter\)\.class: 'WALK' is not one of AMB"):
        validate_bundle(with_resource("Encounter", wrong))


def test_mhb_bundle_with_a_broken_required_code_is_rejected(scenario):
    bundle = copy.deepcopy(scenario.bundle)
    [entry] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest"][:1]
    entry["resource"]["intent"] = "wish"
    with pytest.raises(ImportRejected, match=r"resource\(MedicationRequest\)\.intent: 'wish' is not one of proposal"):
        validate_bundle(bundle)


def test_transaction_is_stored_as_a_collection_without_request_parts():
    result = import_file(read("fhir/valid-transaction.json"))
    assert result.bundle["type"] == "collection"
    assert all(set(e) == {"fullUrl", "resource"} for e in result.bundle["entry"])
    assert result.bundle["entry"] == valid()["entry"]


@pytest.mark.parametrize("bundle_type", ["history", "message", "batch-response"])
def test_other_bundle_types_are_not_accepted(bundle_type):
    bundle = valid() | {"type": bundle_type}
    with pytest.raises(ImportRejected, match=f"Bundle.type '{bundle_type}' is not accepted"):
        import_file(json.dumps(bundle).encode())


@pytest.mark.parametrize("source", ["fhir/valid-collection.json", "mhb/scenario.json", "mhb/full.xml"])
def test_exported_canonical_bytes_reimport_to_identical_bytes_and_hash(source):
    first = import_file(read(source))
    again = import_file(first.canonical, "export.json")
    assert again.source_format == "fhir-json"
    assert again.canonical == first.canonical and again.sha256 == first.sha256


def test_canonical_bytes_format():
    data = {"b": 1, "a": [1.5, "台灣"], "c": {"z": None, "y": True}}
    assert canonical_bytes(data) == '{"a":[1.5,"台灣"],"b":1,"c":{"y":true,"z":null}}'.encode()


@pytest.mark.parametrize("value", [float("nan"), "\ud800", {1, 2}])
def test_values_json_cannot_carry_are_rejected_by_canonical_bytes(value):
    with pytest.raises(ImportRejected, match="cannot be written as canonical JSON"):
        canonical_bytes({"a": value})


def test_sha256_is_of_the_canonical_bytes(scenario):
    assert scenario.sha256 == hashlib.sha256(scenario.canonical).hexdigest()
    assert not scenario.canonical.endswith(b"\n")
