"""``phr``: the one console command for the tools clinics' IT staff run.

    phr import convert myhealthbank.xml -o bundle.json   # My Health Bank or FHIR → one FHIR R4 Bundle
    phr import validate bundle.json                      # check a FHIR R4 Bundle
    phr verify bundle.json bundle.proof.json --rpc URL   # check an export against the chain, no account needed
    phr devnet up|down|status                            # the local clique devnet (development machines)

Each subcommand is the module's own command (``python -m phr.importer`` etc. keep working); this group only
gives them one name. The app never imports this module.
"""
from __future__ import annotations

import sys

import click

from .devnet.__main__ import main as devnet_main
from .importer.cli import main as import_group
from .verify import main as verify_main

_PASS_THROUGH = {"ignore_unknown_options": True, "help_option_names": []}


@click.group()
def main() -> None:
    """PHR Exchange tools: import, verify, devnet."""


main.add_command(import_group, name="import")


@main.command(context_settings=_PASS_THROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def verify(args: tuple[str, ...]) -> None:
    """Verify an exported bundle and proof against the chain (``phr verify --help``)."""
    sys.exit(verify_main(list(args)))


@main.command(context_settings=_PASS_THROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def devnet(args: tuple[str, ...]) -> None:
    """Manage the local clique devnet: up, down, status (``phr devnet --help``)."""
    sys.exit(devnet_main(list(args)))
