"""``flask --app phr create-validator``: create a validator operator account (there is no public sign-up for it)."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..auth import service as auth
from . import service

NODES_FILE = "validator-nodes.json"


def record_nodes(instance_dir: str, key: str, urls: list[str]) -> Path:
    """Add ``key → urls`` to ``INSTANCE_DIR/validator-nodes.json`` (read at start-up, see phr/config.py)."""
    path = Path(instance_dir) / NODES_FILE
    nodes = json.loads(path.read_text()) if path.exists() else {}
    nodes[key] = urls
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nodes, indent=2) + "\n")
    return path


@click.command("create-validator")
@click.option("--email", required=True, help="The operator's login email.")
@click.option("--name", "display_name", required=True, help="Operator or institution name shown to others.")
@click.option("--node-url", "node_urls", multiple=True, required=True,
              help="JSON-RPC URL of the operator's own signer node (repeat for several).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Login password (prompted when left out).")
@click.option("--skip-node-check", is_flag=True, help="Do not require the node to answer clique_getSigners now.")
@with_appcontext
def create_validator(email: str, display_name: str, node_urls: tuple[str, ...], password: str,
                     skip_node_check: bool) -> None:
    """Create a validator operator account bound to their own node(s), and print its recovery code."""
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    if not skip_node_check:
        for url in node_urls:
            try:
                service.check_node(url)
            except service.NodeError as exc:
                raise click.ClickException(f"{exc} A validator's node must serve the clique JSON-RPC API.") from None
    try:
        login = auth.register(email=email, password=password, role="validator", display_name=display_name,
                              custody_mode="platform", allowed_roles=("validator",))
    except auth.EmailTaken as exc:
        raise click.ClickException(str(exc)) from None
    kit = auth.pending_kit(login.key_session) or {}
    auth.logout(login.key_session)  # the CLI keeps no login open
    user = login.user
    path = record_nodes(current_app.config["INSTANCE_DIR"], user.email, list(node_urls))
    current_app.config.setdefault("VALIDATOR_NODE_URLS", {})[user.email] = list(node_urls)
    click.echo(f"Created validator operator {user.email} (account {user.eth_address}).")
    click.echo(f"Node(s) recorded in {path}; restart the app to load them.")
    click.echo(f"Recovery code (give it to the operator once, keep it offline): {kit.get('recovery_code', '-')}")
