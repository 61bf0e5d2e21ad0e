"""PHR viewer: a canonical FHIR R4 Bundle → a ready-to-render view model.

Plain functions, no Flask. ``build_view`` turns one stored record (the
``collection`` Bundle made by ``phr.importer``) into frozen dataclasses whose
fields are display strings, ISO dates and flags, so the Jinja partials in
``templates/records/`` only loop and print. ``merge_views`` joins the views of
several records into one patient timeline; ``item_keys`` lists what a patient
can tag as "do not reveal".

Hiding (``hidden``: entry fullUrls) cascades: a hidden Encounter hides every
resource recorded in it (diagnoses, procedures, medications, results), a hidden
EpisodeOfCare hides its follow-up encounters, a hidden DiagnosticReport hides
its results and a hidden Medication hides the orders naming it. Hidden items
appear nowhere in the view, not in counts, not in the date range.

Reason fields (``reasonCode``/``reasonReference``) are never shown: they often
repeat a diagnosis text, which would leak a hidden diagnosis.

The input is any bundle that passed ``phr.importer.fhir.validate_bundle``; every
optional field may be missing, so all access goes through the small ``_str`` /
``_dict`` / ``_list`` helpers and nothing here indexes blindly.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType

from .labels import N_

__all__ = [
    "Allergy", "Consent", "Diagnosis", "FollowUp", "Immunization", "Lab", "Medication", "PatientSummary",
    "Procedure", "Programme", "RecordView", "Report", "Visit", "build_view", "item_keys", "merge_views",
]  # fmt: skip


TWCORE = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/"
LOCAL = "https://phr.invalid/fhir/"
HL7_CS = "http://terminology.hl7.org/CodeSystem/"

FULFIL_WINDOW_DAYS = 10
"""A dispensing this many days or fewer after a prescription of the same drug, quantity and supply is
taken as the filling of that prescription (a Taiwan chronic/released prescription), not a second supply."""

KIND_LABELS = MappingProxyType({
    "western": N_("Western-medicine outpatient"),
    "chinese": N_("Chinese-medicine outpatient"),
    "dental": N_("Dental outpatient"),
    "inpatient": N_("Inpatient stay"),
    "programme": N_("Care-programme follow-up"),
    "emergency": N_("Emergency"),
    "outpatient": N_("Outpatient"),
    "other": N_("Visit"),
})
"""Visit kinds and their (English, translatable) labels."""

FLAG_LABELS = MappingProxyType({"high": N_("High"), "low": N_("Low"), "abnormal": N_("Abnormal")})
"""Result flags and their labels: the viewer shows the words, not only a colour."""
SOURCE_LABELS = MappingProxyType({
    "MedicationRequest": N_("Prescribed"),
    "MedicationDispense": N_("Dispensed"),
    "MedicationStatement": N_("Reported"),
})
_REPORT_CATEGORIES = {"RAD": N_("Imaging"), "PAT": N_("Pathology"), "SP": N_("Pathology"), "CP": N_("Pathology"),
                      "LAB": N_("Laboratory"), "CT": N_("Imaging"), "US": N_("Imaging"), "NMR": N_("Imaging"),
                      "CUS": N_("Imaging"), "RUS": N_("Imaging")}  # fmt: skip
_OBSERVATION_CATEGORIES = {"laboratory": N_("Laboratory"), "vital-signs": N_("Vital signs"), "exam": N_("Examination"),
                           "imaging": N_("Imaging"), "survey": N_("Survey"), "social-history": N_("Social history"),
                           "procedure": N_("Procedure"), "therapy": N_("Therapy"),
                           "activity": N_("Activity")}  # fmt: skip

# (system prefix or exact URI, label) — first match wins
_SYSTEM_LABELS = (
    (TWCORE + "icd-10-cm", "ICD-10-CM"),
    (TWCORE + "icd-10-pcs", "ICD-10-PCS"),
    (TWCORE + "icd-9-cm", "ICD-9-CM"),
    (TWCORE + "medication-nhi-tw", "NHI drug"),
    (TWCORE + "nhi-medication-ch-herb-tw", "NHI herbal"),
    (TWCORE + "medical-service-payment-tw", "NHI fee"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "ICD-10-CM"),
    ("http://hl7.org/fhir/sid/icd-10", "ICD-10"),
    ("http://hl7.org/fhir/sid/icd-9-cm", "ICD-9-CM"),
    ("http://www.icd10data.com/icd10pcs", "ICD-10-PCS"),
    ("http://loinc.org", "LOINC"),
    ("http://snomed.info/sct", "SNOMED CT"),
    ("http://www.nlm.nih.gov/research/umls/rxnorm", "RxNorm"),
    ("http://www.whocc.no/atc", "ATC"),
    ("http://hl7.org/fhir/sid/cvx", "CVX"),
    ("http://unitsofmeasure.org", "UCUM"),
    (LOCAL + "CodeSystem/mhb-procedure-code", "MHB"),
    (LOCAL + "CodeSystem/mhb-diagnosis-code", "MHB"),
    (LOCAL + "CodeSystem/mhb-tooth-position", "FDI tooth"),
    (LOCAL + "CodeSystem/mhb-", "MHB"),
)
_NO_CODE_SYSTEMS = (HL7_CS + "data-absent-reason",)
_PREFERRED_DRUG_SYSTEMS = (TWCORE + "medication-nhi-tw", TWCORE + "nhi-medication-ch-herb-tw")
_ABNORMAL = {"H": "high", "HH": "high", "HU": "high", ">": "high", "L": "low", "LL": "low", "LU": "low", "<": "low",
             "A": "abnormal", "AA": "abnormal", "POS": "abnormal", "DET": "abnormal", "R": "abnormal"}  # fmt: skip
_DAYS_PER_UNIT = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30, "h": 1 / 24}
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MASKED_ID_SYSTEM = LOCAL + "NamingSystem/mhb-masked-national-id"
_TAGGABLE = ("Encounter", "Condition", "Procedure", "MedicationRequest", "MedicationDispense", "MedicationStatement",
             "AllergyIntolerance", "Immunization", "Observation", "DiagnosticReport", "EpisodeOfCare",
             "Consent")  # fmt: skip


# --- the view model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnosis:
    """A diagnosis (Condition): ``code`` in ``system`` (a label such as "ICD-10-CM"), ``text`` to show."""

    key: str
    code: str | None
    system: str | None
    text: str
    principal: bool
    date: str | None
    visit_key: str | None
    record_id: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Procedure:
    key: str
    code: str | None
    system: str | None
    text: str
    body_site: str | None
    date: str | None
    visit_key: str | None
    record_id: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Medication:
    """One prescription, dispensing or reported use; a row of the medication history table.

    ``dose`` is the dosage text, ``quantity`` the amount supplied, ``days`` the days of supply.
    ``start``/``end`` are ISO dates; ``end`` is computed from ``days`` when the record gives none.
    ``overlap``: another row of the same drug covers part of the same period (``overlap_with``: their
    start dates). ``repeat``: the same drug also comes from another facility (``repeat_with``: those
    facilities).
    """

    key: str
    resource_type: str
    source_label: str
    name: str
    code: str | None
    system: str | None
    dose: str | None
    quantity: str | None
    days: int | None
    start: str | None
    end: str | None
    facility: str | None
    visit_key: str | None
    visit_anchor: str | None
    repeat: bool = False
    overlap: bool = False
    repeat_with: str = ""
    overlap_with: str = ""
    record_id: str | None = None
    author: str | None = None
    fulfils: str | None = None
    quantity_value: float | None = None
    sort_key: tuple = ()


@dataclass(frozen=True)
class Visit:
    """An Encounter with what was recorded in it. ``anchor`` is a safe HTML id; ``kind`` a key of KIND_LABELS."""

    key: str
    anchor: str
    date: str | None
    end: str | None
    kind: str
    kind_label: str
    facility: str | None
    diagnoses: tuple[Diagnosis, ...]
    procedures: tuple[Procedure, ...]
    medications: tuple[Medication, ...]
    notes: tuple[str, ...]
    record_id: str | None = None
    author: str | None = None
    sort_key: tuple = ()


@dataclass(frozen=True)
class Allergy:
    key: str
    substance: str
    code: str | None
    system: str | None
    categories: tuple[str, ...]
    clinical_status: str | None
    criticality: str | None
    severity: str | None
    reactions: tuple[str, ...]
    date: str | None
    recorder: str | None
    notes: tuple[str, ...]
    record_id: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Immunization:
    key: str
    vaccine: str
    code: str | None
    system: str | None
    date: str | None
    performer: str | None
    status: str | None
    record_id: str | None = None
    author: str | None = None


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


@dataclass(frozen=True)
class Consent:
    key: str
    text: str
    scope: str | None
    status: str | None
    date: str | None
    policy: str | None
    record_id: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class FollowUp:
    key: str
    anchor: str
    date: str | None
    label: str | None
    values: tuple[Lab, ...]


@dataclass(frozen=True)
class Programme:
    """A care-programme episode (DM, early CKD, hepatitis B/C…) with its follow-up visits, latest first."""

    key: str
    name: str
    status: str | None
    start: str | None
    end: str | None
    facility: str | None
    follow_ups: tuple[FollowUp, ...]
    record_id: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class PatientSummary:
    """Who the record is about: ``masked_id`` never shows a full identifier."""

    masked_id: str | None = None
    name: str | None = None
    gender: str | None = None
    birth_date: str | None = None


@dataclass(frozen=True)
class RecordView:
    """Everything the viewer partials show, latest first. ``counts`` maps section name → item count."""

    record_id: str | None
    author: str | None
    patient: PatientSummary
    visits: tuple[Visit, ...]
    medications: tuple[Medication, ...]
    other_diagnoses: tuple[Diagnosis, ...]
    other_procedures: tuple[Procedure, ...]
    allergies: tuple[Allergy, ...]
    immunizations: tuple[Immunization, ...]
    labs: tuple[Lab, ...]
    reports: tuple[Report, ...]
    consents: tuple[Consent, ...]
    programmes: tuple[Programme, ...]
    counts: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    date_from: str | None = None
    date_to: str | None = None


# --- safe access ---------------------------------------------------------------------------------------


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _number(value: object) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _num_text(value: float | Decimal) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _date_text(value: object) -> str | None:
    """The date part of a FHIR date/dateTime/instant ("2017", "2017-05", "2017-05-20")."""
    text = _str(value)
    if text is None:
        return None
    return text.split("T", 1)[0][:10]


def _day(text: str | None) -> date | None:
    if not text or not _FULL_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _anchor(prefix: str, key: str) -> str:
    return f"{prefix}-{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()[:12]}"


def _join(parts: object, sep: str = "; ") -> str | None:
    texts = [p for p in parts if p]  # type: ignore[union-attr]
    return sep.join(dict.fromkeys(texts)) or None


# --- codes ---------------------------------------------------------------------------------------------


def system_label(system: str | None) -> str | None:
    """A short label for a code system URI ("ICD-10-CM", "NHI drug", "LOINC"); the URI tail when unknown."""
    if not system:
        return None
    for prefix, label in _SYSTEM_LABELS:
        if system.startswith(prefix):
            return label
    tail = system.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail[:40] or system[:40]


def _codings(concept: object) -> list[dict]:
    return [c for c in _list(_dict(concept).get("coding")) if isinstance(c, dict) and _str(c.get("system"))
            not in _NO_CODE_SYSTEMS]  # fmt: skip


def _coded(concept: object, prefer: tuple[str, ...] = ()) -> tuple[str | None, str | None, str]:
    """(code, system label, text) of a CodeableConcept; text falls back to a display, then to the code."""
    codings = _codings(concept)
    with_code = [c for c in codings if _str(c.get("code"))]
    chosen = next((c for p in prefer for c in with_code if _str(c.get("system")) == p), None)
    chosen = chosen or (with_code[0] if with_code else None)
    code = _str(chosen.get("code")) if chosen else None
    display = _str(_dict(concept).get("text")) or next((d for c in codings if (d := _str(c.get("display")))), None)
    return code, system_label(_str(chosen.get("system"))) if chosen else None, display or code or ""


def _concept_text(concept: object) -> str | None:
    return _coded(concept)[2] or None


def _first_code(concept: object) -> str | None:
    return next((c for coding in _list(_dict(concept).get("coding")) if (c := _str(_dict(coding).get("code")))), None)


# --- the bundle index ----------------------------------------------------------------------------------


class _Index:
    """Entries by fullUrl and ``Type/id``, reference resolution and the hidden closure."""

    def __init__(self, bundle: dict):
        self.entries: list[tuple[str, dict]] = []
        self.by_ref: dict[str, tuple[str, dict]] = {}
        for entry in _list(_dict(bundle).get("entry")):
            full_url, resource = _str(_dict(entry).get("fullUrl")), _dict(_dict(entry).get("resource"))
            kind = _str(resource.get("resourceType"))
            if not full_url or not kind:
                continue
            self.entries.append((full_url, resource))
            self.by_ref[full_url] = (full_url, resource)
            if rid := _str(resource.get("id")):
                self.by_ref.setdefault(f"{kind}/{rid}", (full_url, resource))
        self.parents = self._parents()

    def of_type(self, *kinds: str) -> list[tuple[str, dict]]:
        return [(key, r) for key, r in self.entries if r.get("resourceType") in kinds]

    def resolve(self, ref: object, container: dict | None = None) -> tuple[str | None, dict]:
        """(fullUrl or None, resource or {}) a Reference points to; ``#id`` looks in ``container.contained``."""
        target = _str(_dict(ref).get("reference"))
        if target is None:
            return None, {}
        if target.startswith("#"):
            for inner in _list(_dict(container).get("contained")):
                if isinstance(inner, dict) and inner.get("id") == target[1:]:
                    return None, inner
            return None, {}
        if target in self.by_ref:
            return self.by_ref[target]
        tail = re.search(r"([A-Za-z]+/[A-Za-z0-9\-.]{1,64})$", target)
        return self.by_ref.get(tail[1], (None, {})) if tail else (None, {})

    def key_of(self, ref: object, container: dict | None = None) -> str | None:
        return self.resolve(ref, container)[0]

    def party(self, ref: object, container: dict | None = None) -> str | None:
        """Display name of an Organization, Practitioner, PractitionerRole, Patient… reference."""
        _, target = self.resolve(ref, container)
        kind = target.get("resourceType")
        if kind == "Organization":
            name = _str(target.get("name")) or next((a for a in map(_str, _list(target.get("alias"))) if a), None)
            return name or next((v for i in _list(target.get("identifier")) if (v := _str(_dict(i).get("value")))),
                                None) or _str(_dict(ref).get("display"))  # fmt: skip
        if kind == "PractitionerRole":
            names = (self.party(target.get("organization"), target), self.party(target.get("practitioner"), target))
            return _join(names, " · ") or _str(_dict(ref).get("display"))
        if kind in ("Practitioner", "Patient", "RelatedPerson"):
            return _human_name(target.get("name")) or _str(_dict(ref).get("display"))
        if kind == "Location":
            return _str(target.get("name")) or _str(_dict(ref).get("display"))
        return _str(_dict(ref).get("display"))

    def hidden_closure(self, hidden: frozenset[str]) -> set[str]:
        """Keys hidden directly or through what contains them (encounter, episode, report, medication)."""
        children: dict[str, set[str]] = {}
        for key, parents in self.parents.items():
            for parent in parents:
                children.setdefault(parent, set()).add(key)
        closed = {key for key in hidden if isinstance(key, str)}
        todo = list(closed)
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in closed:
                    closed.add(child)
                    todo.append(child)
        return closed

    def _parents(self) -> dict[str, set[str]]:
        """key → keys of the resources it was recorded under: its encounter/context, an Encounter that
        lists it as a diagnosis, a DiagnosticReport that lists it as a result, the episode of a follow-up
        encounter, the encounter it is part of, the Medication an order names."""
        parents: dict[str, set[str]] = {key: set() for key, _ in self.entries}

        def link(child: str | None, parent: str | None) -> None:
            if child in parents and parent and parent != child:
                parents[child].add(parent)

        for key, resource in self.entries:
            kind = resource.get("resourceType")
            refs = [resource.get("encounter"), resource.get("context")]
            if kind == "Encounter":
                refs += [*_list(resource.get("episodeOfCare")), resource.get("partOf")]
                for item in _list(resource.get("diagnosis")):
                    link(self.key_of(_dict(item).get("condition"), resource), key)
            if kind in ("MedicationRequest", "MedicationDispense", "MedicationStatement"):
                refs.append(resource.get("medicationReference"))
            if kind == "DiagnosticReport":
                for ref in _list(resource.get("result")):
                    link(self.key_of(ref, resource), key)
            for ref in refs:
                link(key, self.key_of(ref, resource))
        return parents


