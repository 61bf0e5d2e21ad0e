"""Value conversion for My Health Bank fields: dates, numbers, codes and their FHIR code systems."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

TWCORE = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/"
LOCAL = "https://phr.invalid/fhir/"
"""Project-local URI prefix for code systems and identifiers that have no public URI."""
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM_US = "http://hl7.org/fhir/sid/icd-10-cm"
ICD9CM = "http://hl7.org/fhir/sid/icd-9-cm"

ICD_CUTOVER = date(2016, 1, 1)
"""Taiwan NHI claims moved from ICD-9-CM to ICD-10-CM/PCS on this date."""
ICD10_EDITIONS = ((date(2016, 1, 1), "2014"), (date(2021, 1, 1), "2021"), (date(2023, 1, 1), "2023"))
"""(first service date, TW edition). The 2021/2023 cutover dates are assumptions: confirm with NHI."""


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


def parsed_date(iso: str | None) -> date | None:
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
    if FEE_CODE.fullmatch(raw):
        return [{"system": TWCORE + "medical-service-payment-tw", "code": raw}]
    if not treatment and when is not None and when < ICD_CUTOVER and re.fullmatch(r"\d{2}(\.?\d{1,2})?", raw):
        return [{"system": ICD9CM, "code": _dotted(raw, 2)}]
    if not treatment and re.fullmatch(r"[0-9A-HJ-NP-Z]{7}", raw):
        return [{"system": f"{TWCORE}icd-10-pcs-{_edition(when)}-tw", "code": raw}]
    return [{"system": LOCAL + "CodeSystem/mhb-procedure-code", "code": raw}]


_DRUG = re.compile(r"[A-Z][A-Z0-9]\d{8}")
_HERB = re.compile(r"[A-Z]\d{6}")
FEE_CODE = re.compile(r"[A-Z0-9]\d{4}[A-Z]")


def order_system(raw: str) -> str | None:
    """Code system of a medication order code, or None when the row is not a medication."""
    if _DRUG.fullmatch(raw):
        return TWCORE + "medication-nhi-tw"
    if _HERB.fullmatch(raw):
        return TWCORE + "nhi-medication-ch-herb-tw"
    return None


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

