"""The convert/validate commands for clinics' IT staff, via CliRunner and one real subprocess."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from importer_helpers import DATA

from phr.importer.cli import convert, main, validate

ROOT = Path(__file__).resolve().parents[2]


def test_convert_writes_canonical_bundle_and_prints_summary(tmp_path, scenario):
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(convert, [str(DATA / "mhb/scenario.xml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == scenario.canonical
    assert "Encounter: 5" in result.output and f"sha256: {scenario.sha256}" in result.output
    assert "skipped r1_1[1]:" in result.output


def test_validate_accepts_a_valid_bundle():
    result = CliRunner().invoke(validate, [str(DATA / "fhir/valid-collection.json")])
    assert result.exit_code == 0 and result.output.startswith("OK: 3 resources, sha256 ")


def test_validate_reports_the_error_and_exits_1():
    result = CliRunner().invoke(validate, [str(DATA / "fhir/invalid-gender.json")])
    assert result.exit_code == 1
    assert "Rejected: entry[0].resource(Patient).gender: 'banana' is not one of" in result.output
    assert "Traceback" not in result.output


def test_validate_refuses_an_mhb_file():
    result = CliRunner().invoke(validate, [str(DATA / "mhb/scenario.json")])
    assert result.exit_code == 1 and "use convert" in result.output


def test_usage_errors_exit_2(tmp_path):
    assert CliRunner().invoke(main, ["convert", str(DATA / "mhb/scenario.json")]).exit_code == 2
    assert CliRunner().invoke(main, ["validate", str(tmp_path / "missing.json")]).exit_code == 2


def test_python_dash_m_runs_convert_then_validate(tmp_path):
    out = tmp_path / "out.json"
    run = [sys.executable, "-m", "phr.importer"]
    converted = subprocess.run([*run, "convert", str(DATA / "mhb/full.json"), "-o", str(out)],
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert converted.returncode == 0, converted.stderr
    checked = subprocess.run([*run, "validate", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stdout.startswith("OK: "), checked.stderr
    rejected = subprocess.run([*run, "validate", str(DATA / "fhir/invalid-bundle-type.json")],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert rejected.returncode == 1 and "Rejected: Bundle.type: 'nonsense'" in rejected.stderr


def test_the_phr_console_command_runs_each_tool(tmp_path):
    """``phr`` (pyproject's console script, installed by make setup) reaches import, verify and devnet."""
    phr = Path(sys.executable).parent / "phr"
    assert phr.exists(), "the phr console script is missing: run make setup"
    out = tmp_path / "out.json"
    converted = subprocess.run([str(phr), "import", "convert", str(DATA / "mhb/full.json"), "-o", str(out)],
                               capture_output=True, text=True, timeout=60)
    assert converted.returncode == 0, converted.stderr
    checked = subprocess.run([str(phr), "import", "validate", str(out)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stdout.startswith("OK: "), checked.stderr
    unreadable = subprocess.run([str(phr), "verify", str(out), str(tmp_path / "missing.proof.json"),
                                 "--rpc", "http://127.0.0.1:9"], capture_output=True, text=True, timeout=60)
    assert unreadable.returncode == 2 and "cannot read input" in unreadable.stderr
    status = subprocess.run([str(phr), "devnet", "status", "--datadir", str(tmp_path / "dn")],
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