def _human_name(names: object) -> str | None:
    for name in _list(names):
        name = _dict(name)
        text = _str(name.get("text")) or _join(
            [*[_str(g) for g in _list(name.get("given"))], _str(name.get("family"))], " ")
        if text:
            return text
    return None


def _mask(value: str) -> str:
    """Keep an already masked identifier; otherwise show only the first two and last two characters."""
    if "*" in value:
        return value
    if len(value) <= 6:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


# --- building one record's view -----------------------------------------------------------------------


class _Builder:
    def __init__(self, bundle: dict, record_id: str | None, author: str | None, hidden: frozenset[str]):
        self.index = _Index(bundle)
        self.hidden = self.index.hidden_closure(frozenset(hidden or ()))
        self.record_id, self.author = record_id, author

    def visible(self, *kinds: str) -> list[tuple[str, dict]]:
        return [(key, r) for key, r in self.index.of_type(*kinds) if key not in self.hidden]

    def tag(self) -> dict:
        return {"record_id": self.record_id, "author": self.author}

    # -- per resource

    def encounter_kind(self, encounter: dict) -> str:
        if _list(encounter.get("episodeOfCare")):
            return "programme"
        klass = _dict(encounter.get("class"))
        code = (_str(klass.get("code")) or "").upper()
        words = " ".join(filter(None, [_concept_text(t) or "" for t in _list(encounter.get("type"))]
                                + [_str(klass.get("display")) or ""])).lower()  # fmt: skip
        if code in ("IMP", "ACUTE", "NONAC") or "住院" in words or "inpatient" in words:
            return "inpatient"
        if "牙醫" in words or "dental" in words or "dentist" in words:
            return "dental"
        if "中醫" in words or "chinese" in words or "traditional" in words:
            return "chinese"
        if "西醫" in words or "western" in words:
            return "western"
        if code == "EMER" or "emergency" in words:
            return "emergency"
        if code in ("AMB", "OBSENC", "PRENC", "SS", "VR", "HH", "FLD"):
            return "outpatient"
        return "other"

    def diagnosis(self, key: str, condition: dict, visit_key: str | None, rank: int | None) -> Diagnosis:
        code, system, text = _coded(condition.get("code"))
        when = _date_text(condition.get("recordedDate")) or _date_text(condition.get("onsetDateTime")) or \
            _date_text(_dict(condition.get("onsetPeriod")).get("start"))  # fmt: skip
        return Diagnosis(key, code, system, text, rank == 1, when, visit_key, **self.tag())

    def procedure(self, key: str, procedure: dict, visit_key: str | None) -> Procedure:
        code, system, text = _coded(procedure.get("code"))
        site = _join([_concept_text(s) for s in _list(procedure.get("bodySite"))])
        when = _date_text(procedure.get("performedDateTime")) or \
            _date_text(_dict(procedure.get("performedPeriod")).get("start"))  # fmt: skip
        return Procedure(key, code, system, text, site, when, visit_key, **self.tag())

    def medication(self, key: str, resource: dict, visit_key: str | None) -> Medication:
        kind = resource["resourceType"]
        concept = resource.get("medicationCodeableConcept")
        if concept is None:
            _, med = self.index.resolve(resource.get("medicationReference"), resource)
            concept = med.get("code") or {"text": _str(_dict(resource.get("medicationReference")).get("display"))}
        code, system, name = _coded(concept, _PREFERRED_DRUG_SYSTEMS)
        request = _dict(resource.get("dispenseRequest"))
        dosage = [_dict(d) for d in _list(resource.get("dosageInstruction") or resource.get("dosage"))]
        dose = _join(_dosage_text(d) for d in dosage)
        amount = _dict(request.get("quantity") if kind == "MedicationRequest" else resource.get("quantity"))
        supply = request.get("expectedSupplyDuration") if kind == "MedicationRequest" else resource.get("daysSupply")
        days = _days(supply)
        if kind == "MedicationRequest":
            period = _dict(request.get("validityPeriod"))
            start = _date_text(resource.get("authoredOn")) or _date_text(period.get("start"))
            end = _date_text(period.get("end"))
            facility = self.index.party(resource.get("requester"), resource)
        elif kind == "MedicationDispense":
            period = {}
            start = _date_text(resource.get("whenHandedOver")) or _date_text(resource.get("whenPrepared"))
            end = None
            facility = _join(self.index.party(_dict(p).get("actor"), resource)
                             for p in _list(resource.get("performer")))  # fmt: skip
            facility = facility or self.index.party(resource.get("location"), resource)
        else:
            period = _dict(resource.get("effectivePeriod"))
            start = _date_text(resource.get("effectiveDateTime")) or _date_text(period.get("start")) or \
                _date_text(resource.get("dateAsserted"))  # fmt: skip
            end = _date_text(period.get("end"))
            facility = self.index.party(resource.get("informationSource"), resource)
        if facility is None and visit_key:
            _, encounter = self.index.resolve({"reference": visit_key})
            facility = self.index.party(encounter.get("serviceProvider"), encounter)
        if end is None and days and (first := _day(start)):
            end = (first + timedelta(days=max(days, 1) - 1)).isoformat()
        fulfils = next((k for ref in _list(resource.get("authorizingPrescription"))
                        if (k := self.index.key_of(ref, resource))), None)  # fmt: skip
        return Medication(
            key=key, resource_type=kind, source_label=SOURCE_LABELS[kind], name=name, code=code, system=system,
            dose=dose, quantity=_quantity_text(amount), days=days, start=start, end=end, facility=facility,
            visit_key=visit_key, visit_anchor=_anchor("visit", visit_key) if visit_key else None,
            fulfils=fulfils, quantity_value=_number(amount.get("value")),
            sort_key=(_desc(start or ""), name, key), **self.tag(),
        )

    def lab(self, key: str, observation: dict, panel: str | None) -> Lab:
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
        facility = _join(self.index.party(p, observation) for p in _list(observation.get("performer")))
        return Lab(key, name, code, system, category, panel, value or "", range_text, when, facility,
                   flag is not None, flag, FLAG_LABELS.get(flag or ""),
                   sort_key=(_desc(when or ""), panel or "", name, key), **self.tag())

    def report(self, key: str, report: dict) -> Report:
        code, system, name = _coded(report.get("code"))
        category_codes = [_str(c.get("code")) for cat in _list(report.get("category")) for c in _codings(cat)]
        category = next((_REPORT_CATEGORIES[c] for c in category_codes if c in _REPORT_CATEGORIES), None)
        category = category or next((t for cat in _list(report.get("category")) if (t := _concept_text(cat))), None)
        conclusion = _join([_str(report.get("conclusion")),
                            *[_concept_text(c) for c in _list(report.get("conclusionCode"))]], "\n")  # fmt: skip
        when = _date_text(report.get("effectiveDateTime")) or \
            _date_text(_dict(report.get("effectivePeriod")).get("start")) or \
            _date_text(report.get("issued"))  # fmt: skip
        facility = _join(self.index.party(p, report) for p in _list(report.get("performer")))
        return Report(key, name, code, system, category or N_("Report"), when, _date_text(report.get("issued")),
                      facility, conclusion, **self.tag())

    # -- sections

    def visits(self, medications: dict[str, Medication]) -> tuple[list[Visit], list[Diagnosis], list[Procedure]]:
        encounters = dict(self.visible("Encounter"))
        diagnoses: dict[str, list[Diagnosis]] = {k: [] for k in encounters}
        procedures: dict[str, list[Procedure]] = {k: [] for k in encounters}
        loose_diagnoses, loose_procedures = [], []
        ranks: dict[str, tuple[str, int | None]] = {}
        for enc_key, encounter in encounters.items():
            for position, item in enumerate(_list(encounter.get("diagnosis"))):
                cond_key = self.index.key_of(_dict(item).get("condition"), encounter)
                rank = _dict(item).get("rank")
                if cond_key and cond_key not in ranks:
                    ranks[cond_key] = (enc_key, rank if isinstance(rank, int) else None)
        for key, condition in self.visible("Condition"):
            enc_key, rank = ranks.get(key, (None, None))
            own = self.index.key_of(condition.get("encounter"), condition)
            enc_key = own if own in encounters else enc_key
            item = self.diagnosis(key, condition, enc_key, rank)
            (diagnoses[enc_key] if enc_key in encounters else loose_diagnoses).append(item)
        for key, resource in self.visible("Procedure"):
            enc_key = self.index.key_of(resource.get("encounter"), resource)
            enc_key = enc_key if enc_key in encounters else None
            item = self.procedure(key, resource, enc_key)
            (procedures[enc_key] if enc_key else loose_procedures).append(item)
        visit_meds: dict[str, list[Medication]] = {}
        for med in medications.values():
            if med.visit_key:
                visit_meds.setdefault(med.visit_key, []).append(med)
        visits = []
        for key, encounter in encounters.items():
            period = _dict(encounter.get("period"))
            start, end = _date_text(period.get("start")), _date_text(period.get("end"))
            kind = self.encounter_kind(encounter)
            facility = self.index.party(encounter.get("serviceProvider"), encounter)
            notes = []
            for episode_ref in _list(encounter.get("episodeOfCare")):
                _, episode = self.index.resolve(episode_ref, encounter)
                facility = facility or self.index.party(episode.get("managingOrganization"), episode)
                notes.append(_join(_concept_text(t) for t in _list(episode.get("type"))))
            if kind in ("programme", "outpatient", "emergency", "other"):
                notes += [_concept_text(t) for t in _list(encounter.get("type"))]
            facility = facility or _join(self.index.party(_dict(loc).get("location"), encounter)
                                         for loc in _list(encounter.get("location")))  # fmt: skip
            visits.append(Visit(
                key=key, anchor=_anchor("visit", key), date=start, end=end if end != start else None, kind=kind,
                kind_label=KIND_LABELS[kind], facility=facility,
                diagnoses=tuple(sorted(diagnoses[key], key=lambda d: (not d.principal, d.text, d.key))),
                procedures=tuple(sorted(procedures[key], key=lambda p: (p.text, p.key))),
                medications=tuple(sorted(visit_meds.get(key, []), key=lambda m: (m.name, m.key))),
                notes=tuple(n for n in dict.fromkeys(notes) if n),
                sort_key=(_desc(_str(period.get("start")) or ""), key),
                **self.tag(),
            ))  # fmt: skip
        visits.sort(key=lambda v: v.sort_key)
        return visits, _latest(loose_diagnoses, lambda d: d.date), _latest(loose_procedures, lambda p: p.date)

    def medications(self) -> dict[str, Medication]:
        encounters = {k for k, _ in self.visible("Encounter")}
        out = {}
        for key, resource in self.visible("MedicationRequest", "MedicationDispense", "MedicationStatement"):
            visit = self.index.key_of(resource.get("encounter") or resource.get("context"), resource)
            out[key] = self.medication(key, resource, visit if visit in encounters else None)
        return out

    def labs_and_reports(self, programme_encounters: set[str]) -> tuple[list[Lab], list[Report]]:
        panels: dict[str, str] = {}
        reports = []
        for key, report in self.visible("DiagnosticReport"):
            results = [k for ref in _list(report.get("result")) if (k := self.index.key_of(ref, report))]
            if _str(report.get("conclusion")) or _list(report.get("conclusionCode")) or not results:
                reports.append(self.report(key, report))
            name = _concept_text(report.get("code"))
            for result in results:
                panels.setdefault(result, name or "")
        labs = []
        for key, observation in self.visible("Observation"):
            if self.index.key_of(observation.get("encounter"), observation) in programme_encounters:
                continue
            labs.append(self.lab(key, observation, panels.get(key) or None))
        labs.sort(key=lambda lab: lab.sort_key)
        return labs, _latest(reports, lambda r: r.date)

    def programmes(self) -> tuple[list[Programme], set[str]]:
        follow_ups: dict[str, list[tuple[str, dict]]] = {}
        for key, encounter in self.visible("Encounter"):
            for ref in _list(encounter.get("episodeOfCare")):
                if episode_key := self.index.key_of(ref, encounter):
                    follow_ups.setdefault(episode_key, []).append((key, encounter))
        values: dict[str, list[Lab]] = {}
        for key, observation in self.visible("Observation"):
            enc_key = self.index.key_of(observation.get("encounter"), observation)
            if enc_key:
                values.setdefault(enc_key, []).append(self.lab(key, observation, None))
        programmes = []
        shown_encounters = set()
        for key, episode in self.visible("EpisodeOfCare"):
            items = []
            for enc_key, encounter in follow_ups.get(key, []):
                shown_encounters.add(enc_key)
                items.append(FollowUp(
                    enc_key, _anchor("visit", enc_key), _date_text(_dict(encounter.get("period")).get("start")),
                    _join(_concept_text(t) for t in _list(encounter.get("type"))),
                    tuple(sorted(values.get(enc_key, []), key=lambda lab: (lab.name, lab.key))),
                ))  # fmt: skip
            period = _dict(episode.get("period"))
            name = _join(_concept_text(t) for t in _list(episode.get("type"))) or ""
            programmes.append(Programme(
                key, name, _str(episode.get("status")), _date_text(period.get("start")), _date_text(period.get("end")),
                self.index.party(episode.get("managingOrganization"), episode),
                tuple(_latest(items, lambda f: f.date)), **self.tag(),
            ))  # fmt: skip
        return _latest(programmes, lambda p: p.start), shown_encounters

    def allergies(self) -> list[Allergy]:
        out = []
        for key, resource in self.visible("AllergyIntolerance"):
            code, system, substance = _coded(resource.get("code"))
            reactions = [_dict(r) for r in _list(resource.get("reaction"))]
            substance = substance or _join(_concept_text(r.get("substance")) for r in reactions) or ""
            out.append(Allergy(
                key, substance, code, system, tuple(c for c in map(_str, _list(resource.get("category"))) if c),
                _first_code(resource.get("clinicalStatus")), _str(resource.get("criticality")),
                _join(_str(r.get("severity")) for r in reactions),
                tuple(t for r in reactions for m in _list(r.get("manifestation")) if (t := _concept_text(m))),
                _date_text(resource.get("recordedDate")) or _date_text(resource.get("onsetDateTime")),
                self.index.party(resource.get("recorder"), resource) or self.index.party(resource.get("asserter"),
                                                                                         resource),
                tuple(t for n in _list(resource.get("note")) if (t := _str(_dict(n).get("text")))), **self.tag(),
            ))  # fmt: skip
        return _latest(out, lambda a: a.date)

    def immunizations(self) -> list[Immunization]:
        out = []
        for key, resource in self.visible("Immunization"):
            code, system, vaccine = _coded(resource.get("vaccineCode"))
            performer = _join(self.index.party(_dict(p).get("actor"), resource)
                              for p in _list(resource.get("performer")))  # fmt: skip
            out.append(Immunization(
                key, vaccine, code, system,
                _date_text(resource.get("occurrenceDateTime")) or _date_text(resource.get("recorded")),
                performer or self.index.party(resource.get("location"), resource), _str(resource.get("status")),
                **self.tag(),
            ))  # fmt: skip
        return _latest(out, lambda i: i.date)

    def consents(self) -> list[Consent]:
        out = []
        for key, resource in self.visible("Consent"):
            text = _join(_concept_text(c) for c in _list(resource.get("category"))) or ""
            out.append(Consent(
                key, text, _concept_text(resource.get("scope")), _str(resource.get("status")),
                _date_text(resource.get("dateTime")),
                _str(_dict(resource.get("policyRule")).get("text")) or _join(
                    _str(_dict(p).get("uri")) for p in _list(resource.get("policy"))), **self.tag(),
            ))  # fmt: skip
        return _latest(out, lambda c: c.date)

    def patient(self) -> PatientSummary:
        patients = self.index.of_type("Patient")
        if not patients:
            return PatientSummary()
        resource = patients[0][1]
        identifiers = [_dict(i) for i in _list(resource.get("identifier"))]
        identifiers.sort(key=lambda i: i.get("system") != _MASKED_ID_SYSTEM)
        masked = next((_mask(v) for i in identifiers if (v := _str(i.get("value")))), None)
        return PatientSummary(masked, _human_name(resource.get("name")), _str(resource.get("gender")),
                              _str(resource.get("birthDate")))

    def build(self) -> RecordView:
        meds = self.medications()
        programmes, programme_encounters = self.programmes()
        visits, loose_diagnoses, loose_procedures = self.visits(meds)
        labs, reports = self.labs_and_reports(programme_encounters)
        return _assemble(
            record_id=self.record_id, author=self.author, patient=self.patient(), visits=visits,
            medications=list(meds.values()), other_diagnoses=loose_diagnoses, other_procedures=loose_procedures,
            allergies=self.allergies(), immunizations=self.immunizations(), labs=labs, reports=reports,
            consents=self.consents(), programmes=programmes,
        )  # fmt: skip


