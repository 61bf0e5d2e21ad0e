"""Canonical serialisation and validation of FHIR R4 Bundles.

``canonical_bytes`` gives the exact bytes that are hashed, encrypted, stored and
exported. ``validate_bundle`` runs the fhir.resources R4B models (R4B is
wire-compatible with R4 for every resource type accepted here) and adds what
those models leave out: required value-set bindings, internal reference
resolution and fullUrl/id agreement.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from ..labels import N_

MAX_DEPTH = 64
"""Deepest nesting of objects and arrays accepted in a bundle."""


class ImportRejected(Exception):
    """The one error raised for any input the importer cannot understand.

    ``message`` is a sentence for a person in English (no stack trace, no exception repr), as
    the command line prints it; a page shows it in the reader's language as
    ``gettext(msgid, **params)``: ``msgid`` is the English text with ``%(name)s`` placeholders,
    marked with ``N_`` for the catalogs, and is always a constant of ours: text from the input or
    from a library (a FHIR model's validation error quotes the input) goes in ``params``.
    ``details`` optionally lists further findings, in English.
    """

    def __init__(self, msgid: str, details: list[str] | None = None, **params: Any):
        self.msgid, self.params = msgid, params
        self.message = msgid % params if params else msgid
        super().__init__(self.message)
        self.details = list(details or [])


Finding = tuple[str, dict[str, Any]]
"""One validation finding: an ``N_``-marked msgid and its parameters."""


def _rejected(findings: list[Finding]) -> ImportRejected:
    """The first finding as the message; every finding, in English, as the details."""
    msgid, params = findings[0]
    return ImportRejected(msgid, [m % p for m, p in findings], **params)


def canonical_bytes(data: dict) -> bytes:
    """Return deterministic UTF-8 JSON: sorted keys, no whitespace, no trailing newline."""
    try:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise ImportRejected(N_("The bundle cannot be written as canonical JSON: %(reason)s."),
                             reason=_short(exc)) from None


# --- value-set bindings -------------------------------------------------------

HL7_CS = "http://terminology.hl7.org/CodeSystem/"


@dataclass(frozen=True)
class _Binding:
    """A required binding: ``path`` (dots; lists are walked) must hold one of ``codes``.

    With ``system`` the value is a Coding or CodeableConcept: every coding in that
    system must use one of ``codes``; if ``required`` a CodeableConcept must have
    at least one such coding (an extensible binding sets ``required=False``).
    """

    path: str
    codes: tuple[str, ...]
    system: str | None = None
    required: bool = True


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


def _b(path: str, codes: str, system: str | None = None, required: bool = True) -> _Binding:
    return _Binding(path, _codes(codes), system, required)


_COMMON = (
    _b("identifier.use", "usual|official|temp|secondary|old"),
    _b("telecom.system", "phone|fax|email|pager|url|sms|other"),
    _b("telecom.use", "home|work|temp|old|mobile"),
    _b("address.use", "home|work|temp|old|billing"),
    _b("address.type", "postal|physical|both"),
    _b("name.use", "usual|official|temp|nickname|anonymous|old|maiden"),
    _b("text.status", "generated|extensions|additional|empty"),
)

_ENCOUNTER_STATUS = "planned|arrived|triaged|in-progress|onleave|finished|cancelled|entered-in-error|unknown"
_ACT_ENCOUNTER = "AMB|EMER|FLD|HH|IMP|ACUTE|NONAC|OBSENC|PRENC|SS|VR"
_GENDER = "male|female|other|unknown"

BUNDLE_TYPES = _codes(
    "document|message|transaction|transaction-response|batch|batch-response|history|searchset|collection"
)

_BUNDLE_BINDINGS = (
    _Binding("type", BUNDLE_TYPES),
    _b("entry.request.method", "GET|HEAD|POST|PUT|DELETE|PATCH"),
    _b("entry.search.mode", "match|include|outcome"),
)

BINDINGS: dict[str, tuple[_Binding, ...]] = {
    "Patient": (_b("gender", _GENDER), _b("link.type", "replaced-by|replaces|refer|seealso")),
    "Practitioner": (_b("gender", _GENDER),),
    "PractitionerRole": (),
    "Organization": (),
    "Medication": (_b("status", "active|inactive|entered-in-error"),),
    "Encounter": (
        _b("status", _ENCOUNTER_STATUS),
        _b("statusHistory.status", _ENCOUNTER_STATUS),
        _b("class", _ACT_ENCOUNTER, HL7_CS + "v3-ActCode", required=False),
    ),
    "EpisodeOfCare": (
        _b("status", "planned|waitlist|active|onhold|finished|cancelled|entered-in-error"),
    ),
    "Condition": (
        _b("clinicalStatus", "active|recurrence|relapse|inactive|remission|resolved", HL7_CS + "condition-clinical"),
        _b(
            "verificationStatus",
            "unconfirmed|provisional|differential|confirmed|refuted|entered-in-error",
            HL7_CS + "condition-ver-status",
        ),
    ),
    "Procedure": (
        _b("status", "preparation|in-progress|not-done|on-hold|stopped|completed|entered-in-error|unknown"),
    ),
    "MedicationRequest": (
        _b("status", "active|on-hold|cancelled|completed|entered-in-error|stopped|draft|unknown"),
        _b("intent", "proposal|plan|order|original-order|reflex-order|filler-order|instance-order|option"),
        _b("priority", "routine|urgent|asap|stat"),
    ),
    "MedicationDispense": (
        _b("status", "preparation|in-progress|cancelled|on-hold|completed|entered-in-error|stopped|declined|unknown"),
    ),
    "MedicationStatement": (
        _b("status", "active|completed|entered-in-error|intended|stopped|on-hold|unknown|not-taken"),
    ),
    "AllergyIntolerance": (
        _b("clinicalStatus", "active|inactive|resolved", HL7_CS + "allergyintolerance-clinical"),
        _b(
            "verificationStatus",
            "unconfirmed|confirmed|refuted|entered-in-error",
            HL7_CS + "allergyintolerance-verification",
        ),
        _b("type", "allergy|intolerance"),
        _b("category", "food|medication|environment|biologic"),
        _b("criticality", "low|high|unable-to-assess"),
        _b("reaction.severity", "mild|moderate|severe"),
    ),
    "Immunization": (_b("status", "completed|entered-in-error|not-done"),),
    "Observation": (
        _b("status", "registered|preliminary|final|amended|corrected|cancelled|entered-in-error|unknown"),
        _b("valueQuantity.comparator", "<|<=|>=|>"),
        _b("component.valueQuantity.comparator", "<|<=|>=|>"),
    ),
    "DiagnosticReport": (
        _b(
            "status",
            "registered|partial|preliminary|final|amended|corrected|appended|cancelled|entered-in-error|unknown",
        ),
    ),
    "Consent": (
        _b("status", "draft|proposed|active|rejected|inactive|entered-in-error"),
        _b("provision.type", "deny|permit"),
    ),
    "Composition": (_b("status", "preliminary|final|amended|entered-in-error"),),
}
"""Resource types accepted in a bundle, with the required bindings checked for each."""


def _walk(node: object, parts: list[str], prefix: str) -> Iterator[tuple[str, object]]:
    """Yield ``(path, value)`` for every value at the dotted path, walking lists."""
    if not parts:
        yield prefix, node
        return
    if not isinstance(node, dict) or parts[0] not in node:
        return
    value, here = node[parts[0]], f"{prefix}.{parts[0]}" if prefix else parts[0]
    items = enumerate(value) if isinstance(value, list) else [(None, value)]
    for index, item in items:
        yield from _walk(item, parts[1:], here if index is None else f"{here}[{index}]")


def _binding_errors(resource: dict, bindings: tuple[_Binding, ...], where: str) -> Iterator[Finding]:
    for binding in bindings:
        for path, value in _walk(resource, binding.path.split("."), ""):
            if binding.system is None:
                if value not in binding.codes:
                    yield N_("%(path)s: %(value)s is not one of %(codes)s"), {
                        "path": f"{where}.{path}", "value": repr(value), "codes": _join(binding.codes)}
            else:
                yield from _coded_errors(f"{where}.{path}", value, binding)


def _coded_errors(path: str, value: object, binding: _Binding) -> Iterator[Finding]:
    concept = isinstance(value, dict) and "coding" in value
    codings = value.get("coding", []) if concept else [value]
    in_system = [c for c in codings if isinstance(c, dict) and c.get("system") == binding.system]
    codes = _join(binding.codes)
    if concept and binding.required and not in_system:
        yield N_("%(path)s: needs a coding from %(system)s (%(codes)s)"), {
            "path": path, "system": binding.system, "codes": codes}
    for coding in in_system:
        if coding.get("code") not in binding.codes:
            yield N_("%(path)s: %(code)s is not one of %(codes)s in %(system)s"), {
                "path": path, "code": repr(coding.get("code")), "codes": codes, "system": binding.system}


def _join(codes: tuple[str, ...]) -> str:
    return "|".join(codes)


# --- validation ---------------------------------------------------------------


def validate_bundle(bundle: dict) -> None:
    """Validate a FHIR R4 Bundle; raise ImportRejected naming resource and field path.

    Checks: R4B model of the Bundle and of each entry resource; accepted resource
    types; required bindings (``BINDINGS``); each entry has a fullUrl that
    matches its resource id; every reference resolves inside the bundle.
    """
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        raise ImportRejected(N_("Expected a FHIR Bundle, found %(found)s."), found=repr(found))
    _check_depth(bundle)
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise ImportRejected(N_("Bundle.entry: must be a list."))
    _validate_shell(bundle, entries)
    for index, entry in enumerate(entries):
        _validate_entry(index, entry)
    _check_identity(entries)
    _check_references(entries)


def _check_depth(data: object) -> None:
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ImportRejected(N_("The bundle nests deeper than %(max)d levels."), max=MAX_DEPTH)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)


def _validate_shell(bundle: dict, entries: list) -> None:
    shell = dict(bundle, entry=[_without_resource(e) for e in entries]) if entries else bundle
    errors = list(_binding_errors(bundle, _BUNDLE_BINDINGS, "Bundle"))
    if errors:
        raise _rejected(errors)
    _model_check("Bundle", shell, "Bundle")


def _without_resource(entry: object) -> object:
    return {k: v for k, v in entry.items() if k != "resource"} if isinstance(entry, dict) else entry


def _validate_entry(index: int, entry: dict) -> None:
    resource = entry.get("resource")
    if not isinstance(resource, dict):
        raise ImportRejected(N_("entry[%(index)d].resource: missing; every entry must carry a resource."), index=index)
    kind = resource.get("resourceType")
    where = f"entry[{index}].resource({kind})"
    if not isinstance(kind, str) or kind not in BINDINGS:
        accepted = ", ".join(sorted(BINDINGS))
        raise ImportRejected(
            N_("entry[%(index)d].resource: resource type %(kind)s is not accepted (accepted: %(accepted)s)."),
            index=index, kind=repr(kind), accepted=accepted)
    _model_check(kind, resource, where)
    errors = list(_binding_errors(resource, _COMMON + BINDINGS[kind], where))
    if errors:
        raise _rejected(errors)


def _model_check(kind: str, data: dict, where: str) -> None:
    try:
        get_fhir_model_class(kind).model_validate(data)
    except ValidationError as exc:  # the library's words quote the input: parameters, never the msgid
        found = [(f"{where}.{_loc(e['loc'])}", _pydantic_message(e)) for e in exc.errors()]
        raise ImportRejected(N_("%(path)s: %(problem)s"), [f"{path}: {problem}" for path, problem in found],
                             path=found[0][0], problem=found[0][1]) from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise ImportRejected(N_("%(path)s: %(problem)s"), path=where, problem=_short(exc)) from None


def _loc(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".") or "(resource)"


def _pydantic_message(error: dict) -> str:
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, (str, int, float)) and error["type"] != "missing":
        return f"{message} (got {_clip(repr(value))})"
    return message


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(exc: BaseException) -> str:
    return _clip(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 200)


_URL_TAIL = re.compile(r"/([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


def _check_identity(entries: list[dict]) -> None:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        resource, full_url = entry["resource"], entry.get("fullUrl")
        where = f"entry[{index}].resource({resource['resourceType']})"
        rid = resource.get("id")
        if not full_url:
            raise ImportRejected(N_("entry[%(index)d].fullUrl: missing; every entry needs one."), index=index)
        if not rid:
            raise ImportRejected(N_("%(where)s.id: missing; every resource needs an id matching its fullUrl."),
                                 where=where)
        if not _full_url_matches(full_url, resource["resourceType"], rid):
            raise ImportRejected(N_("entry[%(index)d].fullUrl: %(url)s does not match %(where)s.id %(id)s."),
                                 index=index, url=repr(full_url), where=where, id=repr(rid))
        for key in (full_url, f"{resource['resourceType']}/{rid}"):
            if key in seen:
                raise ImportRejected(N_("entry[%(index)d].fullUrl: %(url)s appears more than once in the bundle."),
                                     index=index, url=repr(key))
            seen.add(key)


def _full_url_matches(full_url: str, kind: str, rid: str) -> bool:
    if full_url.startswith("urn:uuid:"):
        return full_url == f"urn:uuid:{rid}"
    tail = _URL_TAIL.search(full_url)
    return bool(full_url.startswith(("http://", "https://")) and tail and tail.groups() == (kind, rid))


def _check_references(entries: list[dict]) -> None:
    targets = {e["fullUrl"] for e in entries}
    targets |= {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries}
    for index, entry in enumerate(entries):
        resource = entry["resource"]
        local = {"#"} | {f"#{c.get('id')}" for c in resource.get("contained", []) if isinstance(c, dict)}
        for path, ref in _references(resource, ""):
            if ref not in targets and ref not in local:
                raise ImportRejected(
                    N_("%(path)s: reference %(reference)s does not resolve to an entry in the bundle."),
                    path=f"entry[{index}].resource({resource['resourceType']}).{path}", reference=_clip(repr(ref)),
                )


def _references(node: object, path: str) -> Iterator[tuple[str, str]]:
    """Yield ``(path, reference)`` for every ``reference`` string below ``node``."""
    stack = [(node, path)]
    while stack:
        current, here = stack.pop()
        if isinstance(current, dict):
            if isinstance(current.get("reference"), str):
                yield f"{here}.reference".lstrip("."), current["reference"]
            stack.extend((v, f"{here}.{k}") for k, v in current.items() if isinstance(v, (dict, list)))
        elif isinstance(current, list):
            stack.extend((v, f"{here}[{i}]") for i, v in enumerate(current))
