"""Hostile uploads are refused quickly with a clear message, never a crash."""
from __future__ import annotations

import time

import pytest

from phr.importer import MAX_UPLOAD_BYTES, ImportRejected, import_file

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE myhealthbank [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<myhealthbank><bdata><r6><r6.1>20161105</r6.1><r6.3>&xxe;</r6.3></r6></bdata></myhealthbank>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<myhealthbank><bdata><r6><r6.3>&lol3;</r6.3></r6></bdata></myhealthbank>"""

EXTERNAL_DTD = b'<?xml version="1.0"?><!DOCTYPE myhealthbank SYSTEM "http://127.0.0.1:9/x.dtd"><myhealthbank/>'


def rejected(data: bytes, **kwargs) -> ImportRejected:
    with pytest.raises(ImportRejected) as info:
        import_file(data, **kwargs)
    assert "Traceback" not in info.value.message
    return info.value


@pytest.mark.parametrize("data", [XXE, BILLION_LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "external-dtd"])
def test_xml_with_dtd_or_entities_is_refused(data):
    assert "DTD or entities" in rejected(data).message


def test_deeply_nested_xml_is_refused_quickly():
    data = b"<a>" * 100_000 + b"</a>" * 100_000
    started = time.monotonic()
    assert "nests deeper" in rejected(data).message
    assert time.monotonic() - started < 2


def test_deeply_nested_json_is_refused():
    assert "nests deeper than 64" in rejected(b"{" + b'"a":{' * 100_000 + b"}" * 100_001).message


def test_deep_but_parseable_fhir_json_is_refused():
    data = b'{"resourceType":"Bundle","type":"collection","meta":' + b'{"extension":[' * 200 + b"]}" * 200 + b"}"
    assert "nests deeper than 64" in rejected(data).message


def test_100_mb_upload_is_refused_before_parsing():
    data = b"<" + b"x" * (100 * 1024 * 1024)
    started = time.monotonic()
    error = rejected(data)
    assert time.monotonic() - started < 1
    assert error.message == "The file is 100.0 MiB; the limit is 20.0 MiB. Nothing was read."


def test_size_limit_can_be_lowered_per_call():
    assert MAX_UPLOAD_BYTES == 20 * 1024 * 1024
    assert "limit is 0.0 MiB" in rejected(b"{}", max_bytes=10 - 9).message


@pytest.mark.parametrize(("data", "message"), [
    (b'{"resourceType": "Bundle", "type": "collection", "total": NaN}', "NaN"),
    (b'{"resourceType": "Bundle", "type": "collection", "total": Infinity}', "Infinity"),
    (b'{"myhealthbank": {"bdata": {}}, "myhealthbank": {}}', "twice"),
    (b'{"resourceType": "Bundle", "total": 1' + b"0" * 5000 + b"}", "too many digits"),
    (b'{"resourceType": "Bundle", "type": "collection", "total": 1e999}', "Bundle.total: Input should be a finite number"),
    (b'{"myhealthbank": ', "not valid"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"%PDF-1.4", "neither JSON nor XML"),
    (b"[1, 2]", "neither JSON nor XML"),
    (b"<myhealthbank><bdata>", "not well-formed"),
    (b'{"name": "x"}', "neither a My Health Bank download nor a FHIR resource"),
])  # fmt: skip
def test_hostile_or_broken_json_and_text(data, message):
    assert message in rejected(data).message


def test_huge_number_in_mhb_is_kept_as_text_not_a_broken_quantity():
    data = b'{"myhealthbank": {"bdata": {"r7": [{"r7.8": "09006C", "r7.11": 1e999}]}}}'
    [observation] = [e["resource"] for e in import_file(data).bundle["entry"]
                     if e["resource"]["resourceType"] == "Observation"]
    assert observation["valueString"] == "1E+999"


def test_lone_surrogate_in_json_is_refused():
    data = b'{"resourceType": "Bundle", "type": "collection", "id": "a", "meta": {"source": "\\ud800"}}'
    assert "Bundle.meta.source: Input should be a valid string" in rejected(data).message
