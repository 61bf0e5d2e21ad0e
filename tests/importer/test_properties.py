"""Property tests: random and mutated input never raises anything but ImportRejected."""
from __future__ import annotations

import json

import xmltodict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from importer_helpers import read

from phr.importer import ImportRejected, import_file

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLES = [read(f"mhb/{n}") for n in ("scenario.json", "full.json", "scenario.xml", "full.xml")]
SAMPLES += [read("fhir/valid-collection.json")]

field_keys = st.sampled_from(["r1.5", "r1.8", "r1_1", "r1_1.1", "r1_1.3", "r7.11", "r7.12", "r10.9", "r12_1.5",
                              "r4.9", "r6.1", "r2.5", "r8.7", "R12", "r14_1.9", "b1.1", "x"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.decimals(allow_nan=False).map(float),
                    st.text(max_size=12), st.sampled_from(["無資料", "20171301", "E119", "AX99001100", "<5", "1e999"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(field_keys, inner, max_size=4),
                      max_leaves=12)
sections = st.dictionaries(st.sampled_from(["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11",
                                            "R12", "r13", "R14", "b1.1", "b2.1", "r0"]), values, max_size=5)


def only_import_rejected(data: bytes) -> None:
    try:
        result = import_file(data)
    except ImportRejected as exc:
        assert exc.message and "Traceback" not in exc.message
    else:
        assert import_file(result.canonical).sha256 == result.sha256


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(data):
    only_import_rejected(data)


@SETTINGS
@given(sections)
def test_random_mhb_json(bdata):
    only_import_rejected(json.dumps({"myhealthbank": {"bdata": bdata}}, ensure_ascii=False).encode())


@SETTINGS
@given(sections)
def test_random_mhb_xml(bdata):
    tree = {"myhealthbank": {"bdata": {k.lower().replace("b1.1", "b1.1"): v for k, v in bdata.items()}}}
    try:
        xml = xmltodict.unparse(tree, full_document=True)
    except (ValueError, TypeError):
        return  # hypothesis built a tree that is not expressible as XML
    only_import_rejected(xml.encode())


@SETTINGS
@given(st.sampled_from(range(len(SAMPLES))), st.data())
def test_mutated_samples(index, data):
    sample = bytearray(SAMPLES[index])
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(sample) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            sample[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del sample[position : position + data.draw(st.integers(1, 40))]
        else:
            sample[position:position] = data.draw(st.sampled_from([b"{", b"]", b'"', b"<", b"/>", b"\x00", b"1e400",
                                                                   b"\xe7\x84\xa1", b"null", b",", b"<!DOCTYPE x>"]))
    only_import_rejected(bytes(sample))


@SETTINGS
@given(st.data())
def test_mutated_fhir_values(data):
    bundle = json.loads(read("fhir/valid-collection.json"))
    entry = data.draw(st.sampled_from(bundle["entry"]))["resource"]
    key = data.draw(st.sampled_from(sorted(entry)))
    entry[key] = data.draw(values)
    only_import_rejected(json.dumps(bundle).encode())