def _latest(items: list, when) -> list:
    """Items latest first (undated last), stable within a date."""
    return sorted(items, key=lambda item: when(item) or "", reverse=True)


def _dosage_text(dosage: dict) -> str | None:
    if text := _str(dosage.get("text")):
        return text
    parts = []
    for rate in _list(dosage.get("doseAndRate")):
        parts.append(_quantity_text(_dict(_dict(rate).get("doseQuantity"))))
    parts.append(_concept_text(_dict(dosage.get("timing")).get("code")))
    parts.append(_concept_text(dosage.get("route")))
    return _join(parts, " ")


def _quantity_text(quantity: dict) -> str | None:
    value = _number(quantity.get("value"))
    if value is None:
        return None
    unit = _str(quantity.get("unit")) or (_str(quantity.get("code")) if quantity.get("code") != "1" else None)
    comparator = _str(quantity.get("comparator"))
    return " ".join(p for p in (comparator, _num_text(value), unit) if p)


def _days(duration: object) -> int | None:
    duration = _dict(duration)
    value = _number(duration.get("value"))
    unit = _str(duration.get("code")) or _str(duration.get("unit")) or "d"
    factor = _DAYS_PER_UNIT.get(unit)
    if value is None or factor is None or value <= 0:
        return None
    days = float(value) * factor
    return max(1, round(days)) if days < 100_000 else None


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


