"""Parse a My Health Bank download, JSON or XML, into one normalised ``MhbDocument``.

Either format becomes lower-case keys, text values, and every section and child
collection a list of rows. The field reference is /work/shared/reference/mhb-format.md.
"""
from __future__ import annotations

import io
import re
import xml.sax
from decimal import Decimal

import xmltodict
from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser

from phr.importer.fhir import ImportRejected
from phr.labels import N_

from .document import MhbDocument, Note

MAX_XML_DEPTH = 16
NO_DATA = "無資料"
SECTIONS = tuple(f"r{n}" for n in range(1, 15))
FIELD_COUNTS = {
    "r1": 27, "r1_1": 4, "r2": 91, "r2_1": 6, "r3": 26, "r3_1": 6, "r4": 12, "r5": 3, "r6": 5,
    "r7": 12, "r8": 10, "r9": 26, "r9_1": 4, "r10": 42, "r11": 2, "r11_1": 4,
    "r12": 3, "r12_1": 13, "r13": 3, "r13_1": 10, "r14": 3, "r14_1": 9,
}  # fmt: skip
_PAD = {"r1.3": 10, "r2.3": 10, "r3.3": 10, "r4.4": 10, "r7.3": 10, "r8.3": 10, "r9.3": 10, "r10.1": 10,
        "r1.7": 4, "r2.9": 4, "r3.6": 4, "r9.6": 4}  # fmt: skip
"""Text fields that lose leading zeros when written as JSON numbers: field → width."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_json_object(obj: object) -> MhbDocument:
    """Normalise an already decoded MHB JSON document (numbers as ``Decimal``/``int``)."""
    return _normalise(obj)


def parse_xml(text: str) -> MhbDocument:
    """Parse MHB XML text safely: any DTD or entity is rejected, depth is capped."""
    cleaned = _CONTROL.sub("", text)
    notes = [Note(N_("Control characters were removed from the XML."))] if len(cleaned) != len(text) else []
    raw = cleaned.encode("utf-8")
    _screen_xml(raw)
    try:
        tree = xmltodict.parse(raw, encoding="utf-8", disable_entities=True, xml_attribs=False, force_list=_is_row_tag)
    except Exception as exc:  # noqa: BLE001 - xmltodict re-raises expat errors of several types
        raise ImportRejected(N_("The XML could not be read: %(reason)s."), reason=_first_line(exc)) from None
    document = _normalise(tree)
    document.notes[:0] = notes
    return document


class _DepthGuard(xml.sax.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.depth = 0

    def startElement(self, name: str, attrs: object) -> None:
        self.depth += 1
        if self.depth > MAX_XML_DEPTH:
            raise ImportRejected(N_("The XML nests deeper than %(max)d levels; this is not a health-bank file."),
                                 max=MAX_XML_DEPTH)

    def endElement(self, name: str) -> None:
        self.depth -= 1


def _screen_xml(raw: bytes) -> None:
    """First pass with defusedxml's SAX reader: refuse DTDs, entities, external references, deep nesting."""
    parser = create_parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setContentHandler(_DepthGuard())
    source = xml.sax.xmlreader.InputSource()
    source.setByteStream(io.BytesIO(raw))
    source.setEncoding("utf-8")
    try:
        parser.parse(source)
    except DefusedXmlException:
        raise ImportRejected(
            N_("The XML declares a DTD or entities, which a genuine health-bank download never does; refused.")
        ) from None
    except xml.sax.SAXParseException as exc:
        raise ImportRejected(N_("The XML is not well-formed: %(reason)s (line %(line)d)."),
                             reason=exc.getMessage(), line=exc.getLineNumber()) from None


def _is_row_tag(path: object, key: str, value: object) -> bool:
    return re.fullmatch(r"r\d+(_1)?", key, re.IGNORECASE) is not None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


# --- normalisation --------------------------------------------------------------


