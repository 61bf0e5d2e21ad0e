"""Taiwan NHI My Health Bank (健康存摺) downloads: parse JSON/XML, map to a FHIR R4 Bundle.

Parsing turns either format into one normalised ``MhbDocument`` (lower-case keys,
text values, every section and child collection a list of rows). ``to_bundle``
maps sections r1–r14 to FHIR resources with deterministic ids, so the same data
gives the same bytes whatever the format or row order. The field reference is
/work/shared/reference/mhb-format.md; docs/importer.md has the mapping table.
"""
from __future__ import annotations

import io
import json
import re
import unicodedata
import uuid
import xml.sax
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Self

import xmltodict
from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser

from phr.fhirbundle import HL7_CS, ImportRejected
from phr.labels import N_

TWCORE = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/"
LOCAL = "https://phr.invalid/fhir/"
"""Project-local URI prefix for code systems and identifiers that have no public URI."""
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM_US = "http://hl7.org/fhir/sid/icd-10-cm"
ICD9CM = "http://hl7.org/fhir/sid/icd-9-cm"
NAMESPACE = uuid.UUID("c891e0ad-f700-4f57-a611-b7c0b2da5fdf")
"""uuid5 namespace of every resource id made from an MHB file. Never change it."""

ICD_CUTOVER = date(2016, 1, 1)
"""Taiwan NHI claims moved from ICD-9-CM to ICD-10-CM/PCS on this date."""
ICD10_EDITIONS = ((date(2016, 1, 1), "2014"), (date(2021, 1, 1), "2021"), (date(2023, 1, 1), "2023"))
"""(first service date, TW edition). The 2021/2023 cutover dates are assumptions: confirm with NHI."""

MAX_XML_DEPTH = 16
NO_DATA = "無資料"
SECTIONS = tuple(f"r{n}" for n in range(1, 15))
_FIELD_COUNTS = {
    "r1": 27, "r1_1": 4, "r2": 91, "r2_1": 6, "r3": 26, "r3_1": 6, "r4": 12, "r5": 3, "r6": 5,
    "r7": 12, "r8": 10, "r9": 26, "r9_1": 4, "r10": 42, "r11": 2, "r11_1": 4,
    "r12": 3, "r12_1": 13, "r13": 3, "r13_1": 10, "r14": 3, "r14_1": 9,
}  # fmt: skip
_PAD = {"r1.3": 10, "r2.3": 10, "r3.3": 10, "r4.4": 10, "r7.3": 10, "r8.3": 10, "r9.3": 10, "r10.1": 10,
        "r1.7": 4, "r2.9": 4, "r3.6": 4, "r9.6": 4}  # fmt: skip
"""Text fields that lose leading zeros when written as JSON numbers: field → width."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Note(str):
    """A note or skip reason: the English sentence (what the command line prints) that keeps its ``N_``-marked
    msgid and parameters, so a page can show it as ``gettext(msgid, **params)`` in the reader's language."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, **params: object) -> Self:
        note = super().__new__(cls, msgid % params if params else msgid)
        note.msgid, note.params = msgid, params
        return note


@dataclass(frozen=True)
class SkippedRow:
    """A source row (or child row) that produced no clinical resource, and why."""

    section: str
    row_index: int
    reason: Note


@dataclass
class MhbDocument:
    """A parsed download: ``sections`` holds present sections (no-data ones as ``[]``)."""

    masked_id: str | None
    application_date: str | None
    sections: dict[str, list[dict]]
    no_data: set[str] = field(default_factory=set)
    notes: list[Note] = field(default_factory=list)


# --- parsing ------------------------------------------------------------------


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
        if key == child and child in _FIELD_COUNTS:
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


# --- value conversion -----------------------------------------------------------


def fhir_date(text: str | None) -> str | None:
    """Convert an MHB date (YYYYMMDD, ROC YYYMMDD, YYY/MM/DD, YYYYMM) to a FHIR date, else None."""
    if not text:
        return None
    text = text.split("||")[0].strip()
    if m := re.fullmatch(r"(\d{2,3})/(\d{1,2})/(\d{1,2})", text):
        return _iso(int(m[1]) + 1911, int(m[2]), int(m[3]))
    if re.fullmatch(r"\d{8}", text):
        return _iso(int(text[:4]), int(text[4:6]), int(text[6:]))
    if re.fullmatch(r"\d{7}", text):
        return _iso(int(text[:3]) + 1911, int(text[3:5]), int(text[5:]))
    if re.fullmatch(r"(19|20)\d{4}", text) and 1 <= int(text[4:]) <= 12:
        return f"{text[:4]}-{text[4:]}"
    return None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat() if year >= 1900 else None
    except ValueError:
        return None


def fhir_instant(text: str | None) -> str | None:
    """Convert YYYYMMDDHHMM (Taiwan local time) to a FHIR instant, else None."""
    if not text or not re.fullmatch(r"\d{12}", text):
        return None
    try:
        moment = datetime.strptime(text, "%Y%m%d%H%M")
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:00+08:00") if moment.year >= 1900 else None


def number(text: str | None) -> int | float | None:
    """Parse a decimal (padding allowed) to int or float; None if not a sane finite number."""
    if not text:
        return None
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or (value and not -12 <= value.adjusted() <= 12):
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def code(text: str | None) -> str | None:
    """A code as FHIR allows it: NFKC, upper case, inner whitespace collapsed."""
    if not text:
        return None
    return " ".join(unicodedata.normalize("NFKC", text).upper().split()) or None


