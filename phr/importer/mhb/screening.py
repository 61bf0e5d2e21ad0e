"""r11 cancer screenings → one Observation per result row (r11_1)."""
from __future__ import annotations

from phr.labels import N_

from .builder import Builder, seed
from .document import Note
from .values import fhir_date


def map_row(b: Builder, section: str, index: int, row: dict) -> None:
    get = lambda n: row.get(f"r11.{n}")
    results = row.get("r11_1", [])
    if not results:
        b.skip("r11", index, Note(N_("screening type without results (no r11_1 rows)")))
        return
    if not b.first_time("r11", index, row):
        return
    parent = b.id("r11", seed(row))
    for position, child in enumerate(results):
        value = child.get("r11_1.3")
        b.observation(
            b.id("Observation", parent, seed(child)),
            {"text": get(2) or get(1) or "癌症篩檢 (cancer screening)"},
            {"valueString": value} if value else {}, fhir_date(child.get("r11_1.1")),
            {"text": get(1)} if get(1) else None,
            performer=[{"display": child["r11_1.2"]}] if child.get("r11_1.2") else None,
            note=[{"text": child["r11_1.4"]}] if child.get("r11_1.4") else None,
        )