# --- medication flags ----------------------------------------------------------------------------------


def _drug_identity(med: Medication) -> str | None:
    if med.code:
        return f"code:{med.code.upper()}"
    return f"name:{med.name.casefold()}" if med.name else None


def _period(med: Medication) -> tuple[date, date] | None:
    first = _day(med.start)
    if first is None:
        return None
    last = _day(med.end) or first
    return first, max(first, last)


def _fills(request: Medication, dispense: Medication) -> bool:
    """The dispensing is the filling of the prescription (linked, or same drug/amount within the window)."""
    if dispense.fulfils is not None:
        return dispense.fulfils == request.key
    start, handed = _day(request.start), _day(dispense.start)
    if start is None or handed is None or not 0 <= (handed - start).days <= FULFIL_WINDOW_DAYS:
        return False
    same_quantity = None in (request.quantity_value, dispense.quantity_value) or \
        request.quantity_value == dispense.quantity_value  # fmt: skip
    same_days = None in (request.days, dispense.days) or request.days == dispense.days
    return same_quantity and same_days


def _same_supply(a: Medication, b: Medication) -> bool:
    kinds = {a.resource_type, b.resource_type}
    if kinds == {"MedicationRequest", "MedicationDispense"}:
        request, dispense = (a, b) if a.resource_type == "MedicationRequest" else (b, a)
        return _fills(request, dispense)
    return False


