"""Sharing pages: the patient's authority control, hide rules and access log; the doctor's patients."""
from __future__ import annotations

from datetime import UTC, datetime, time
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from .. import origin
from ..auth.forms import EmptyForm
from ..auth.service import current_keys, role_required
from ..htmx import fragment_wanted
from ..ledger import ChainError
from ..records import service as records
from ..view import build_view, item_keys, merge_views
from . import redaction, service
from .forms import GrantForm, HideForm, PrivacyForm, UnhideForm, VisitForm

bp = Blueprint("sharing", __name__, url_prefix="/sharing")


@bp.errorhandler(records.RecordNotFound)
def _not_found(exc):
    return render_template("records/error.html", message=exc.message), 404


@bp.errorhandler(records.RecordError)
def _refused(exc):
    if fragment_wanted():
        resp = Response(render_template("sharing/_error.html", message=exc.message), 422)
        resp.headers.update({"HX-Retarget": "#sharing-error", "HX-Reswap": "outerHTML"})
        return resp
    return render_template("records/error.html", message=exc.message), 422


# ----- patients: authority control ------------------------------------------------------------
def _grant_form(**kw) -> GrantForm:
    form = GrantForm(**kw)
    form.records.choices = [SelectChoice(r.id, f"{r.created_at:%Y-%m-%d %H:%M} · {r.source_format} · "
                                         f"{r.resource_count} items") for r in records.records_for(current_user)]
    return form


def _grants_changed() -> str:
    """The htmx answer to a grant or revoke: the grants list, and the directory out of band so that each
    doctor's card shows whether they have access (filtered by the search box, which htmx sends along)."""
    q = request.form.get("q", "")
    return render_template("sharing/_grants_changed.html", grants=service.active_grants(current_user),
                           revoke_form=EmptyForm(), doctors=service.directory(q), form=_grant_form(formdata=None), q=q)


@bp.get("/")
@role_required("patient")
def index():
    q = request.args.get("q", "")
    doctors = service.directory(q)
    if fragment_wanted(trigger="doctor-search"):
        return render_template("sharing/_directory.html", doctors=doctors, grants=service.active_grants(current_user),
                               form=_grant_form(), q=q)
    return render_template("sharing/index.html", doctors=doctors, grants=service.active_grants(current_user),
                           form=_grant_form(), revoke_form=EmptyForm(), q=q)


@bp.post("/grant")
@role_required("patient")
def grant():
    form = _grant_form()
    if not form.validate_on_submit():
        raise records.RecordError("; ".join(e for errors in form.errors.values() for e in errors))
    expires = datetime.combine(form.expires.data, time.max, UTC) if form.expires.data else None
    chosen = form.records.data if form.scope.data == "records" else None
    g = service.grant_access(current_user, current_keys(), int(form.doctor_id.data), record_ids=chosen, expires_at=expires)
    if fragment_wanted():
        return _grants_changed()
    flash(_("%(name)s can read your records once the grant is confirmed on the chain.", name=g.doctor.display_name), "info")
    return redirect(url_for("sharing.index"), 303)


