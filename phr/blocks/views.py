"""Block pages: recent blocks with the chain diagram, and one block with the records anchored in it."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from .. import services
from ..htmx import fragment_wanted
from . import service

bp = Blueprint("blocks", __name__, url_prefix="/blocks")


@bp.app_template_filter("utc_time")
def utc_time(timestamp: int):
    return service.utc(timestamp)


@bp.errorhandler(service.BlockNotFound)
def block_not_found(exc):
    return render_template("blocks/block.html", view=None, missing=exc.args[0]), 404


@bp.errorhandler(service.ChainError)
def chain_down(exc):
    return render_template("blocks/index.html", page=None, diagram=None, chain_error=str(exc)), 503


@bp.get("/")
@login_required
def index():
    """Recent blocks, newest first; the first page also draws the chain and refreshes it every few seconds."""
    chain = services.ledger()
    before = request.args.get("before", type=int)
    if before is None and fragment_wanted(target="chain"):
        resp = render_template("blocks/_chain.html", diagram=service.diagram(chain), live=True)
    else:
        page = service.recent_blocks(chain, current_user, before=before)
        resp = render_template("blocks/index.html", page=page,
                               diagram=service.diagram(chain) if before is None else None)
    return resp


@bp.get("/<int:number>")
@login_required
def block(number: int):
    """One block with the paper's fields, and the records anchored in it that the viewer may see."""
    return render_template("blocks/block.html", view=service.block_view(services.ledger(), current_user, number))
