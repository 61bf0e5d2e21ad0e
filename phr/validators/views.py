"""The validators page: signer set, who sealed recent blocks, pending votes, and voting via the operator's own node."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import services
from ..auth.service import role_required
from ..htmx import fragment_wanted
from . import service
from .cli import create_validator
from .forms import DiscardForm, ProposeForm

bp = Blueprint("validators", __name__, url_prefix="/validators", cli_group=None)
bp.cli.add_command(create_validator)


def _own_nodes() -> list[str]:
    return service.node_urls_for(current_user, current_app.config.get("VALIDATOR_NODE_URLS") or {})


def _state(form: ProposeForm | None = None, message: str | None = None) -> dict:
    """Everything the page and its fragments show."""
    overview = service.overview(services.ledger())
    urls = _own_nodes()
    return {"overview": overview, "nodes": service.node_proposals(urls, overview.signers), "has_node": bool(urls),
            "form": form or ProposeForm(formdata=None), "discard_form": DiscardForm(formdata=None),
            "message": message}


def _respond(form: ProposeForm, message: str | None, error: bool):
    """HTMX: the proposals fragment (422 on error). Plain: flash and 303 back, or the full page with errors."""
    if fragment_wanted():
        state = _state(form if error else None, message)
        return render_template("validators/_proposals.html", **state), 422 if error else 200
    if error:
        return render_template("validators/index.html", **_state(form, message)), 422
    flash(message)
    return redirect(url_for(".index"), 303)


@bp.errorhandler(service.ChainError)
def chain_down(_exc):
    return render_template("validators/index.html", chain_error=True), 503


@bp.get("/")
@role_required("validator")
def index():
    state = _state()
    if fragment_wanted(target="signers"):
        return render_template("validators/_signer_list.html", **state)
    return render_template("validators/index.html", **state)


@bp.post("/proposals")
@role_required("validator")
def propose():
    """Vote (on the operator's own node) to add or remove a signer."""
    form = ProposeForm()
    if not form.validate_on_submit():
        return _respond(form, None, error=True)
    authorize = form.vote.data == "add"
    try:
        service.propose(_own_nodes(), form.address.data, authorize, services.ledger().signers())
    except service.GovernanceError as exc:
        form.address.errors = [*form.address.errors, str(exc)]
        return _respond(form, None, error=True)
    message = (_("Your node now votes to add %(address)s in every block it seals, until the vote passes or you "
                  "discard it.", address=form.address.data) if authorize else
                _("Your node now votes to remove %(address)s in every block it seals, until the vote passes or you "
                  "discard it.", address=form.address.data))
    return _respond(ProposeForm(formdata=None), message, error=False)


@bp.post("/proposals/discard")
@role_required("validator")
def discard():
    """Withdraw the operator's pending vote about one address."""
    form = DiscardForm()
    if not form.validate_on_submit():
        reasons = [str(e) for e in form.address.errors] or [_("the form expired, reload the page")]
        return _respond(ProposeForm(formdata=None), _("That vote could not be discarded: %(reason)s",
                                                      reason="; ".join(reasons)), error=True)
    try:
        service.discard(_own_nodes(), form.address.data)
    except service.GovernanceError as exc:
        return _respond(ProposeForm(formdata=None), str(exc), error=True)
    return _respond(ProposeForm(formdata=None), _("Your vote about %(address)s was discarded.", address=form.address.data),
                    error=False)
