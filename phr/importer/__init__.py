"""Single entry point for uploads: My Health Bank JSON/XML or a FHIR R4 Bundle → canonical FHIR Bundle.

``import_file`` sniffs the format from the content, converts or normalises it to
a ``collection`` Bundle, validates it and returns its canonical bytes and
SHA-256. Anything it cannot understand raises ``ImportRejected``.

Accepted FHIR uploads: JSON Bundles of type collection, document, transaction,
batch or searchset. They are stored as a collection: ``entry.request``,
``entry.response``, ``entry.search``, ``entry.link``, ``Bundle.link``,
``Bundle.total`` and ``Bundle.signature`` are dropped, so re-importing an
exported bundle gives the same bytes.

The package: ``fhir`` (canonical bytes, validation, ``ImportRejected``), ``mhb`` (My Health
Bank parser and one mapper per section), ``cli`` (the ``phr import`` commands; also
``python -m phr.importer``). Nothing here imports ``cli``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal

from phr import commitment
from phr.config import MAX_UPLOAD_BYTES
from phr.labels import N_

from . import mhb
from .fhir import MAX_DEPTH, ImportRejected, canonical_bytes, validate_bundle
from .mhb import Note, SkippedRow

__all__ = ["MAX_UPLOAD_BYTES", "ImportRejected", "ImportResult", "ImportSummary", "Note", "SkippedRow", "import_file"]

ACCEPTED_BUNDLE_TYPES = ("collection", "document", "transaction", "batch", "searchset")
_KEPT_BUNDLE_FIELDS = ("resourceType", "id", "meta", "implicitRules", "language", "identifier", "timestamp")
_DATE_FIELDS = ("effectiveDateTime", "authoredOn", "recordedDate", "occurrenceDateTime", "performedDateTime",
                "whenHandedOver", "dateTime", "onsetDateTime", "issued")  # fmt: skip
_PERIOD_FIELDS = ("period", "effectivePeriod", "performedPeriod")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


@dataclass(frozen=True)
class ImportSummary:
    """What an import produced: resources per type, the clinical date range, rows left out, notes.

    Notes and skip reasons are :class:`~phr.importer.mhb.Note`: English text with the msgid and parameters a page
    translates.
    """

    counts: dict[str, int]
    date_from: str | None
    date_to: str | None
    skipped: list[SkippedRow]
    notes: list[Note]


@dataclass(frozen=True)
class ImportResult:
    """A validated collection Bundle with its canonical bytes and their SHA-256 (hex)."""

    source_format: str
    bundle: dict
    canonical: bytes
    sha256: str
    summary: ImportSummary


def import_file(data: bytes, filename: str | None = None, *, max_bytes: int = MAX_UPLOAD_BYTES) -> ImportResult:
    """Convert an upload (MHB JSON, MHB XML or FHIR Bundle JSON) to a validated canonical Bundle.

    The format is taken from the content; ``filename`` only improves messages.
    Raises ImportRejected for anything too large, unreadable or invalid.
    """
    if len(data) > max_bytes:
        raise ImportRejected(N_("The file is %(size)s MiB; the limit is %(limit)s MiB. Nothing was read."),
                             size=_mib(len(data)), limit=_mib(max_bytes))
    text = _decode(data, filename)
    first = text.lstrip()[:1]
    if first == "<":
        return _from_mhb("mhb-xml", mhb.parse_xml(text))
    if first != "{":
        raise _about(filename,
                     N_("The file %(name)s is neither JSON nor XML, so it is not a health-bank or FHIR file."),
                     N_("The file is neither JSON nor XML, so it is not a health-bank or FHIR file."))
    document = _load_json(text, Decimal)
    keys = {str(k).lower() for k in document}
    if "myhealthbank" in keys:
        return _from_mhb("mhb-json", mhb.parse_json_object(document))
    if "resourceType" in document:
        return _from_fhir(_load_json(text, float))
    raise _about(filename,
                 N_("The file %(name)s is JSON but neither a My Health Bank download nor a FHIR resource."),
                 N_("The file is JSON but neither a My Health Bank download nor a FHIR resource."))


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"


def _about(filename: str | None, named: str, unnamed: str, **params: object) -> ImportRejected:
    """A refusal that names the file when its name is known (``named`` has a ``%(name)s`` placeholder)."""
    if filename:
        return ImportRejected(named, name=repr(filename), **params)
    return ImportRejected(unnamed, **params)


def _decode(data: bytes, filename: str | None) -> str:
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _about(filename,
                     N_("The file %(name)s is not UTF-8 text (invalid byte at position %(position)d); "
                        "health-bank and FHIR files are UTF-8."),
                     N_("The file is not UTF-8 text (invalid byte at position %(position)d); "
                        "health-bank and FHIR files are UTF-8."),
                     position=exc.start) from None


def _reject_constant(name: str) -> None:
    raise ImportRejected(N_("The JSON contains %(name)s, which is not a number JSON allows."), name=name)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise ImportRejected(N_("The JSON has the key %(key)s twice in one object; refusing ambiguous data."),
                                 key=repr(key))
        result[key] = value
    return result


def _check_json_depth(text: str) -> None:
    """Refuse deep nesting before parsing: the C parser can exhaust the stack first."""
    depth = deepest = 0
    for bracket in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            raise ImportRejected(N_("The JSON nests deeper than %(max)d levels; that is not a health record."),
                                 max=MAX_DEPTH)


def _load_json(text: str, parse_float: type) -> dict:
    _check_json_depth(text)
    try:
        value = json.loads(
            text, strict=False, parse_float=parse_float, parse_constant=_reject_constant, object_pairs_hook=_unique_keys
        )
    except json.JSONDecodeError as exc:
        raise ImportRejected(N_("The JSON is not valid: %(reason)s (line %(line)d, column %(column)d)."),
                             reason=exc.msg, line=exc.lineno, column=exc.colno) from None
    except ValueError:  # an integer with more digits than Python converts (thousands of digits)
        raise ImportRejected(
            N_("The JSON contains a number with too many digits to be a health record value.")) from None
    if not isinstance(value, dict):
        raise ImportRejected(N_("The JSON must be an object at the top level."))
    return value


def _from_mhb(source_format: str, document: mhb.MhbDocument) -> ImportResult:
    conversion = mhb.to_bundle(document)
    return _result(source_format, conversion.bundle, conversion.skipped, conversion.notes)


def _from_fhir(resource: dict) -> ImportResult:
    if resource.get("resourceType") != "Bundle":
        raise ImportRejected(
            N_("Expected a FHIR Bundle, found a %(type)s resource; wrap single resources in a collection Bundle."),
            type=repr(str(resource.get("resourceType"))[:40]),
        )
    validate_bundle(resource)
    if resource["type"] not in ACCEPTED_BUNDLE_TYPES:
        raise ImportRejected(N_("Bundle.type %(type)s is not accepted; upload one of %(accepted)s."),
                             type=repr(resource["type"]), accepted=", ".join(ACCEPTED_BUNDLE_TYPES))
    return _result("fhir-json", as_collection(resource), [], [])


def as_collection(bundle: dict) -> dict:
    """Normalise an accepted Bundle to the stored form: type collection, entries of fullUrl + resource."""
    stored = {k: bundle[k] for k in _KEPT_BUNDLE_FIELDS if k in bundle}
    stored["type"] = "collection"
    entries = [{"fullUrl": e["fullUrl"], "resource": e["resource"]} for e in bundle.get("entry", [])]
    if entries:
        stored["entry"] = entries
    return stored


def _result(source_format: str, bundle: dict, skipped: list[SkippedRow], notes: list[Note]) -> ImportResult:
    validate_bundle(bundle)
    canonical = canonical_bytes(bundle)
    return ImportResult(
        source_format=source_format,
        bundle=bundle,
        canonical=canonical,
        sha256=commitment.commit(canonical, None).hex(),  # the plain SHA-256 of the bytes
        summary=_summary(bundle, skipped, notes),
    )


def _summary(bundle: dict, skipped: list[SkippedRow], notes: list[Note]) -> ImportSummary:
    counts: dict[str, int] = {}
    dates: list[str] = []
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        counts[resource["resourceType"]] = counts.get(resource["resourceType"], 0) + 1
        dates += _clinical_dates(resource)
    return ImportSummary(
        counts=dict(sorted(counts.items())),
        date_from=min(dates) if dates else None,
        date_to=max(dates) if dates else None,
        skipped=skipped,
        notes=notes,
    )


def _clinical_dates(resource: dict) -> list[str]:
    values = [resource.get(name) for name in _DATE_FIELDS]
    for name in _PERIOD_FIELDS:
        period = resource.get(name)
        if isinstance(period, dict):
            values += [period.get("start"), period.get("end")]
    return [value[:10] for value in values if isinstance(value, str)]