@bp.post("/grants/<int:grant_id>/revoke")
@role_required("patient")
def revoke(grant_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    g = service.revoke_access(current_user, current_keys(), grant_id)
    if fragment_wanted():
        return _grants_changed()
    flash(_("%(name)s can no longer read your records.", name=g.doctor.display_name), "info")
    return redirect(url_for("sharing.index"), 303)


@bp.route("/records/<record_id>/privacy", methods=["GET", "POST"])
@role_required("patient")
def privacy(record_id: str):
    record = records.load_record_for(current_user, record_id)
    keys = current_keys()
    opened = records.open_record(record, current_user, keys)
    if opened.bundle is None:
        raise records.RecordError(opened.integrity.message)
    form = PrivacyForm()
    form.hidden.choices = [SelectChoice(url, label) for url, _kind, label in item_keys(opened.bundle)]
    if request.method == "GET":
        form.hidden.data = sorted(redaction.item_rules_of(current_user, keys, opened.bundle))
    elif form.validate_on_submit():
        effective = redaction.set_item_rules(current_user, keys, record.id, set(form.hidden.data))
        flash(ngettext("%(num)d item is now withheld from doctors.", "%(num)d items are now withheld from doctors.",
                       len(effective)) if effective
              else _("Doctors you share this record with see all of it."), "info")
        return redirect(url_for("sharing.privacy", record_id=record.id), 303)
    return render_template("sharing/privacy.html", record=record, form=form), 422 if form.errors else 200


@bp.get("/hidden")
@role_required("patient")
def hidden():
    return render_template("sharing/hidden.html", rules=redaction.rules_with_places(current_user, current_keys()))


@bp.post("/hidden")
@role_required("patient")
def hide():
    form = HideForm()
    if not form.validate_on_submit():
        abort(400)
    redaction.hide(current_user, current_keys(), form.record_id.data, form.item.data, form.kind.data)
    return _hide_answer(form, _("Hidden from every doctor, in every record that holds it, now and in future "
                                "uploads."))


@bp.post("/hidden/show")
@role_required("patient")
def show():
    """The record page's "show again": drops the rule its hide button made."""
    form = HideForm()
    if not form.validate_on_submit():
        abort(400)
    redaction.show(current_user, current_keys(), form.record_id.data, form.item.data, form.kind.data)
    return _hide_answer(form, _("Doctors you share with see it again, unless another rule hides it."))


def _hide_answer(form: HideForm, message: str):
    """Plain form posts only: the buttons sit inside record content, where htmx is disabled (hx-disable)."""
    flash(message, "info")
    return redirect(origin.back(url_for("records.detail", record_id=form.record_id.data)), 303)


@bp.post("/hidden/remove")
@role_required("patient")
def unhide():
    form = UnhideForm()
    if not form.validate_on_submit():
        abort(400)
    redaction.unhide(current_user, current_keys(), form.rule.data)
    if fragment_wanted():
        return ""
    flash(_("Doctors you share with see it again, unless another rule hides it."), "info")
    return redirect(url_for("sharing.hidden"), 303)


@bp.get("/log")
@role_required("patient")
def log():
    try:
        unlogged, chain_ok = service.unlogged_chain_events(current_user), True
    except ChainError:
        unlogged, chain_ok = [], False
    return render_template("sharing/log.html", events=service.access_log(current_user), unlogged=unlogged,
                           chain_ok=chain_ok)


# ----- doctors -----------------------------------------------------------------------------------
def _read_started_here(view):
    """A doctor's read decrypts and logs on chain in the doctor's name, so only a request started on this
    site does it; one started by another site (a link, a redirect) gets a page asking to open it from here."""
    @wraps(view)
    def guarded(**kw):
        if origin.cross_site():
            return render_template("sharing/confirm_read.html", url=url_for(request.endpoint, **kw))
        return view(**kw)
    return guarded


@bp.get("/patients")
@role_required("doctor")
def patients():
    return render_template("sharing/patients.html", patients=service.patients_of(current_user))


@bp.get("/patients/<int:patient_id>")
@role_required("doctor")
@_read_started_here
def patient(patient_id: int):
    keys = current_keys()
    if records.anchors_taken(current_user):  # the doctor's visits whose anchor id was taken on chain
        records.reanchor_taken(current_user, keys)
    opened = [service.open_shared(r, current_user, keys) for r in service.readable_records(current_user, patient_id)
              if service.may_read(current_user, r)]
    views = [build_view(o.bundle, record_id=o.record.id, author=o.record.author.display_name)
             for o in opened if o.bundle is not None and o.integrity.state != "modified"]
    for o in opened:
        service.log_read(current_user, keys, o.record)
    who = service.patients_of(current_user)
    entry = next(p for p in who if p.user.id == patient_id)
    return render_template("sharing/patient.html", patient=entry, opened=opened,
                           view=merge_views(views) if views else None)


@bp.get("/patients/<int:patient_id>/records/<record_id>")
@role_required("doctor")
@_read_started_here
def shared_record(patient_id: int, record_id: str):
    record = service.load_shared_record(current_user, record_id)
    if record.owner_id != patient_id:
        raise records.RecordNotFound()
    keys = current_keys()
    opened = service.open_shared(record, current_user, keys)
    service.log_read(current_user, keys, record)
    view = (build_view(opened.bundle, record_id=record.id, author=record.author.display_name)
            if opened.bundle is not None and opened.integrity.state != "modified" else None)
    return render_template("sharing/record.html", record=record, opened=opened, view=view, patient_id=patient_id)


@bp.get("/patients/<int:patient_id>/records/<record_id>/bundle.json")
@role_required("doctor")
@_read_started_here
def shared_bundle(patient_id: int, record_id: str):
    record = service.load_shared_record(current_user, record_id)
    if record.owner_id != patient_id:
        raise records.RecordNotFound()
    keys = current_keys()
    opened = service.open_shared(record, current_user, keys)
    if opened.canonical is None or opened.integrity.state == "modified":
        raise records.RecordError(opened.integrity.message)
    service.log_read(current_user, keys, record, "download")
    return Response(opened.canonical, mimetype="application/fhir+json",
                    headers={"Content-Disposition": f'attachment; filename="phr-{record.id[:12]}.json"'})


@bp.route("/patients/<int:patient_id>/visit", methods=["GET", "POST"])
@role_required("doctor")
def add_visit(patient_id: int):
    entry = next((p for p in service.patients_of(current_user) if p.user.id == patient_id), None)
    if entry is None:
        raise records.RecordNotFound()
    form = VisitForm()
    if form.validate_on_submit():
        record = service.add_record_for(current_user, current_keys(), patient_id, code=form.code.data.strip(),
                                        diagnosis=form.diagnosis.data.strip(), medications=form.medications(),
                                        notes=(form.notes.data or "").strip())
        flash(_("The visit was added to the patient's records and is being anchored."), "info")
        return redirect(url_for("sharing.shared_record", patient_id=patient_id, record_id=record.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("sharing/visit.html", patient=entry, form=form), status
