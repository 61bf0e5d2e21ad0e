"""The hostile and broken files tried against the importer through the web upload."""

XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<myhealthbank><bdata><b1.1>&x;</b1.1></bdata></myhealthbank>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]><myhealthbank><bdata><b1.1>&lol4;</b1.1></bdata></myhealthbank>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><myhealthbank/>"""
PARAM_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><myhealthbank/>"""
DEEP_XML = b"<myhealthbank>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</myhealthbank>"
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

UPLOADS = [
    # (id, filename, body, text the message must contain)
    ("xxe", "mhb.xml", XXE, "declares a DTD or entities"),
    ("billion-laughs", "mhb.xml", LAUGHS, "declares a DTD or entities"),
    ("external-dtd", "mhb.xml", EXTERNAL_DTD, "declares a DTD or entities"),
    ("parameter-entity", "mhb.xml", PARAM_ENTITY, "declares a DTD or entities"),
    ("deep-xml", "mhb.xml", DEEP_XML, "nests deeper than"),
    ("deep-json", "mhb.json", DEEP_JSON, "neither JSON nor XML"),
    ("png-as-json", "scan.json", PNG, "not UTF-8 text"),
    ("png", "scan.png", PNG, "not UTF-8 text"),
    ("empty", "empty.json", b"", "neither JSON nor XML"),
    ("whitespace", "blank.json", b"  \r\n\t ", "neither JSON nor XML"),
    ("invalid-utf8", "bad.json", b'{"resourceType": "Bundle", "type": "collection", "id": "\xff\xfe"}', "not UTF-8 text"),
    ("nul-bytes", "nul.json", b'{"resourceType":\x00"Bundle"}', "The JSON is not valid"),
    ("json-array", "list.json", b"[1, 2, 3]", "neither JSON nor XML"),
    ("json-nan", "nan.json", b'{"resourceType": "Bundle", "type": "collection", "total": NaN}', "NaN"),
    ("json-huge-number", "num.json", b'{"resourceType": "Bundle", "type": "collection", "total": 1' + b"0" * 5000 + b"}", "too many digits"),
    ("json-duplicate-keys", "dup.json", b'{"resourceType": "Bundle", "type": "collection", "type": "batch"}', "twice in one object"),
    ("fhir-unknown-resource", "b.json", b'{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Spaceship", "id": "1"}}]}', "Spaceship"),
    ("fhir-not-a-bundle", "p.json", b'{"resourceType": "Patient", "id": "p1"}', "Bundle"),
    ("fhir-bad-gender", "g.json", b'{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:0b8f2a6e-5a4c-4b7e-9c1d-2f3e4a5b6c7d", "resource": {"resourceType": "Patient", "id": "0b8f2a6e-5a4c-4b7e-9c1d-2f3e4a5b6c7d", "gender": "banana"}}]}', "gender"),
    ("fhir-bundle-type", "t.json", b'{"resourceType": "Bundle", "type": "nonsense"}', "nonsense"),
    ("fhir-history-bundle", "h.json", b'{"resourceType": "Bundle", "type": "history"}', "history"),
    ("fhir-dangling-reference", "r.json", b'{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:0b8f2a6e-5a4c-4b7e-9c1d-2f3e4a5b6c7d", "resource": {"resourceType": "Condition", "id": "0b8f2a6e-5a4c-4b7e-9c1d-2f3e4a5b6c7d", "subject": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}}}]}', "reference"),
    ("mhb-missing-bdata", "m.json", b'{"myhealthbank": {}}', "bdata is missing"),
    ("mhb-wrong-root", "m.xml", b"<healthbank><bdata/></healthbank>", "bdata is missing"),
    ("mhb-bdata-not-object", "m.json", b'{"myhealthbank": {"bdata": [1, 2]}}', "bdata is missing"),
    ("path-traversal-name", "../../../../etc/passwd", b"\x00\x01garbage", "neither JSON nor XML"),
    ("xml-mismatched-tags", "m.xml", b"<myhealthbank><bdata></myhealthbank>", "not well-formed"),
    ("xml-utf16-bom-garbage", "m.xml", b"\xff\xfe<\x00m\x00", "not UTF-8 text"),
]
