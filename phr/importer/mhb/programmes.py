"""r12–r14 care programmes (diabetes, early CKD, hepatitis B/C) → EpisodeOfCare, Encounter, Observation."""
from __future__ import annotations

from phr.importer.fhir import HL7_CS
from phr.labels import N_

from .builder import Builder, seed
from .document import Note
from .values import LOINC, concept, fhir_date, number, quantity

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


def map_row(b: Builder, section: str, index: int, row: dict) -> None:
    get = lambda n: row.get(f"{section}.{n}")
    if not b.first_time(section, index, row):
        return
    label, values = _PROGRAMMES[section]
    start, end = b.date(section, index, get(1)), b.date(section, index, get(3))
    episode = b.add({
        "resourceType": "EpisodeOfCare",
        "id": b.id("EpisodeOfCare", section, seed(row)),
        "status": "finished" if end else "active",
        "type": [{"text": label}],
        "patient": b.patient,
        "managingOrganization": {"display": get(2)} if get(2) else None,
        "period": {"start": start, "end": end},
    })  # fmt: skip
    for position, child in enumerate(row.get(f"{section}_1", [])):
        if section == "r14" and child.get("r14_1.9"):
            b.notes.append(Note(N_("r14 row %(row)d, r14_1 row %(child)d: nine fields; r14_1.6 read as "
                                   "anti-HCV."), row=index, child=position))
            _follow_up(b, section, episode, child, label, _R14_NINE_FIELDS)
        else:
            _follow_up(b, section, episode, child, label, values)


def _follow_up(b: Builder, section: str, episode: dict, child: dict, label: str, values: tuple) -> None:
    get = lambda n: child.get(f"{section}_1.{n}")
    encounter_id = b.id("Encounter", episode["reference"], seed(child))
    encounter = b.add({
        "resourceType": "Encounter",
        "id": encounter_id,
        "status": "finished",
        "class": {"system": HL7_CS + "v3-ActCode", "code": "AMB", "display": "ambulatory"},
        "type": [{"text": get(1) or label}],
        "subject": b.patient,
        "episodeOfCare": [episode],
        "period": {"start": fhir_date(get(2))},
    })  # fmt: skip
    for field_no, date_no, loinc, chinese, english in values:
        text = get(field_no)
        if text is None:
            continue
        value = number(text)
        codings = [{"system": LOINC, "code": loinc, "display": english}] if loinc else []
        b.observation(
            b.id("Observation", encounter_id, str(field_no)), concept(codings, f"{chinese} ({english})"),
            {"valueQuantity": quantity(value)} if value is not None else {"valueString": text},
            fhir_date(get(date_no)) or fhir_date(get(2)), None, encounter=encounter,
        )
