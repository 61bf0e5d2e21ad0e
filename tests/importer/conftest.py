"""Fixtures for the importer tests: the sample downloads, converted once per session."""
from __future__ import annotations

import pytest
from importer_helpers import read

from phr.importer import ImportResult, import_file


@pytest.fixture(scope="session")
def full() -> ImportResult:
    return import_file(read("mhb/full.json"), "full.json")


@pytest.fixture(scope="session")
def scenario() -> ImportResult:
    return import_file(read("mhb/scenario.json"), "健康存摺醫療類_20171031.json")
