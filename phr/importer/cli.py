"""Command-line tools for clinics' IT staff: ``convert`` an MHB file, ``validate`` a FHIR Bundle.

Exit codes: 0 success, 1 the file was rejected, 2 usage error (click's default).
Run as ``python -m phr.importer convert IN -o OUT`` or ``python -m phr.importer validate FILE``.
"""
from __future__ import annotations

from pathlib import Path

import click

from . import ImportRejected, ImportResult, import_file


def _load(path: Path) -> ImportResult:
    try:
        return import_file(path.read_bytes(), path.name)
    except ImportRejected as exc:
        click.echo(f"Rejected: {exc.message}", err=True)
        for detail in exc.details[1:]:
            click.echo(f"  {detail}", err=True)
        raise SystemExit(1) from None


def _summary_lines(result: ImportResult) -> list[str]:
    summary = result.summary
    lines = [f"format: {result.source_format}", f"sha256: {result.sha256}"]
    lines += [f"{kind}: {count}" for kind, count in summary.counts.items()]
    lines.append(f"dates: {summary.date_from or '-'} to {summary.date_to or '-'}")
    lines += [f"skipped {row.section}[{row.row_index}]: {row.reason}" for row in summary.skipped]
    lines += [f"note: {note}" for note in summary.notes]
    return lines


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the canonical FHIR Bundle JSON.")  # fmt: skip
def convert(source: Path, output: Path) -> None:
    """Convert SOURCE (My Health Bank JSON/XML, or a FHIR Bundle) to a canonical FHIR Bundle."""
    result = _load(source)
    output.write_bytes(result.canonical)
    click.echo("\n".join(_summary_lines(result)))


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(source: Path) -> None:
    """Check that SOURCE is a valid FHIR R4 Bundle this platform accepts."""
    result = _load(source)
    if result.source_format != "fhir-json":
        click.echo(f"Rejected: {source.name} is a My Health Bank file, not a FHIR Bundle; use convert.", err=True)
        raise SystemExit(1)
    click.echo(f"OK: {sum(result.summary.counts.values())} resources, sha256 {result.sha256}")


@click.group()
def main() -> None:
    """Import My Health Bank downloads and FHIR Bundles."""


main.add_command(convert)
main.add_command(validate)