def flag_medications(meds: list[Medication]) -> list[Medication]:
    """Set ``overlap``/``repeat`` on every row (re-computed from scratch) and sort latest first.

    overlap: another row of the same drug (NHI or other code; the name when there is no code) whose
    supply period shares a day with this one. repeat: the same drug from another facility. A dispensing
    that fills a listed prescription is neither (see ``FULFIL_WINDOW_DAYS``).
    """
    groups: dict[str, list[int]] = {}
    for position, med in enumerate(meds):
        if identity := _drug_identity(med):
            groups.setdefault(identity, []).append(position)
    overlaps: dict[int, list[str]] = {}
    repeats: dict[int, list[str]] = {}
    for positions in groups.values():
        for i, a_pos in enumerate(positions):
            for b_pos in positions[i + 1:]:
                a, b = meds[a_pos], meds[b_pos]
                if a.key == b.key or _same_supply(a, b):
                    continue
                pa, pb = _period(a), _period(b)
                if pa and pb and pa[0] <= pb[1] and pb[0] <= pa[1]:
                    overlaps.setdefault(a_pos, []).append(b.start or "")
                    overlaps.setdefault(b_pos, []).append(a.start or "")
                if a.facility and b.facility and a.facility.casefold() != b.facility.casefold():
                    repeats.setdefault(a_pos, []).append(b.facility)
                    repeats.setdefault(b_pos, []).append(a.facility)
    flagged = [
        replace(med, overlap=pos in overlaps, overlap_with=", ".join(sorted(set(overlaps.get(pos, [])), reverse=True)),
                repeat=pos in repeats, repeat_with=", ".join(sorted(set(repeats.get(pos, [])))))
        for pos, med in enumerate(meds)
    ]  # fmt: skip
    flagged.sort(key=lambda m: m.sort_key)
    return flagged


