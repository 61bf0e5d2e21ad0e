"""Pure helpers of the benchmark: percentiles, ratios and the printed table (no stack, kept tested)."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0–100) by linear interpolation between closest ranks; ValueError if empty."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError("p must be within 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float, baseline: float) -> float | None:
    """``value / baseline``, or None when the baseline is zero (no meaningful ratio)."""
    return None if baseline == 0 else value / baseline


@dataclass(frozen=True)
class Row:
    """One line of the results: a figure, its baseline measured in the same run, and how to read it."""

    metric: str
    value: float
    baseline: float
    unit: str
    baseline_label: str
    target: str = ""

    @property
    def ratio(self) -> float | None:
        return ratio(self.value, self.baseline)


def _num(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.01:
        return f"{value:.2f}"
    return f"{value:.2g}"


def format_ratio(value: float | None) -> str:
    """``12.3×``, ``0.004×`` or ``—``."""
    if value is None:
        return "—"
    return f"{_num(value)}×"


def table(rows: list[Row]) -> str:
    """A Markdown table: metric | value | baseline | ratio | target."""
    header = ["metric", "value", "baseline (same run)", "ratio", "target"]
    lines = [[r.metric, f"{_num(r.value)} {r.unit}", f"{_num(r.baseline)} {r.unit} ({r.baseline_label})",
              format_ratio(r.ratio), r.target] for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]

    def fmt(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    return "\n".join([fmt(header), "| " + " | ".join("-" * w for w in widths) + " |", *map(fmt, lines)])


def to_json(rows: list[Row], meta: dict) -> str:
    """The results as JSON: ``meta`` plus one object per row, with its ratio."""
    return json.dumps({"meta": meta, "rows": [asdict(r) | {"ratio": r.ratio} for r in rows]}, indent=2) + "\n"
