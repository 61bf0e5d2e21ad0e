"""The benchmark's pure helpers stay correct (the benchmark itself is not part of the suite: python -m bench)."""
import json
import sys

import pytest

from phr.config import ROOT

sys.path.insert(0, str(ROOT))  # bench/ is a top-level folder of the repository, not part of the installed package
from bench.report import Row, format_ratio, percentile, ratio, table, to_json


def test_percentile_interpolates_between_ranks():
    assert percentile([3.0], 95) == 3.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(101)), 95) == 95
    assert percentile([10, 0, 5], 0) == 0 and percentile([10, 0, 5], 100) == 10
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_ratio_and_its_format():
    assert ratio(50, 1) == 50 and ratio(1, 0) is None
    assert format_ratio(None) == "—" and format_ratio(52.4) == "52.4×" and format_ratio(0.004) == "0.004×"


def test_table_and_json_show_each_figure_with_its_baseline():
    rows = [Row("throughput (batch)", 400.0, 8.0, "rec/s", "per-record", "≥ 50×"),
            Row("gas per record (batch)", 270.0, 180_000.0, "gas", "per-record", "≤ 1/50")]
    text = table(rows)
    lines = text.splitlines()
    assert len(lines) == 4 and len({len(line) for line in lines}) == 1  # aligned columns
    assert "50×" in lines[2] and "8.00 rec/s (per-record)" in lines[2] and "0.0015×" in lines[3]
    doc = json.loads(to_json(rows, {"machine": "x"}))
    assert doc["meta"] == {"machine": "x"} and doc["rows"][0]["ratio"] == 50