# --- assembling -----------------------------------------------------------------------------------------


def _assemble(*, record_id, author, patient, visits, medications, other_diagnoses, other_procedures, allergies,
              immunizations, labs, reports, consents, programmes) -> RecordView:
    """Flag medications, put the flagged rows back into their visits, count and date the view."""
    flagged = flag_medications(list(medications))
    by_key = {m.key: m for m in flagged}
    visits = [replace(v, medications=tuple(by_key.get(m.key, m) for m in v.medications)) for v in visits]
    diagnoses = [d for v in visits for d in v.diagnoses] + list(other_diagnoses)
    procedures = [p for v in visits for p in v.procedures] + list(other_procedures)
    counts = {
        "visits": len(visits), "diagnoses": len(diagnoses), "procedures": len(procedures),
        "medications": len(flagged), "allergies": len(allergies), "immunizations": len(immunizations),
        "labs": len(labs), "reports": len(reports), "consents": len(consents), "programmes": len(programmes),
    }  # fmt: skip
    dates = [v.date for v in visits] + [v.end for v in visits] + [m.start for m in flagged] + \
        [d.date for d in diagnoses] + [p.date for p in procedures] + [a.date for a in allergies] + \
        [i.date for i in immunizations] + [lab.date for lab in labs] + [r.date for r in reports] + \
        [c.date for c in consents] + [p.start for p in programmes] + [p.end for p in programmes] + \
        [f.date for p in programmes for f in p.follow_ups]  # fmt: skip
    dates = sorted(d for d in dates if d)
    return RecordView(
        record_id=record_id, author=author, patient=patient, visits=tuple(visits), medications=tuple(flagged),
        other_diagnoses=tuple(other_diagnoses), other_procedures=tuple(other_procedures), allergies=tuple(allergies),
        immunizations=tuple(immunizations), labs=tuple(labs), reports=tuple(reports), consents=tuple(consents),
        programmes=tuple(programmes), counts=MappingProxyType(counts),
        date_from=dates[0] if dates else None, date_to=dates[-1] if dates else None,
    )  # fmt: skip