def _parsed_date(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso and len(iso) == 10 else None


def _edition(when: date | None) -> str:
    chosen = ICD10_EDITIONS[-1][1] if when is None else ICD10_EDITIONS[0][1]
    for start, edition in ICD10_EDITIONS:
        if when is not None and when >= start:
            chosen = edition
    return chosen


def _dotted(raw: str, at: int) -> str:
    plain = raw.replace(".", "")
    return plain if len(plain) <= at else f"{plain[:at]}.{plain[at:]}"


def diagnosis_codings(raw: str, when: date | None) -> list[dict]:
    """Codings for a diagnosis code: TW Core ICD-10-CM (+ US ICD-10-CM) or ICD-9-CM, else local."""
    icd9 = when is not None and when < ICD_CUTOVER
    if re.fullmatch(r"\d{3}(\.?\d{1,2})?|V\d{2}(\.?\d{1,2})?", raw) and (icd9 or raw[0].isdigit()):
        return [{"system": TWCORE + "icd-9-cm-2001-tw", "code": _dotted(raw, 3)}]
    if icd9 and re.fullmatch(r"E\d{3}(\.?\d)?", raw):
        return [{"system": TWCORE + "icd-9-cm-2001-tw", "code": _dotted(raw, 4)}]
    if re.fullmatch(r"[A-Z]\d[0-9A-Z](\.?[0-9A-Z]{1,4})?", raw):
        dotted = _dotted(raw, 3)
        return [
            {"system": f"{TWCORE}icd-10-cm-{_edition(when)}-tw", "code": dotted},
            {"system": ICD10CM_US, "code": dotted},
        ]
    return [{"system": LOCAL + "CodeSystem/mhb-diagnosis-code", "code": raw}]


def procedure_codings(raw: str, when: date | None, treatment: bool) -> list[dict]:
    """Codings for a procedure code: ICD-10-PCS, ICD-9-CM procedure, NHI fee item, else local."""
    if _FEE.fullmatch(raw):
        return [{"system": TWCORE + "medical-service-payment-tw", "code": raw}]
    if not treatment and when is not None and when < ICD_CUTOVER and re.fullmatch(r"\d{2}(\.?\d{1,2})?", raw):
        return [{"system": ICD9CM, "code": _dotted(raw, 2)}]
    if not treatment and re.fullmatch(r"[0-9A-HJ-NP-Z]{7}", raw):
        return [{"system": f"{TWCORE}icd-10-pcs-{_edition(when)}-tw", "code": raw}]
    return [{"system": LOCAL + "CodeSystem/mhb-procedure-code", "code": raw}]


_DRUG = re.compile(r"[A-Z][A-Z0-9]\d{8}")
_HERB = re.compile(r"[A-Z]\d{6}")
_FEE = re.compile(r"[A-Z0-9]\d{4}[A-Z]")


def order_system(raw: str) -> str | None:
    """Code system of a medication order code, or None when the row is not a medication."""
    if _DRUG.fullmatch(raw):
        return TWCORE + "medication-nhi-tw"
    if _HERB.fullmatch(raw):
        return TWCORE + "nhi-medication-ch-herb-tw"
    return None


def _not_medication_reason(section: str, index: int, raw: str | None, name: str | None) -> Note:
    """Why order row ``raw`` of ``section`` row ``index`` is not a medication (``label`` is the order's name)."""
    where = {"section": section, "row": index, "label": f" ({name})" if name else ""}
    if raw is None:
        return Note(N_("%(section)s row %(row)d: order row without a code%(label)s"), **where)
    if _FEE.fullmatch(raw):
        return Note(N_("%(section)s row %(row)d: NHI fee-schedule item %(code)s%(label)s: a billing or test-order "
                       "line, not a clinical resource"), code=raw, **where)
    if len(raw) == 12:
        return Note(N_("%(section)s row %(row)d: 12-character code %(code)s%(label)s: probably a special material "
                       "(billing line)"), code=raw, **where)
    return Note(N_("%(section)s row %(row)d: order code %(code)s%(label)s is not a drug, herbal or fee-schedule "
                   "code"), code=repr(raw), **where)


def concept(codings: list[dict], text: str | None) -> dict:
    """CodeableConcept with the original name as ``text`` (and as display of the first coding if it has none)."""
    out: dict = {}
    if codings:
        first = dict(codings[0])
        if text and not first.get("display"):
            first["display"] = text
        out["coding"] = [first, *codings[1:]]
    if text:
        out["text"] = text
    return out


def quantity(value: float, unit: str | None = None) -> dict:
    out: dict = {"value": value}
    if unit:
        out.update(unit=unit, system=UCUM, code=unit)
    return out


_COMPARED = re.compile(r"(<=|>=|<|>|≦|≧)\s*(\S+)")
_RANGE = re.compile(r"\[?\s*([-+]?\d+(?:\.\d+)?)\s*\]?\s*(?:-|~|～|\]\s*\[)\s*\[?\s*([-+]?\d+(?:\.\d+)?)\s*\]?")


def observation_value(text: str | None) -> dict:
    """valueQuantity for numbers (with comparator), valueString otherwise; {} when empty."""
    if not text:
        return {}
    if (value := number(text)) is not None:
        return {"valueQuantity": quantity(value)}
    if (m := _COMPARED.fullmatch(text)) and (value := number(m[2])) is not None:
        comparator = {"≦": "<=", "≧": ">="}.get(m[1], m[1])
        return {"valueQuantity": {"value": value, "comparator": comparator}}
    return {"valueString": text}


def reference_range(text: str | None) -> list[dict]:
    """Parse low-high, [low-high], [low][high] and one-sided ranges; keep the text otherwise."""
    if not text:
        return []
    if (m := _RANGE.fullmatch(text)) and None not in (low := number(m[1]), high := number(m[2])):
        return [{"low": {"value": low}, "high": {"value": high}, "text": text}]
    if (m := _COMPARED.fullmatch(text)) and (value := number(m[2])) is not None:
        side = "high" if m[1] in {"<", "<=", "≦"} else "low"
        return [{side: {"value": value}, "text": text}]
    return [{"text": text}]


# --- mapping to FHIR --------------------------------------------------------------


@dataclass(frozen=True)
class MhbConversion:
    """Result of ``to_bundle``: the collection Bundle, rows left out, and notes for the report."""

    bundle: dict
    skipped: list[SkippedRow]
    notes: list[Note]


def _pairs(first: int, count: int) -> tuple[tuple[int, int], ...]:
    return tuple((first + 2 * i, first + 2 * i + 1) for i in range(count))


@dataclass(frozen=True)
class _Visit:
    """Field numbers of a visit section (r1, r2, r3, r9) and of its order rows."""

    label: str
    encounter_class: str
    facility: tuple[int, int]
    start: int
    end: int | None
    dispensed: int | None
    sequence: int
    diagnoses: tuple[tuple[int, int], ...]
    procedures: tuple[tuple[int, int], ...]
    treatment_codes: bool
    orders: dict[str, int]


_VISITS = {
    "r1": _Visit("西醫門診 (Western-medicine outpatient visit)", "AMB", (3, 4), 5, None, 6, 7,
                 ((8, 9), *_pairs(14, 5)), ((10, 11), *_pairs(24, 2)), False,
                 {"code": 1, "name": 2, "quantity": 3, "days": 4}),
    "r2": _Visit("住院 (inpatient stay)", "IMP", (3, 4), 5, 6, None, 9,
                 ((10, 11), *_pairs(16, 19)), ((12, 13), *_pairs(54, 19)), False,
                 {"start": 2, "end": 3, "code": 4, "name": 5, "quantity": 6}),
    "r3": _Visit("牙醫門診 (dental outpatient visit)", "AMB", (3, 4), 5, None, None, 6,
                 ((7, 8), *_pairs(13, 5)), ((9, 10), *_pairs(23, 2)), False,
                 {"code": 1, "name": 2, "quantity": 3, "tooth": 4, "tooth_name": 5, "days": 6}),
    "r9": _Visit("中醫門診 (Chinese-medicine outpatient visit)", "AMB", (3, 4), 5, None, None, 6,
                 ((7, 8), *_pairs(13, 5)), ((9, 10), *_pairs(23, 2)), True,
                 {"code": 1, "name": 2, "quantity": 3, "days": 4}),
}  # fmt: skip
_ENCOUNTER_CLASS = {"AMB": "ambulatory", "IMP": "inpatient encounter"}

# (field, LOINC, LOINC display, UCUM unit, observation category)
_R10_MEASURES = (
    (6, "8302-2", "Body height", "cm", "vital-signs"),
    (7, "29463-7", "Body weight", "kg", "vital-signs"),
    (8, "39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "vital-signs"),
    (10, "8480-6", "Systolic blood pressure", "mm[Hg]", "vital-signs"),
    (11, "8462-4", "Diastolic blood pressure", "mm[Hg]", "vital-signs"),
    (14, "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory"),
    (15, "2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory"),
    (16, "2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory"),
    (17, "2089-1", "Cholesterol in LDL [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory"),
    (20, "1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory"),
    (23, "3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory"),
    (24, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory"),
    (25, "33914-3", "Glomerular filtration rate/1.73 sq M.predicted", "mL/min/{1.73_m2}", "laboratory"),
    (31, "1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", "laboratory"),
    (32, "1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", "laboratory"),
)
# (code field, text field, code list, Chinese name, English name, LOINC or None)
_R10_RESULTS = (
    (12, 13, "a", "血壓檢查結果", "Blood pressure result", None),
    (18, 19, "a", "血脂肪檢查結果", "Lipid result", None),
    (21, 22, "a", "血糖檢查結果", "Glucose result", None),
    (26, 27, "a", "腎功能檢查結果", "Renal function result", None),
    (29, 30, "a", "代謝症候群檢查結果", "Metabolic syndrome result", None),
    (33, 34, "a", "肝功能檢查結果", "Liver function result", None),
    (35, 36, "b", "B型肝炎表面抗原(HBsAg)", "Hepatitis B surface antigen", "5196-1"),
    (37, 38, "c", "B型肝炎檢查結果", "Hepatitis B result", None),
    (39, 40, "b", "C型肝炎抗體(Anti-HCV)", "Hepatitis C antibody", "16128-1"),
    (41, 42, "c", "C型肝炎檢查結果", "Hepatitis C result", None),
)
# programme follow-up values: (field, date field, LOINC or None, Chinese name, English name)
_PROGRAMMES = {
    "r12": ("糖尿病追蹤 (diabetes care programme)", (
        (5, 2, "8480-6", "收縮壓", "Systolic blood pressure"),
        (6, 2, "8462-4", "舒張壓", "Diastolic blood pressure"),
        (7, 3, "4548-4", "醣化血色素", "Hemoglobin A1c"),
        (8, 3, "2089-1", "低密度脂蛋白", "LDL cholesterol"),
        (9, 3, "1558-6", "飯前血糖值", "Fasting glucose"),
        (10, 3, "2160-0", "肌酸酐", "Creatinine"),
        (11, 3, "33914-3", "腎絲球率值", "eGFR"),
        (12, 3, "2571-8", "三酸甘油酯", "Triglycerides"),
        (13, 4, None, "尿液微量白蛋白", "Urine microalbumin"),
    )),
    "r13": ("初期慢性腎病追蹤 (early CKD programme)", (
        (3, 2, "8480-6", "收縮壓", "Systolic blood pressure"),
        (4, 2, "8462-4", "舒張壓", "Diastolic blood pressure"),
        (5, 2, "33914-3", "腎絲球濾過率值", "eGFR"),
        (6, 2, "2890-2", "尿蛋白及尿液肌酸酐比值", "Urine protein/creatinine ratio"),
        (7, 2, "2160-0", "血清肌酸酐", "Serum creatinine"),
        (8, 2, "2089-1", "低密度脂蛋白", "LDL cholesterol"),
        (9, 2, "4548-4", "糖化血色素", "Hemoglobin A1c"),
        (10, 2, None, "微量白蛋白", "Microalbumin"),
    )),
    "r14": ("BC肝炎追蹤 (hepatitis B/C programme)", (
        (3, 2, None, "肝炎類型", "Hepatitis type"),
        (4, 2, "5196-1", "HBsAg", "Hepatitis B surface antigen"),
        (5, 2, "13954-3", "HBeAg", "Hepatitis B e antigen"),
        (6, 2, "1920-8", "GOT", "AST"),
        (7, 2, "1742-6", "GPT", "ALT"),
        (8, 2, None, "腹部超音波檢查結果", "Abdominal ultrasound result"),
    )),
}  # fmt: skip
_R14_NINE_FIELDS = (
    *_PROGRAMMES["r14"][1][:3],
    (6, 2, "16128-1", "Anti-HCV", "Hepatitis C antibody"),
    *((number_ + 1, *rest) for number_, *rest in _PROGRAMMES["r14"][1][3:]),
)
"""r14_1 as laid out in both spec samples (9 fields), used when r14_1.9 is present."""
_SEVERITY = {"輕度": "mild", "中度": "moderate", "重度": "severe"}
_TYPE_RANK = {kind: rank for rank, kind in enumerate((
    "Patient", "Organization", "PractitionerRole", "EpisodeOfCare", "Encounter", "Condition", "Procedure",
    "MedicationRequest", "MedicationDispense", "AllergyIntolerance", "Immunization", "Observation",
    "DiagnosticReport", "Consent",
))}  # fmt: skip
_KNOWN_FIELDS = {name: frozenset(range(1, count + 1)) for name, count in _FIELD_COUNTS.items()} | {
    "r6": frozenset({1, 3, 5})
}


def to_bundle(document: MhbDocument) -> MhbConversion:
    """Map every section of a parsed download to one FHIR R4 collection Bundle."""
    return _Builder(document).build()


def _seed(row: dict) -> str:
    """Order-independent text of a row and its child rows, the basis of resource ids."""
    plain = {k: v for k, v in row.items() if isinstance(v, str)}
    children = {k: sorted(_seed(c) for c in v) for k, v in row.items() if isinstance(v, list)}
    return json.dumps([plain, children], sort_keys=True, ensure_ascii=False)


def _prune(value: object) -> object:
    """Drop None, empty dicts and empty lists, recursively (our own shallow structures only)."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [v for v in (_prune(v) for v in value) if v not in (None, {}, [])]
    return value


def _category(code_value: str) -> dict:
    return {"coding": [{"system": HL7_CS + "observation-category", "code": code_value}]}


def _phone(area: str | None, number_text: str | None) -> str | None:
    return "-".join(p for p in (area, number_text) if p) or None


class _Builder:
    """Collects resources while walking the sections; ``build`` assembles the Bundle."""

    def __init__(self, document: MhbDocument):
        self.document = document
        self.resources: dict[str, dict] = {}
        self.organizations: dict[str, dict[str, set[str]]] = {}
        self.lab_groups: dict[tuple[str, str, str], dict] = {}
        self.skipped: list[SkippedRow] = []
        self.notes = list(document.notes)
        self.unknown: set[tuple[str, str]] = set()
        self.dispensing_rows = 0
        self.seen_rows: set[str] = set()
        self.patient = self.add({
            "resourceType": "Patient",
            "id": self.id("Patient"),
            "gender": "unknown",
            "identifier": [{
                "system": LOCAL + "NamingSystem/mhb-masked-national-id",
                "value": document.masked_id,
                "type": {"text": "Masked national ID from My Health Bank (b1.1); not a usable identifier"},
            }] if document.masked_id else None,
        })  # fmt: skip

    # -- plumbing

    def id(self, *parts: str) -> str:
        """Deterministic resource id: uuid5 over the namespace, the masked ID and ``parts``."""
        return str(uuid.uuid5(NAMESPACE, "\x1f".join((self.document.masked_id or "", *parts))))

    def add(self, resource: dict) -> dict:
        self.resources[resource["id"]] = _prune(resource)
        return {"reference": f"urn:uuid:{resource['id']}"}

    def skip(self, section: str, index: int, reason: Note) -> None:
        self.skipped.append(SkippedRow(section, index, reason))

    def organization(self, raw_code: str | None, name: str | None, phone: str | None = None,
                     address: str | None = None) -> dict | None:
        """Reference to the facility: an Organization by facility code, else a display-only reference."""
        facility = code(raw_code)
        if facility is None:
            return {"display": name} if name else None
        info = self.organizations.setdefault(facility, {"name": set(), "phone": set(), "address": set()})
        for key, value in (("name", name), ("phone", phone), ("address", address)):
            if value:
                info[key].add(value)
        return {"reference": f"urn:uuid:{self.id('Organization', facility)}"}

    def note_unknown(self, section: str, row: dict) -> None:
        for key, value in row.items():
            if isinstance(value, list):
                for child in value:
                    self.note_unknown(key, child)
            elif not ((m := re.fullmatch(rf"{section}\.(\d+)", key)) and int(m[1]) in _KNOWN_FIELDS[section]):
                self.unknown.add((section, key))

    # -- sections

    def build(self) -> MhbConversion:
        handlers = {"r4": self.allergy, "r5": self.consent, "r6": self.immunization, "r7": self.lab,
                    "r8": self.imaging, "r10": self.checkup, "r11": self.screening}
        for section in SECTIONS:
            for index, row in enumerate(self.document.sections.get(section, [])):
                self.note_unknown(section, row)
                if section in _VISITS:
                    self.visit(section, index, row)
                elif section in _PROGRAMMES:
                    self.programme(section, index, row)
                else:
                    handlers[section](index, row)
        self.finish()
        entries = sorted(self.resources.values(), key=lambda r: (_TYPE_RANK[r["resourceType"]], r["id"]))
        bundle = {
            "resourceType": "Bundle",
            "id": self.id("Bundle", *sorted(self.resources)),
            "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in entries],
        }
        skipped = sorted(self.skipped, key=lambda s: (s.section, s.row_index, s.reason))
        return MhbConversion(bundle, skipped, self.notes)

    def finish(self) -> None:
        for facility, info in sorted(self.organizations.items()):
            names = sorted(info["name"])
            self.add({
                "resourceType": "Organization",
                "id": self.id("Organization", facility),
                "identifier": [{"system": TWCORE + "organization-identifier-tw", "value": facility}],
                "name": names[0] if names else None,
                "alias": names[1:],
                "telecom": [{"system": "phone", "value": p} for p in sorted(info["phone"])],
                "address": [{"text": a} for a in sorted(info["address"])],
            })  # fmt: skip
        for key, group in sorted(self.lab_groups.items()):
            self.add({**group, "id": self.id("DiagnosticReport", *key), "result": sorted(
                group["result"], key=lambda r: r["reference"])})
        if self.dispensing_rows:
            self.notes.append(Note(N_("%(count)d r1 dispensing row(s) became MedicationDispense; their diagnoses "
                                      "repeat the prescribing visit and were not imported again."),
                                   count=self.dispensing_rows))
        for section, key in sorted(self.unknown):
            self.notes.append(Note(N_("%(section)s: field %(field)s is not in the format reference; its values were "
                                      "not imported."), section=section, field=repr(key)))


    def first_time(self, section: str, index: int, row: dict, parent: tuple[str, int] | None = None) -> bool:
        """False (and the row reported) when an identical row of the section (under the same ``parent``
        section and row, for child rows) was already mapped."""
        key = f"{section}\x1f{parent}\x1f{_seed(row)}"
        if key in self.seen_rows:
            if parent is None:
                self.skip(section, index, Note(N_("identical to another row of the section")))
            else:
                self.skip(section, index, Note(N_("%(section)s row %(row)d: identical to another order row of the "
                                                  "same visit"), section=parent[0], row=parent[1]))
            return False
        self.seen_rows.add(key)
        return True

    def date(self, section: str, index: int, text: str | None) -> str | None:
        """FHIR date of ``text``; an unreadable date becomes None and a note."""
        value = fhir_date(text)
        if text and value is None:
            self.notes.append(Note(N_("%(section)s row %(row)d: %(value)s is not a valid date and was left out."),
                                   section=section, row=index, value=repr(text)))
        return value

    def visit(self, section: str, index: int, row: dict) -> None:
        layout = _VISITS[section]
        get = lambda n: row.get(f"{section}.{n}") if n else None
        if not self.first_time(section, index, row):
            return
        start, end = self.date(section, index, get(layout.start)), self.date(section, index, get(layout.end))
        dispensed = self.date(section, index, get(layout.dispensed))
        org = self.organization(get(layout.facility[0]), get(layout.facility[1]))
        if start is None and dispensed is not None:
            self.dispensing_rows += 1
            self.orders(section, index, row, layout, _OrderContext(None, dispensed, org, self.id(section, _seed(row))))
            return
        encounter_id = self.id("Encounter", section, _seed(row))
        context = _OrderContext({"reference": f"urn:uuid:{encounter_id}"}, start, org, encounter_id)
        diagnoses = self.diagnoses(section, row, layout, context)
        self.procedures(section, row, layout, context)
        self.add({
            "resourceType": "Encounter",
            "id": encounter_id,
            "status": "finished",
            "class": {"system": HL7_CS + "v3-ActCode", "code": layout.encounter_class,
                      "display": _ENCOUNTER_CLASS[layout.encounter_class]},
            "type": [{"text": layout.label}],
            "identifier": [{"system": LOCAL + "NamingSystem/nhi-card-visit-sequence",
                            "value": get(layout.sequence)}] if get(layout.sequence) else None,
            "subject": self.patient,
            "serviceProvider": org,
            "period": {"start": start, "end": end},
            "diagnosis": [{"condition": ref, "rank": rank} for rank, ref in enumerate(diagnoses, 1)],
        })  # fmt: skip
        self.orders(section, index, row, layout, context)

    def diagnoses(self, section: str, row: dict, layout: _Visit, context: _OrderContext) -> list[dict]:
        """One Condition per distinct diagnosis of the visit, principal first; returns their references."""
        refs, seen = [], set()
        for code_no, name_no in layout.diagnoses:
            raw, name = code(row.get(f"{section}.{code_no}")), row.get(f"{section}.{name_no}")
            key = raw or name
            if key is None or key in seen:
                continue
            seen.add(key)
            codings = diagnosis_codings(raw, _parsed_date(context.date)) if raw else []
            refs.append(self.add({
                "resourceType": "Condition",
                "id": self.id("Condition", context.parent_id, key),
                "category": [{"coding": [{"system": HL7_CS + "condition-category", "code": "encounter-diagnosis",
                                          "display": "Encounter Diagnosis"}]}],
                "code": concept(codings, name),
                "subject": self.patient,
                "encounter": context.encounter,
                "recordedDate": context.date,
            }))  # fmt: skip
        return refs

    def procedures(self, section: str, row: dict, layout: _Visit, context: _OrderContext) -> None:
        seen = set()
        for code_no, name_no in layout.procedures:
            raw, name = code(row.get(f"{section}.{code_no}")), row.get(f"{section}.{name_no}")
            key = raw or name
            if key is None or key in seen:
                continue
            seen.add(key)
            when = _parsed_date(context.date)
            codings = procedure_codings(raw, when, layout.treatment_codes) if raw else []
            self.procedure(self.id("Procedure", context.parent_id, key), concept(codings, name), context)

    def procedure(self, resource_id: str, code_concept: dict, context: _OrderContext,
                  body_site: dict | None = None) -> None:
        self.add({
            "resourceType": "Procedure",
            "id": resource_id,
            "status": "completed",
            "code": code_concept,
            "subject": self.patient,
            "encounter": context.encounter,
            "performedDateTime": context.date,
            "bodySite": [body_site] if body_site else None,
        })  # fmt: skip

    def orders(self, section: str, index: int, row: dict, layout: _Visit, context: _OrderContext) -> None:
        child_section = f"{section}_1"
        for position, child in enumerate(row.get(child_section, [])):
            get = lambda role: child.get(f"{child_section}.{layout.orders[role]}") if role in layout.orders else None  # noqa: B023
            raw, name = code(get("code")), get("name")
            resource_id = self.id("Order", context.parent_id, _seed(child))
            if not self.first_time(child_section, position, child, parent=(section, index)):
                continue
            system = order_system(raw) if raw else None
            if system is None and raw and get("tooth") and _FEE.fullmatch(raw):
                tooth = concept([{"system": LOCAL + "CodeSystem/mhb-tooth-position", "code": code(get("tooth"))}],
                                get("tooth_name"))
                fee = concept([{"system": TWCORE + "medical-service-payment-tw", "code": raw}], name)
                self.procedure(resource_id, fee, context, tooth)
            elif system is None:
                self.skip(child_section, position, _not_medication_reason(section, index, raw, name))
            elif context.encounter is None:
                self.dispense(resource_id, concept([{"system": system, "code": raw}], name), get, context)
            else:
                self.request(resource_id, concept([{"system": system, "code": raw}], name), get, context)

    def request(self, resource_id: str, medication: dict, get, context: _OrderContext) -> None:
        days = number(get("days"))
        quantity_value = number(get("quantity"))
        start, end = fhir_date(get("start")), fhir_date(get("end"))
        self.add({
            "resourceType": "MedicationRequest",
            "id": resource_id,
            "status": "completed",
            "intent": "order",
            "medicationCodeableConcept": medication,
            "subject": self.patient,
            "encounter": context.encounter,
            "authoredOn": start or context.date,
            "requester": context.organization,
            "dispenseRequest": {
                "quantity": quantity(quantity_value) if quantity_value is not None else None,
                "expectedSupplyDuration": quantity(days, "d") if days else None,
                "validityPeriod": {"start": start, "end": end},
            },
        })  # fmt: skip

    def dispense(self, resource_id: str, medication: dict, get, context: _OrderContext) -> None:
        days = number(get("days"))
        quantity_value = number(get("quantity"))
        self.add({
            "resourceType": "MedicationDispense",
            "id": resource_id,
            "status": "completed",
            "medicationCodeableConcept": medication,
            "subject": self.patient,
            "performer": [{"actor": context.organization}] if context.organization else None,
            "quantity": quantity(quantity_value) if quantity_value is not None else None,
            "daysSupply": quantity(days, "d") if days else None,
            "whenHandedOver": context.date,
        })  # fmt: skip

    def allergy(self, index: int, row: dict) -> None:
        get = lambda n: row.get(f"r4.{n}")
        if not self.first_time("r4", index, row):
            return
        org = self.organization(get(4), get(5), _phone(get(6), get(7)), get(8))
        recorder = None
        if org or get(3):
            recorder = self.add({
                "resourceType": "PractitionerRole",
                "id": self.id("PractitionerRole", json.dumps(org, sort_keys=True), get(3) or ""),
                "organization": org,
                "practitioner": {"display": get(3)} if get(3) else None,
            })  # fmt: skip
        severity = _SEVERITY.get(get(9) or "")
        manifestations = [{"text": text} for text in (get(10), get(11)) if text]
        notes = [f"嚴重程度 (severity): {get(9)}" if get(9) and not severity else None,
                 f"收載方式 (collection method): {get(12)}" if get(12) else None]
        self.add({
            "resourceType": "AllergyIntolerance",
            "id": self.id("AllergyIntolerance", _seed(row)),
            "clinicalStatus": {"coding": [{"system": HL7_CS + "allergyintolerance-clinical", "code": "active"}]},
            "category": ["medication"],
            "code": {"text": get(2)},
            "patient": self.patient,
            "recordedDate": self.date("r4", index, get(1)),
            "recorder": recorder,
            "reaction": [{"manifestation": manifestations, "severity": severity}] if manifestations else None,
            "note": [{"text": text} for text in notes if text],
        })  # fmt: skip
        if severity and not manifestations:
            self.notes.append(Note(N_("r4 row %(row)d: severity %(value)s has no symptom to attach to and was left "
                                      "out."), row=index, value=repr(get(9))))

    def consent(self, index: int, row: dict) -> None:
        get = lambda n: row.get(f"r5.{n}")
        if not self.first_time("r5", index, row):
            return
        wish_code = code(get(2))
        self.add({
            "resourceType": "Consent",
            "id": self.id("Consent", _seed(row)),
            "status": "active",
            "scope": {"coding": [{"system": HL7_CS + "consentscope", "code": "adr",
                                  "display": "Advanced Care Directive"}]},
            "category": [{
                "coding": [{"system": HL7_CS + "consentcategorycodes", "code": "acd", "display": "Advance Directive"},
                           {"system": LOCAL + "CodeSystem/mhb-wish-code", "code": wish_code} if wish_code else None],
                "text": get(3),
            }],
            "patient": self.patient,
            "dateTime": self.date("r5", index, get(1)),
            "policyRule": {"text": "健保卡註記 (wish registered on the NHI card)"},
        })  # fmt: skip

    def immunization(self, index: int, row: dict) -> None:
        get = lambda n: row.get(f"r6.{n}")
        when = self.date("r6", index, get(1))
        if when is None:
            self.skip("r6", index, Note(N_("vaccination without a valid date (r6.1)")))
            return
        if not self.first_time("r6", index, row):
            return
        unknown = {"coding": [{"system": HL7_CS + "data-absent-reason", "code": "unknown"}]}
        self.add({
            "resourceType": "Immunization",
            "id": self.id("Immunization", _seed(row)),
            "status": "completed",
            "vaccineCode": {"text": get(3)} if get(3) else unknown,
            "patient": self.patient,
            "occurrenceDateTime": when,
            "performer": [{"actor": {"display": get(5)}}] if get(5) else None,
        })  # fmt: skip

    def observation(self, resource_id: str, code_concept: dict, value: dict, when: str | None,
                    category: dict | None, **extra: object) -> dict:
        """Add an Observation (final); without a value it carries dataAbsentReason."""
        absent = {"coding": [{"system": HL7_CS + "data-absent-reason", "code": "unknown"}]}
        return self.add({
            "resourceType": "Observation",
            "id": resource_id,
            "status": "final",
            "category": [category] if category else None,
            "code": code_concept,
            "subject": self.patient,
            "effectiveDateTime": when,
            **(value or {"dataAbsentReason": absent}),
            **extra,
        })  # fmt: skip

    def lab(self, index: int, row: dict) -> None:
        get = lambda n: row.get(f"r7.{n}")
        raw, label = code(get(8)), get(10) or get(9)
        if raw is None and label is None:
            self.skip("r7", index, Note(N_("lab result without a test code or name")))
            return
        if not self.first_time("r7", index, row):
            return
        org = self.organization(get(3), get(4))
        when = self.date("r7", index, get(6)) or self.date("r7", index, get(5))
        fee = [{"system": TWCORE + "medical-service-payment-tw", "code": raw, "display": get(9)}] if raw else []
        ref = self.observation(
            self.id("Observation", _seed(row)), concept(fee, label), observation_value(get(11)), when,
            _category("laboratory"), issued=fhir_instant(get(7)), performer=[org] if org else None,
            referenceRange=reference_range(get(12)),
        )
        if raw:
            group = self.lab_groups.setdefault((code(get(3)) or "", raw, when or ""), {
                "resourceType": "DiagnosticReport", "status": "final",
                "category": [{"coding": [{"system": HL7_CS + "v2-0074", "code": "LAB"}]}],
                "code": concept(fee[:1], get(9)), "subject": self.patient, "effectiveDateTime": when,
                "performer": [org] if org else None, "result": [],
            })  # fmt: skip
            group["result"].append(ref)

    def imaging(self, index: int, row: dict) -> None:
        get = lambda n: row.get(f"r8.{n}")
        if not self.first_time("r8", index, row):
            return
        raw = code(get(8))
        org = self.organization(get(3), get(4))
        kind = "PAT" if raw and raw.startswith("25") else "RAD"
        fee = [{"system": TWCORE + "medical-service-payment-tw", "code": raw}] if raw else []
        self.add({
            "resourceType": "DiagnosticReport",
            "id": self.id("DiagnosticReport", _seed(row)),
            "status": "final",
            "category": [{"coding": [{"system": HL7_CS + "v2-0074", "code": kind}]}],
            "code": concept(fee, get(9)) if (fee or get(9)) else {"text": "影像或病理檢查報告 (imaging or pathology report)"},
            "subject": self.patient,
            "effectiveDateTime": self.date("r8", index, get(6)) or self.date("r8", index, get(5)),
            "issued": fhir_instant(get(7)),
            "performer": [org] if org else None,
            "conclusion": get(10),
        })  # fmt: skip

    def checkup(self, index: int, row: dict) -> None:
        get = lambda n: row.get(f"r10.{n}")
        if not self.first_time("r10", index, row):
            return
        org = self.organization(get(1), get(2), _phone(get(3), get(4)))
        when, report_id = self.date("r10", index, get(5)), self.id("DiagnosticReport", "r10", _seed(row))
        results = [ref for field_no, *spec in _R10_MEASURES
                   if (ref := self.measure(index, report_id, field_no, get(field_no), when, *spec))]
        waist = number(get(9))
        if waist:
            unit = "[in_i]" if waist < 60 else "cm"
            results.append(self.observation(
                self.id("Observation", report_id, "r10.9"),
                concept([{"system": LOINC, "code": "8280-0", "display": "Waist Circumference at umbilicus"}], "腰圍"),
                {"valueQuantity": quantity(waist, unit)}, when, _category("vital-signs"),
                note=[{"text": "Unit inferred from the value (< 60 inches, otherwise cm); the file does not say."}],
            ))  # fmt: skip
        if get(28):
            results.append(self.observation(
                self.id("Observation", report_id, "r10.28"),
                concept([{"system": LOINC, "code": "20454-5", "display": "Protein [Presence] in Urine by Test strip"}],
                        "尿液蛋白質"),
                {"valueString": get(28)}, when, _category("laboratory"),
            ))  # fmt: skip
        results += [self.result_code(report_id, when, get(c), get(t), *spec) for c, t, *spec in _R10_RESULTS
                    if get(c) or get(t)]
        self.add({
            "resourceType": "DiagnosticReport",
            "id": report_id,
            "status": "final",
            "code": {"text": "成人預防保健 (adult preventive health check)"},
            "subject": self.patient,
            "effectiveDateTime": when,
            "performer": [org] if org else None,
            "result": results,
        })  # fmt: skip

    def measure(self, index: int, report_id: str, field_no: int, text: str | None, when: str | None,
                loinc: str, display: str, unit: str, category: str) -> dict | None:
        value = number(text)
        if text is None:
            return None
        if value == 0:
            self.skip("r10", index, Note(N_("r10.%(field)d is 0: taken as not measured"), field=field_no))
            return None
        value_part = {"valueQuantity": quantity(value, unit)} if value is not None else {"valueString": text}
        return self.observation(self.id("Observation", report_id, f"r10.{field_no}"),
                                concept([{"system": LOINC, "code": loinc, "display": display}], None),
                                value_part, when, _category(category))

    def result_code(self, report_id: str, when: str | None, result: str | None, text: str | None,
                    code_list: str, chinese: str, english: str, loinc: str | None) -> dict:
        codings = [{"system": LOCAL + "CodeSystem/mhb-r10-field", "code": english.lower().replace(" ", "-")}]
        if loinc:
            codings.insert(0, {"system": LOINC, "code": loinc, "display": english})
        answer = [{"system": f"{LOCAL}CodeSystem/mhb-r10-result-list-{code_list}", "code": code(result)}]
        return self.observation(
            self.id("Observation", report_id, english), concept(codings, chinese),
            {"valueCodeableConcept": concept(answer if result else [], text)}, when, _category("exam"),
        )

    def screening(self, index: int, row: dict) -> None:
        get = lambda n: row.get(f"r11.{n}")
        results = row.get("r11_1", [])
        if not results:
            self.skip("r11", index, Note(N_("screening type without results (no r11_1 rows)")))
            return
        if not self.first_time("r11", index, row):
            return
        parent = self.id("r11", _seed(row))
        for position, child in enumerate(results):
            value = child.get("r11_1.3")
            self.observation(
                self.id("Observation", parent, _seed(child)),
                {"text": get(2) or get(1) or "癌症篩檢 (cancer screening)"},
                {"valueString": value} if value else {}, fhir_date(child.get("r11_1.1")),
                {"text": get(1)} if get(1) else None,
                performer=[{"display": child["r11_1.2"]}] if child.get("r11_1.2") else None,
                note=[{"text": child["r11_1.4"]}] if child.get("r11_1.4") else None,
            )

    def programme(self, section: str, index: int, row: dict) -> None:
        get = lambda n: row.get(f"{section}.{n}")
        if not self.first_time(section, index, row):
            return
        label, values = _PROGRAMMES[section]
        start, end = self.date(section, index, get(1)), self.date(section, index, get(3))
        episode = self.add({
            "resourceType": "EpisodeOfCare",
            "id": self.id("EpisodeOfCare", section, _seed(row)),
            "status": "finished" if end else "active",
            "type": [{"text": label}],
            "patient": self.patient,
            "managingOrganization": {"display": get(2)} if get(2) else None,
            "period": {"start": start, "end": end},
        })  # fmt: skip
        for position, child in enumerate(row.get(f"{section}_1", [])):
            if section == "r14" and child.get("r14_1.9"):
                self.notes.append(Note(N_("r14 row %(row)d, r14_1 row %(child)d: nine fields; r14_1.6 read as "
                                          "anti-HCV."), row=index, child=position))
                self.follow_up(section, episode, child, label, _R14_NINE_FIELDS)
            else:
                self.follow_up(section, episode, child, label, values)

    def follow_up(self, section: str, episode: dict, child: dict, label: str, values: tuple) -> None:
        get = lambda n: child.get(f"{section}_1.{n}")
        encounter_id = self.id("Encounter", episode["reference"], _seed(child))
        encounter = self.add({
            "resourceType": "Encounter",
            "id": encounter_id,
            "status": "finished",
            "class": {"system": HL7_CS + "v3-ActCode", "code": "AMB", "display": "ambulatory"},
            "type": [{"text": get(1) or label}],
            "subject": self.patient,
            "episodeOfCare": [episode],
            "period": {"start": fhir_date(get(2))},
        })  # fmt: skip
        for field_no, date_no, loinc, chinese, english in values:
            text = get(field_no)
            if text is None:
                continue
            value = number(text)
            codings = [{"system": LOINC, "code": loinc, "display": english}] if loinc else []
            self.observation(
                self.id("Observation", encounter_id, str(field_no)), concept(codings, f"{chinese} ({english})"),
                {"valueQuantity": quantity(value)} if value is not None else {"valueString": text},
                fhir_date(get(date_no)) or fhir_date(get(2)), None, encounter=encounter,
            )


@dataclass(frozen=True)
class _OrderContext:
    """Where order rows of one visit row attach: its Encounter (None for dispensing rows) and date."""

    encounter: dict | None
    date: str | None
    organization: dict | None
    parent_id: str
