"""r10 adult preventive health checks → a DiagnosticReport of measurements and result codes."""
from __future__ import annotations

from phr.labels import N_

from .builder import Builder, category, phone, seed
from .document import Note
from .values import LOCAL, LOINC, code, concept, number, quantity

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


def map_row(b: Builder, section: str, index: int, row: dict) -> None:
    get = lambda n: row.get(f"r10.{n}")
    if not b.first_time("r10", index, row):
        return
    org = b.organization(get(1), get(2), phone(get(3), get(4)))
    when, report_id = b.date("r10", index, get(5)), b.id("DiagnosticReport", "r10", seed(row))
    results = [ref for field_no, *spec in _R10_MEASURES
               if (ref := _measure(b, index, report_id, field_no, get(field_no), when, *spec))]
    waist = number(get(9))
    if waist:
        unit = "[in_i]" if waist < 60 else "cm"
        results.append(b.observation(
            b.id("Observation", report_id, "r10.9"),
            concept([{"system": LOINC, "code": "8280-0", "display": "Waist Circumference at umbilicus"}], "腰圍"),
            {"valueQuantity": quantity(waist, unit)}, when, category("vital-signs"),
            note=[{"text": "Unit inferred from the value (< 60 inches, otherwise cm); the file does not say."}],
        ))  # fmt: skip
    if get(28):
        results.append(b.observation(
            b.id("Observation", report_id, "r10.28"),
            concept([{"system": LOINC, "code": "20454-5", "display": "Protein [Presence] in Urine by Test strip"}],
                    "尿液蛋白質"),
            {"valueString": get(28)}, when, category("laboratory"),
        ))  # fmt: skip
    results += [_result_code(b, report_id, when, get(c), get(t), *spec) for c, t, *spec in _R10_RESULTS
                if get(c) or get(t)]
    b.add({
        "resourceType": "DiagnosticReport",
        "id": report_id,
        "status": "final",
        "code": {"text": "成人預防保健 (adult preventive health check)"},
        "subject": b.patient,
        "effectiveDateTime": when,
        "performer": [org] if org else None,
        "result": results,
    })  # fmt: skip


def _measure(b: Builder, index: int, report_id: str, field_no: int, text: str | None, when: str | None,
             loinc: str, display: str, unit: str, category_code: str) -> dict | None:
    value = number(text)
    if text is None:
        return None
    if value == 0:
        b.skip("r10", index, Note(N_("r10.%(field)d is 0: taken as not measured"), field=field_no))
        return None
    value_part = {"valueQuantity": quantity(value, unit)} if value is not None else {"valueString": text}
    return b.observation(b.id("Observation", report_id, f"r10.{field_no}"),
                         concept([{"system": LOINC, "code": loinc, "display": display}], None),
                         value_part, when, category(category_code))


def _result_code(b: Builder, report_id: str, when: str | None, result: str | None, text: str | None,
                 code_list: str, chinese: str, english: str, loinc: str | None) -> dict:
    codings = [{"system": LOCAL + "CodeSystem/mhb-r10-field", "code": english.lower().replace(" ", "-")}]
    if loinc:
        codings.insert(0, {"system": LOINC, "code": loinc, "display": english})
    answer = [{"system": f"{LOCAL}CodeSystem/mhb-r10-result-list-{code_list}", "code": code(result)}]
    return b.observation(
        b.id("Observation", report_id, english), concept(codings, chinese),
        {"valueCodeableConcept": concept(answer if result else [], text)}, when, category("exam"),
    )