def build_view(bundle: dict, *, record_id: str | None = None, author: str | None = None,
               hidden: frozenset[str] = frozenset()) -> RecordView:
    """The view of one stored record. ``hidden`` holds entry fullUrls the patient chose not to reveal;
    they and everything recorded under them are left out. Every item carries ``record_id`` and ``author``."""
    return _Builder(bundle, record_id, author, hidden).build()


def _unique(items) -> list:
    seen, out = set(), []
    for item in items:
        if item.key not in seen:
            seen.add(item.key)
            out.append(item)
    return out


def merge_views(views: list[RecordView]) -> RecordView:
    """One patient timeline from several records: every section merged latest first, the medication
    history re-flagged across records. An item present in several records (same fullUrl) is kept once,
    from the first view that has it. Items keep their ``record_id``/``author``."""
    views = list(views)
    patient = PatientSummary(
        masked_id=next((v.patient.masked_id for v in views if v.patient.masked_id), None),
        name=next((v.patient.name for v in views if v.patient.name), None),
        gender=next((v.patient.gender for v in views if v.patient.gender not in (None, "unknown")), None)
        or next((v.patient.gender for v in views if v.patient.gender), None),
        birth_date=next((v.patient.birth_date for v in views if v.patient.birth_date), None),
    )  # fmt: skip

    def merged(name: str, when) -> list:
        return _latest(_unique(item for v in views for item in getattr(v, name)), when)

    return _assemble(
        record_id=None, author=None, patient=patient,
        visits=sorted(_unique(x for v in views for x in v.visits), key=lambda v: v.sort_key),
        medications=_unique(m for v in views for m in v.medications),
        other_diagnoses=merged("other_diagnoses", lambda d: d.date),
        other_procedures=merged("other_procedures", lambda p: p.date),
        allergies=merged("allergies", lambda a: a.date), immunizations=merged("immunizations", lambda i: i.date),
        labs=sorted(_unique(x for v in views for x in v.labs), key=lambda lab: lab.sort_key),
        reports=merged("reports", lambda r: r.date), consents=merged("consents", lambda c: c.date),
        programmes=merged("programmes", lambda p: p.start),
    )  # fmt: skip


