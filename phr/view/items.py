"""What a patient can hide: the entries listed for "do not reveal" and the facts a hide rule matches."""
from __future__ import annotations

from dataclasses import dataclass

from .fhir import Index, Source, _codings, _concept_text, _date_text, _desc, _dict, _join, _list, _str
from .labs import lab_of, report_of
from .medications import medication_of
from .visits import KIND_LABELS, diagnosis_of, encounter_kind, procedure_of

_TAGGABLE = ("Encounter", "Condition", "Procedure", "MedicationRequest", "MedicationDispense", "MedicationStatement",
             "AllergyIntolerance", "Immunization", "Observation", "DiagnosticReport", "EpisodeOfCare",
             "Consent")  # fmt: skip


def item_keys(bundle: dict) -> list[tuple[str, str, str]]:
    """(fullUrl, resourceType, short label) of every item a patient can mark as not to be revealed.

    Visits, programme episodes and other items by type, latest first; each visit is followed by what
    was recorded in it. Labels start with the date and use the record's own text (visit kinds are the
    English KIND_LABELS).
    """
    src = Source(bundle, None, None, frozenset())
    rows: dict[str, tuple[str, str, str]] = {}  # key → (resourceType, date, label)
    for key, resource in src.index.entries:
        kind = resource.get("resourceType")
        if kind in _TAGGABLE:
            when, label = _item_label(src, key, resource)
            rows[key] = (kind, when or "", " · ".join(p for p in (when, label) if p) or kind)
    children: dict[str, list[str]] = {}
    inside: set[str] = set()
    for key, (kind, _, _) in rows.items():
        visits = sorted(p for p in src.index.parents[key] if p in rows and rows[p][0] == "Encounter")
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


def _item_label(src: Source, key: str, resource: dict) -> tuple[str | None, str]:
    kind = resource["resourceType"]
    if kind == "Encounter":
        facility = src.index.party(resource.get("serviceProvider"), resource)
        when = _date_text(_dict(resource.get("period")).get("start"))
        return when, " · ".join(p for p in (KIND_LABELS[encounter_kind(resource)], facility) if p)
    if kind == "Condition":
        item = diagnosis_of(src, key, resource, None, None)
        return item.date, " ".join(p for p in (item.code, item.text if item.text != item.code else None) if p)
    if kind == "Procedure":
        item = procedure_of(src, key, resource, None)
        return item.date, " ".join(p for p in (item.code, item.text if item.text != item.code else None) if p)
    if kind.startswith("Medication"):
        item = medication_of(src, key, resource, None)
        return item.start, " ".join(p for p in (item.name, f"({item.code})" if item.code else None) if p)
    if kind == "AllergyIntolerance":
        return _date_text(resource.get("recordedDate")), _concept_text(resource.get("code")) or kind
    if kind == "Immunization":
        return _date_text(resource.get("occurrenceDateTime")), _concept_text(resource.get("vaccineCode")) or kind
    if kind == "Observation":
        item = lab_of(src, key, resource, None)
        return item.date, " ".join(p for p in (item.name, item.value) if p)
    if kind == "DiagnosticReport":
        item = report_of(src, key, resource)
        return item.date, item.name or item.category
    if kind == "EpisodeOfCare":
        return _date_text(_dict(resource.get("period")).get("start")), \
            _join(_concept_text(t) for t in _list(resource.get("type"))) or kind  # fmt: skip
    categories = _join(_concept_text(c) for c in _list(resource.get("category")))
    return _date_text(resource.get("dateTime")), categories or kind


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
    src = Source(bundle, None, None, frozenset())
    out = {}
    for key, resource in src.index.entries:
        kind = resource.get("resourceType")
        if kind not in _TAGGABLE:
            continue
        when, text = _item_label(src, key, resource)
        text = text or kind
        label = " · ".join(p for p in (when, text) if p)
        codes = tuple(c for coding in _codings(resource.get("code")) if (c := _str(coding.get("code"))))
        if kind == "Encounter":
            out[key] = ItemFacts(kind, label, text, _date_text(_dict(resource.get("period")).get("start")),
                                 _facility_id(src.index, resource))
        elif kind.startswith("Medication"):
            med = medication_of(src, key, resource, None)
            concept = resource.get("medicationCodeableConcept") or \
                src.index.resolve(resource.get("medicationReference"), resource)[1].get("code")  # fmt: skip
            codes = tuple(c for coding in _codings(concept) if (c := _str(coding.get("code"))))
            out[key] = ItemFacts(kind, label, text, med.start, codes=codes, name=med.name or None)
        else:
            out[key] = ItemFacts(kind, label, text, when, codes=codes)
    return out


def _facility_id(index: Index, encounter: dict) -> str | None:
    """The facility of a visit as a rule names it: its identifier (NHI facility code), else its name."""
    _, org = index.resolve(encounter.get("serviceProvider"), encounter)
    ident = next((v for i in _list(org.get("identifier")) if (v := _str(_dict(i).get("value")))), None)
    return ident or index.party(encounter.get("serviceProvider"), encounter)
