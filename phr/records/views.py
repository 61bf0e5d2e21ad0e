"""Record pages: upload with preview and live anchoring progress, the viewer, export and proof."""
from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.forms import EmptyForm
from ..auth.service import current_keys, role_required
from ..htmx import fragment_wanted
from ..importer import ImportRejected
from ..sharing import redaction
from ..view import build_view, merge_views
from . import service
from .forms import UploadForm

bp = Blueprint("records", __name__, url_prefix="/records")

TIMELINE_RECORDS = 20  # records decrypted into the merged timeline; older ones are listed and one click away
TIMELINE_PAGE = 50  # rows per page of the records list (?page=2 … via "Older records")


@bp.errorhandler(service.RecordNotFound)
def _not_found(exc):
    return render_template("records/error.html", message=exc.message), 404


@bp.errorhandler(service.RecordError)
def _record_error(exc):
    return render_template("records/error.html", message=exc.message), 409


@bp.app_errorhandler(413)
def _too_large(_exc):
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = _("The file is larger than %(limit)s MB, the upload limit. Nothing was stored.", limit=limit)
    return render_template("records/error.html", message=message), 413


def _reanchor_taken() -> None:
    """The author's visit re-signs anchors whose id was taken on chain (only their unlocked key can)."""
    if service.anchors_taken(current_user):
        service.reanchor_taken(current_user, current_keys())


@bp.get("/")
@role_required("patient")
def timeline():
    # Cost follows what is shown, not what is stored: one page of rows, and the merged view on page 1 only.
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    _reanchor_taken()
    records, older = service.records_page(current_user, page, TIMELINE_PAGE)
    shown = records[:TIMELINE_RECORDS] if page == 1 else []
    keys = current_keys() if shown else None
    if keys is not None:
        redaction.catch_up(current_user, keys)  # records doctors wrote meanwhile, for the patient's other doctors
    opened = [service.open_record(r, current_user, keys) for r in shown]
    views = [(o.bundle, v) for o in opened if (v := _view(o)) is not None]
    marks = redaction.hide_marks(current_user, keys, [b for b, _ in views]) if views else None
    return render_template("records/timeline.html", records=records, page=page, older=older,
                           merged=len(shown), more=page == 1 and (older or len(records) > len(shown)),
                           states={r.id: service.anchor_state(r) for r in records},
                           view=merge_views([v for _, v in views]) if views else None, marks=marks)


def _view(opened: service.Opened):
    """The viewer model of an opened record, or None if it cannot be shown (modified, missing)."""
    if opened.bundle is None or opened.integrity.state in ("modified", "missing"):
        return None
    r = opened.record
    author = r.author.display_name if r.author_id != r.owner_id else None
    return build_view(opened.bundle, record_id=r.id, author=author)


@bp.route("/upload", methods=["GET", "POST"])
@role_required("patient")
def upload():
    form = UploadForm()
    error = message = None
    if form.validate_on_submit():
        with form.file.data.stream as upload:  # close the spooled temp file whatever happens
            data = upload.read()
        try:
            staged = service.stage_upload(current_user, data, form.file.data.filename)
        except ImportRejected as exc:
            error, message = exc, _(exc.msgid, **exc.params)  # in the reader's language; details stay English
        else:
            return render_template("records/preview.html" if not fragment_wanted() else "records/_preview.html",
                                   staged=staged, form=EmptyForm())
    status = 422 if (error or form.errors) and request.method == "POST" else 200
    return render_template("records/upload.html", form=form, error=error, message=message), status


@bp.post("/upload/<staged_id>/confirm")
@role_required("patient")
def confirm(staged_id: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    keys = current_keys()
    record = service.confirm_upload(current_user, staged_id, keys)
    redaction.share_new_record(current_user, keys, record)  # the patient's hide rules apply to it too
    flash(_("Your record is encrypted and stored; it is being anchored on the chain."), "info")
    return redirect(url_for("records.detail", record_id=record.id), 303)


@bp.post("/upload/<staged_id>/discard")
@role_required("patient")
def discard(staged_id: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    service.discard_upload(current_user, staged_id)
    flash(_("The upload was discarded; nothing was stored."), "info")
    return redirect(url_for("records.upload"), 303)


@bp.get("/<record_id>")
@role_required("patient")
def detail(record_id: str):
    record = service.load_record_for(current_user, record_id)
    _reanchor_taken()
    keys = current_keys()
    opened = service.open_record(record, current_user, keys)
    view = _view(opened)
    marks = redaction.hide_marks(current_user, keys, [opened.bundle]) if view else None
    return render_template("records/detail.html", opened=opened, record=record, state=service.anchor_state(record),
                           view=view, marks=marks)


@bp.get("/<record_id>/status")
@role_required("patient")
def status(record_id: str):
    record = service.load_record_for(current_user, record_id)
    return render_template("records/_anchor_status.html", record=record, state=service.anchor_state(record))


@bp.get("/<record_id>/bundle.json")
@role_required("patient")
def export_bundle(record_id: str):
    record = service.load_record_for(current_user, record_id)
    opened = service.open_record(record, current_user, current_keys())
    if opened.canonical is None or opened.integrity.state == "modified":
        raise service.RecordError(opened.integrity.message)
    return Response(opened.canonical, mimetype="application/fhir+json",
                    headers={"Content-Disposition": f'attachment; filename="phr-{record.id[:12]}.json"'})


@bp.get("/<record_id>/proof.json")
@role_required("patient")
def export_proof(record_id: str):
    record = service.load_record_for(current_user, record_id)
    opened = service.open_record(record, current_user, current_keys())
    body = json.dumps(service.proof_for(opened), indent=2, sort_keys=True) + "\n"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="phr-{record.id[:12]}.proof.json"'})