# --- privacy tags -----------------------------------------------------------------------------------------


def item_keys(bundle: dict) -> list[tuple[str, str, str]]:
    """(fullUrl, resourceType, short label) of every item a patient can mark as not to be revealed.

    Visits, programme episodes and other items by type, latest first; each visit is followed by what
    was recorded in it. Labels start with the date and use the record's own text (visit kinds are the
    English KIND_LABELS).
    """
    builder = _Builder(bundle, None, None, frozenset())
    rows: dict[str, tuple[str, str, str]] = {}  # key → (resourceType, date, label)
    for key, resource in builder.index.entries:
        kind = resource.get("resourceType")
        if kind in _TAGGABLE:
            when, label = _item_label(builder, key, resource)
            rows[key] = (kind, when or "", " · ".join(p for p in (when, label) if p) or kind)
    children: dict[str, list[str]] = {}
    inside: set[str] = set()
    for key, (kind, _, _) in rows.items():
        visits = sorted(p for p in builder.index.parents[key] if p in rows and rows[p][0] == "Encounter")
        if kind != "Encounter" and visits:
            children.setdefault(visits[0], []).append(key)
            inside.add(key)
    rank = {kind: position for position, kind in enumerate(_TAGGABLE)}
    out = []
    for top in sorted((k for k in rows if k not in inside), key=lambda k: (rank[rows[k][0]], _desc(rows[k][1]),
                                                                           rows[k][2], k)):  # fmt: skip
        for key in [top, *sorted(children.get(top, []), key=lambda k: (rank[rows[k][0]], rows[k][2], k))]:
            out.append((key, rows[key][0], rows[key][2]))
    return out


def _desc(text: str) -> tuple:
    """Sort key putting later ISO dates first and undated items last."""
    return (text == "", tuple(-ord(c) for c in text))


def _item_label(builder: _Builder, key: str, resource: dict) -> tuple[str | None, str]:
    kind = resource["resourceType"]
    if kind == "Encounter":
        facility = builder.index.party(resource.get("serviceProvider"), resource)
        when = _date_text(_dict(resource.get("period")).get("start"))
        return when, " · ".join(p for p in (KIND_LABELS[builder.encounter_kind(resource)], facility) if p)
    if kind == "Condition":
        item = builder.diagnosis(key, resource, None, None)
        return item.date, " ".join(p for p in (item.code, item.text if item.text != item.code else None) if p)
    if kind == "Procedure":
        item = builder.procedure(key, resource, None)
        return item.date, " ".join(p for p in (item.code, item.text if item.text != item.code else None) if p)
    if kind.startswith("Medication"):
        item = builder.medication(key, resource, None)
        return item.start, " ".join(p for p in (item.name, f"({item.code})" if item.code else None) if p)
    if kind == "AllergyIntolerance":
        return _date_text(resource.get("recordedDate")), _concept_text(resource.get("code")) or kind
    if kind == "Immunization":
        return _date_text(resource.get("occurrenceDateTime")), _concept_text(resource.get("vaccineCode")) or kind
    if kind == "Observation":
        item = builder.lab(key, resource, None)
        return item.date, " ".join(p for p in (item.name, item.value) if p)
    if kind == "DiagnosticReport":
        item = builder.report(key, resource)
        return item.date, item.name or item.category
    if kind == "EpisodeOfCare":
        return _date_text(_dict(resource.get("period")).get("start")), \
            _join(_concept_text(t) for t in _list(resource.get("type"))) or kind  # fmt: skip
    categories = _join(_concept_text(c) for c in _list(resource.get("category")))
    return _date_text(resource.get("dateTime")), categories or kind


# --- hide rules ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFacts:
    """What a patient's hide rule (``phr.sharing.hiding``) can match in one entry, and its label.

    ``label`` starts with the date, ``text`` is the label without it; ``date``/``facility`` (facility code,
    else name) for a visit; ``codes`` every code of a diagnosis or drug; ``name`` a drug's name."""

    resource_type: str
    label: str
    text: str
    date: str | None = None
    facility: str | None = None
    codes: tuple[str, ...] = ()
    name: str | None = None


def item_facts(bundle: dict) -> dict[str, ItemFacts]:
    """fullUrl → :class:`ItemFacts` of every item a patient can hide (the entries ``item_keys`` lists)."""
    builder = _Builder(bundle, None, None, frozenset())
    out = {}
    for key, resource in builder.index.entries:
        kind = resource.get("resourceType")
        if kind not in _TAGGABLE:
            continue
        when, text = _item_label(builder, key, resource)
        text = text or kind
        label = " · ".join(p for p in (when, text) if p)
        codes = tuple(c for coding in _codings(resource.get("code")) if (c := _str(coding.get("code"))))
        if kind == "Encounter":
            out[key] = ItemFacts(kind, label, text, _date_text(_dict(resource.get("period")).get("start")),
                                 _facility_id(builder.index, resource))
        elif kind.startswith("Medication"):
            med = builder.medication(key, resource, None)
            concept = resource.get("medicationCodeableConcept") or \
                builder.index.resolve(resource.get("medicationReference"), resource)[1].get("code")  # fmt: skip
            codes = tuple(c for coding in _codings(concept) if (c := _str(coding.get("code"))))
            out[key] = ItemFacts(kind, label, text, med.start, codes=codes, name=med.name or None)
        else:
            out[key] = ItemFacts(kind, label, text, when, codes=codes)
    return out


def _facility_id(index: _Index, encounter: dict) -> str | None:
    """The facility of a visit as a rule names it: its identifier (NHI facility code), else its name."""
    _, org = index.resolve(encounter.get("serviceProvider"), encounter)
    ident = next((v for i in _list(org.get("identifier")) if (v := _str(_dict(i).get("value")))), None)
    return ident or index.party(encounter.get("serviceProvider"), encounter)