def _lower_keys(mapping: dict, where: str | None) -> dict:
    """``mapping`` with lower-case keys; ``where`` names it in messages (None: the file's top level)."""
    out: dict = {}
    for key, value in mapping.items():
        low = str(key).strip().lower()
        if low in out:
            if where is None:
                raise ImportRejected(N_("The file has the key %(key)s twice (keys are compared without case)."),
                                     key=repr(low))
            raise ImportRejected(N_("%(where)s has the key %(key)s twice (keys are compared without case)."),
                                 where=where, key=repr(low))
        out[low] = value
    return out


def _normalise(obj: object) -> MhbDocument:
    root = _lower_keys(obj, None) if isinstance(obj, dict) else {}
    top = root.get("myhealthbank")
    bdata = _lower_keys(top, "myhealthbank").get("bdata") if isinstance(top, dict) else None
    if not isinstance(bdata, dict):
        raise ImportRejected(N_("This is not a My Health Bank download: myhealthbank/bdata is missing."))
    bdata = _lower_keys(bdata, "bdata")
    document = MhbDocument(
        masked_id=_scalar(bdata.get("b1.1"), "b1.1"),
        application_date=_scalar(bdata.get("b1.2", bdata.get("b2.1")), "b1.2"),
        sections={},
    )
    for key, value in bdata.items():
        if key in SECTIONS:
            _read_section(document, key, value)
        elif key not in {"b1.1", "b1.2", "b2.1", "r0"}:
            document.notes.append(Note(N_("Unknown block %(key)s was not imported."), key=repr(key)))
    absent = [s for s in SECTIONS if s not in document.sections]
    if absent:
        document.notes.append(Note(N_("Sections absent from the file: %(sections)s."), sections=", ".join(absent)))
    if document.no_data:
        document.notes.append(Note(N_("Sections marked 無資料 (no data): %(sections)s."),
                                   sections=", ".join(_section_order(document.no_data))))
    return document


def _section_order(names: set[str]) -> list[str]:
    return sorted(names, key=lambda s: int(s[1:]))


def _is_no_data(value: object, section: str) -> bool:
    if isinstance(value, str):
        return value.strip() == NO_DATA
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), = value.items()
        return str(key).lower() == section and isinstance(inner, str) and inner.strip() == NO_DATA
    return False


def _as_list(value: object) -> list:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _read_section(document: MhbDocument, section: str, value: object) -> None:
    rows = [row for row in _as_list(value) if row not in (None, "")]
    if not rows or all(_is_no_data(r, section) for r in rows):
        document.sections[section] = []
        document.no_data.add(section)
        return
    document.sections[section] = []
    for index, row in enumerate(rows):
        if isinstance(row, dict) and not _is_no_data(row, section):
            document.sections[section].append(_read_row(row, section))
        elif not _is_no_data(row, section):
            document.notes.append(Note(N_("%(section)s row %(row)d is not a record and was not imported."),
                                       section=section, row=index))


def _read_row(row: dict, section: str) -> dict:
    out: dict = {}
    child = f"{section}_1"
    for key, value in _lower_keys(row, section).items():
        if key == child and child in FIELD_COUNTS:
            out[key] = [_read_child(c, child) for c in _as_list(value) if isinstance(c, dict)]
        else:
            text = _scalar(value, key)
            if text is not None:
                out[key] = text
    return out


def _read_child(row: dict, child: str) -> dict:
    return {k: t for k, v in _lower_keys(row, child).items() if (t := _scalar(v, k)) is not None}


def _scalar(value: object, key: str) -> str | None:
    """Field value as trimmed text; None for no value. Numbers become text, zero-padded where needed."""
    if isinstance(value, (bool, dict, list)):
        return None
    if isinstance(value, int):
        return str(value).zfill(_PAD.get(key, 0))
    if isinstance(value, Decimal):
        return str(value)
    if not isinstance(value, str):
        return None
    text = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return text or None
