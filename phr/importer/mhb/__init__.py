"""Taiwan NHI My Health Bank (健康存摺) downloads: parse JSON/XML, map to a FHIR R4 Bundle.

``parse`` turns either format into one normalised ``MhbDocument``; ``to_bundle`` hands
each row of sections r1–r14 to its section's mapper (one module per section, table
below), which adds resources through the ``builder`` core with deterministic ids. The
field reference is /work/shared/reference/mhb-format.md; docs/importer.md has the
mapping table.
"""
from __future__ import annotations

from . import allergies, checkups, consent, imaging, labs, programmes, screening, vaccinations, visits
from .builder import Builder, Mapper
from .document import MhbConversion, MhbDocument, Note, SkippedRow
from .parse import parse_json_object, parse_xml
from .values import code, diagnosis_codings, fhir_date

__all__ = ["MhbConversion", "MhbDocument", "Note", "SkippedRow", "code", "diagnosis_codings", "fhir_date",
           "parse_json_object", "parse_xml", "to_bundle"]  # fmt: skip

MAPPERS: dict[str, Mapper] = {
    "r1": visits.map_row, "r2": visits.map_row, "r3": visits.map_row, "r4": allergies.map_row,
    "r5": consent.map_row, "r6": vaccinations.map_row, "r7": labs.map_row, "r8": imaging.map_row,
    "r9": visits.map_row, "r10": checkups.map_row, "r11": screening.map_row,
    "r12": programmes.map_row, "r13": programmes.map_row, "r14": programmes.map_row,
}  # fmt: skip
"""Section → mapper; every section of ``parse.SECTIONS`` has one."""


def to_bundle(document: MhbDocument) -> MhbConversion:
    """Map every section of a parsed download to one FHIR R4 collection Bundle."""
    return Builder(document).build(MAPPERS)
