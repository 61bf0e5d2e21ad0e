"""One record's view (:func:`build_view`) and one patient timeline of several (:func:`merge_views`).

Hiding (``hidden``: entry fullUrls) cascades: a hidden Encounter hides every resource recorded in it
(diagnoses, procedures, medications, results), a hidden EpisodeOfCare hides its follow-up encounters, a
hidden DiagnosticReport hides its results and a hidden Medication hides the orders naming it. Hidden items
appear nowhere in the view, not in counts, not in the date range.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .allergies import Allergy, read_allergies
from .consents import Consent, read_consents
from .fhir import Source, _latest
from .immunizations import Immunization, read_immunizations
from .labs import Lab, Report, read_labs_and_reports
from .medications import Medication, flag_medications, read_medications
from .patient import PatientSummary, merge_patients, read_patient
from .programmes import Programme, read_programmes
from .visits import Diagnosis, Procedure, Visit, read_visits


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


def build_view(bundle: dict, *, record_id: str | None = None, author: str | None = None,
               hidden: frozenset[str] = frozenset()) -> RecordView:
    """The view of one stored record. ``hidden`` holds entry fullUrls the patient chose not to reveal;
    they and everything recorded under them are left out. Every item carries ``record_id`` and ``author``."""
    src = Source(bundle, record_id, author, hidden)
    meds = read_medications(src)
    programmes, programme_encounters = read_programmes(src)
    visits, loose_diagnoses, loose_procedures = read_visits(src, meds)
    labs, reports = read_labs_and_reports(src, programme_encounters)
    return _assemble(
        record_id=src.record_id, author=src.author, patient=read_patient(src), visits=visits,
        medications=list(meds.values()), other_diagnoses=loose_diagnoses, other_procedures=loose_procedures,
        allergies=read_allergies(src), immunizations=read_immunizations(src), labs=labs, reports=reports,
        consents=read_consents(src), programmes=programmes,
    )  # fmt: skip


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

    def merged(name: str, when) -> list:
        return _latest(_unique(item for v in views for item in getattr(v, name)), when)

    return _assemble(
        record_id=None, author=None, patient=merge_patients([v.patient for v in views]),
        visits=sorted(_unique(x for v in views for x in v.visits), key=lambda v: v.sort_key),
        medications=_unique(m for v in views for m in v.medications),
        other_diagnoses=merged("other_diagnoses", lambda d: d.date),
        other_procedures=merged("other_procedures", lambda p: p.date),
        allergies=merged("allergies", lambda a: a.date), immunizations=merged("immunizations", lambda i: i.date),
        labs=sorted(_unique(x for v in views for x in v.labs), key=lambda lab: lab.sort_key),
        reports=merged("reports", lambda r: r.date), consents=merged("consents", lambda c: c.date),
        programmes=merged("programmes", lambda p: p.start),
    )  # fmt: skip
