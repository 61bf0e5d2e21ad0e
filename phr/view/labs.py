"""Results (Observations) with their reference ranges and abnormal flags, and narrative reports."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from ..labels import N_
from .fhir import (
    Source,
    _coded,
    _codings,
    _concept_text,
    _date_text,
    _desc,
    _dict,
    _join,
    _latest,
    _list,
    _num_text,
    _number,
    _quantity_text,
    _str,
)

FLAG_LABELS = MappingProxyType({"high": N_("High"), "low": N_("Low"), "abnormal": N_("Abnormal")})
"""Result flags and their labels: the viewer shows the words, not only a colour."""
_REPORT_CATEGORIES = {"RAD": N_("Imaging"), "PAT": N_("Pathology"), "SP": N_("Pathology"), "CP": N_("Pathology"),
                      "LAB": N_("Laboratory"), "CT": N_("Imaging"), "US": N_("Imaging"), "NMR": N_("Imaging"),
                      "CUS": N_("Imaging"), "RUS": N_("Imaging")}  # fmt: skip
_OBSERVATION_CATEGORIES = {"laboratory": N_("Laboratory"), "vital-signs": N_("Vital signs"), "exam": N_("Examination"),
                           "imaging": N_("Imaging"), "survey": N_("Survey"), "social-history": N_("Social history"),
                           "procedure": N_("Procedure"), "therapy": N_("Therapy"),
                           "activity": N_("Activity")}  # fmt: skip
_ABNORMAL = {"H": "high", "HH": "high", "HU": "high", ">": "high", "L": "low", "LL": "low", "LU": "low", "<": "low",
             "A": "abnormal", "AA": "abnormal", "POS": "abnormal", "DET": "abnormal", "R": "abnormal"}  # fmt: skip


@dataclass(frozen=True)
class Lab:
    """A result (Observation). ``value`` includes comparator and unit ("< 0.5 mg/dL"); ``range`` is the
    reference range as text. ``abnormal`` when the lab says so or the value lies outside a numeric range;
    ``flag`` is then "high", "low" or "abnormal"."""

    key: str
    name: str
    code: str | None
    system: str | None
    category: str | None
    panel: str | None
    value: str
    range: str | None
    date: str | None
    facility: str | None
    abnormal: bool
    flag: str | None
    flag_label: str | None
    record_id: str | None = None
    author: str | None = None
    sort_key: tuple = ()


@dataclass(frozen=True)
class Report:
    """An imaging, pathology or other narrative report (DiagnosticReport with a conclusion or no results)."""

    key: str
    name: str
    code: str | None
    system: str | None
    category: str
    date: str | None
    issued: str | None
    facility: str | None
    conclusion: str | None
    record_id: str | None = None
    author: str | None = None


def read_labs_and_reports(src: Source, programme_encounters: set[str]) -> tuple[list[Lab], list[Report]]:
    """Results latest first (not those of programme follow-ups) and the reports with a conclusion or no results."""
    panels: dict[str, str] = {}
    reports = []
    for key, report in src.visible("DiagnosticReport"):
        results = [k for ref in _list(report.get("result")) if (k := src.index.key_of(ref, report))]
        if _str(report.get("conclusion")) or _list(report.get("conclusionCode")) or not results:
            reports.append(report_of(src, key, report))
        name = _concept_text(report.get("code"))
        for result in results:
            panels.setdefault(result, name or "")
    labs = []
    for key, observation in src.visible("Observation"):
        if src.index.key_of(observation.get("encounter"), observation) in programme_encounters:
            continue
        labs.append(lab_of(src, key, observation, panels.get(key) or None))
    labs.sort(key=lambda lab: lab.sort_key)
    return labs, _latest(reports, lambda r: r.date)


def lab_of(src: Source, key: str, observation: dict, panel: str | None) -> Lab:
    """One result: value, reference range and flag (the lab's interpretation, else the numeric range)."""
    code, system, name = _coded(observation.get("code"))
    categories = [c for cat in _list(observation.get("category")) for c in _codings(cat)]
    category = next((_OBSERVATION_CATEGORIES.get(_str(c.get("code")) or "") for c in categories
                     if _str(c.get("code")) in _OBSERVATION_CATEGORIES), None)  # fmt: skip
    category = category or next(
        (t for cat in _list(observation.get("category")) if (t := _concept_text(cat))), None)
    value, number, unit, comparator = _value(observation)
    if not value and _list(observation.get("component")):
        value = _join((f"{_concept_text(_dict(c).get('code')) or ''}: {_value(_dict(c))[0] or '—'}"
                       for c in _list(observation.get("component"))), "; ") or ""  # fmt: skip
    ranges = [_dict(r) for r in _list(observation.get("referenceRange"))]
    range_text = _join(_range_text(r) for r in ranges)
    flag = _interpretation_flag(observation)
    if flag is None and number is not None:
        flag = next((f for r in ranges if (f := _outside(number, comparator, unit, r))), None)
    flag = None if flag == "normal" else flag
    when = _date_text(observation.get("effectiveDateTime")) or \
        _date_text(_dict(observation.get("effectivePeriod")).get("start")) or \
        _date_text(observation.get("effectiveInstant")) or _date_text(observation.get("issued"))  # fmt: skip
    facility = _join(src.index.party(p, observation) for p in _list(observation.get("performer")))
    return Lab(key, name, code, system, category, panel, value or "", range_text, when, facility,
               flag is not None, flag, FLAG_LABELS.get(flag or ""),
               sort_key=(_desc(when or ""), panel or "", name, key), **src.tag())


def report_of(src: Source, key: str, report: dict) -> Report:
    """One narrative report with its category and conclusion."""
    code, system, name = _coded(report.get("code"))
    category_codes = [_str(c.get("code")) for cat in _list(report.get("category")) for c in _codings(cat)]
    category = next((_REPORT_CATEGORIES[c] for c in category_codes if c in _REPORT_CATEGORIES), None)
    category = category or next((t for cat in _list(report.get("category")) if (t := _concept_text(cat))), None)
    conclusion = _join([_str(report.get("conclusion")),
                        *[_concept_text(c) for c in _list(report.get("conclusionCode"))]], "\n")  # fmt: skip
    when = _date_text(report.get("effectiveDateTime")) or \
        _date_text(_dict(report.get("effectivePeriod")).get("start")) or \
        _date_text(report.get("issued"))  # fmt: skip
    facility = _join(src.index.party(p, report) for p in _list(report.get("performer")))
    return Report(key, name, code, system, category or N_("Report"), when, _date_text(report.get("issued")),
                  facility, conclusion, **src.tag())


def _value(item: dict) -> tuple[str | None, float | None, str | None, str | None]:
    """(display text, number, unit code, comparator) of an Observation/component value."""
    quantity = _dict(item.get("valueQuantity"))
    if quantity:
        number = _number(quantity.get("value"))
        unit = _str(quantity.get("code")) or _str(quantity.get("unit"))
        return _quantity_text(quantity), float(number) if number is not None else None, unit, \
            _str(quantity.get("comparator"))  # fmt: skip
    if (text := _str(item.get("valueString"))) is not None:
        return text, None, None, None
    if "valueCodeableConcept" in item:
        return _concept_text(item.get("valueCodeableConcept")), None, None, None
    if isinstance(item.get("valueBoolean"), bool):
        return ("true" if item["valueBoolean"] else "false"), None, None, None
    if (number := _number(item.get("valueInteger"))) is not None:
        return _num_text(number), float(number), None, None
    if value_range := _dict(item.get("valueRange")):
        return _join([_quantity_text(_dict(value_range.get("low"))), _quantity_text(_dict(value_range.get("high")))],
                     " – "), None, None, None  # fmt: skip
    if ratio := _dict(item.get("valueRatio")):
        return _join([_quantity_text(_dict(ratio.get("numerator"))), _quantity_text(_dict(ratio.get("denominator")))],
                     " / "), None, None, None  # fmt: skip
    for name in ("valueDateTime", "valueTime"):
        if text := _str(item.get(name)):
            return text, None, None, None
    if period := _dict(item.get("valuePeriod")):
        return _join([_date_text(period.get("start")), _date_text(period.get("end"))], " – "), None, None, None
    if absent := _concept_text(item.get("dataAbsentReason")):
        return f"({absent})", None, None, None
    return None, None, None, None


def _range_text(ref: dict) -> str | None:
    if text := _str(ref.get("text")):
        return text
    low, high = _quantity_text(_dict(ref.get("low"))), _quantity_text(_dict(ref.get("high")))
    if low and high:
        return f"{low} – {high}"
    if low:
        return f"≥ {low}"
    if high:
        return f"≤ {high}"
    return None


def _interpretation_flag(observation: dict) -> str | None:
    codes = [(_str(c.get("code")) or "").upper() for i in _list(observation.get("interpretation")) for c in _codings(i)]
    if not codes:
        return None
    for code in codes:
        if code in _ABNORMAL:
            return _ABNORMAL[code]
    return "normal" if "N" in codes else None


def _outside(value: float, comparator: str | None, unit: str | None, ref: dict) -> str | None:
    """"high"/"low" when the whole possible value lies outside the numeric range, "normal" inside, else None."""
    low_q, high_q = _dict(ref.get("low")), _dict(ref.get("high"))
    low, high = _number(low_q.get("value")), _number(high_q.get("value"))
    if low is None and high is None:
        return None
    for bound in (low_q, high_q):
        bound_unit = _str(bound.get("code")) or _str(bound.get("unit"))
        if bound_unit and unit and bound_unit != unit:
            return None
    below = {None: lambda lo: value < lo, "<": lambda lo: value <= lo, "<=": lambda lo: value < lo}
    above = {None: lambda hi: value > hi, ">": lambda hi: value >= hi, ">=": lambda hi: value > hi}
    if low is not None and comparator in below and below[comparator](float(low)):
        return "low"
    if high is not None and comparator in above and above[comparator](float(high)):
        return "high"
    if comparator is None:
        return "normal"
    return None
