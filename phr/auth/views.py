"""Account pages: register, log in/out, recovery kit, password change, recovery, key unlock."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from .. import vault
from ..htmx import fragment_wanted
from ..urls import safe_next
from . import service, throttle
from .forms import (
    ChangePasswordForm,
    EmptyForm,
    KeyFilePassphraseForm,
    LoginForm,
    RecoverForm,
    RegisterForm,
    UnlockForm,
)

bp = Blueprint("auth", __name__, url_prefix="/auth")

LOCKED_SELF = _l("Your private keys are locked. Upload your key file and its passphrase to unlock them for this session.")
LOGIN_AGAIN = _l("Please log in to continue.")
OUTDATED_KEY_FILE = _l("Your key file is of an older kind whose RSA half is easier to guess. "
                       "Make a new one under Account, then delete every copy of the old one.")


def load_user(user_id: str):
    """Flask-Login loader: the user, while the key session named in the cookie is alive."""
    return service.load_user(user_id, service.session_ref())


def _begin(login: service.Login) -> None:
    """Start a fresh cookie session for ``login`` (nothing from before survives: no fixation)."""
    session.clear()
    login_user(login.user)
    session[service.SESSION_KEY] = [login.key_session.id, login.key_session.secret.hex()]
    session.permanent = True


def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.app_errorhandler(service.KeysLocked)
def keys_locked(_exc):
    """Keys needed but locked: send self-held users to the unlock page, everyone else to log in."""
    if current_user.is_authenticated and current_user.custody == "self":
        message, target = LOCKED_SELF, url_for("auth.unlock", next=request.full_path)
    else:
        message, target = LOGIN_AGAIN, url_for("auth.login", next=request.full_path)
    if fragment_wanted():
        return render_template("auth/_keys_locked.html", message=message, target=target), 403
    flash(str(message), "error")
    return redirect(target, 303)


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        doctor = form.role.data == "doctor"
        login, error, status = throttle.attempt(form.email.data, request.remote_addr, lambda: service.register(
            email=form.email.data, password=form.password.data, role=form.role.data,
            display_name=form.display_name.data, custody_mode=form.custody.data,
            key_file_passphrase=form.key_file_passphrase.data if form.custody.data == "self" else None,
            country=form.country.data if doctor else None,
            institution=form.institution.data if doctor else None,
            licence_no=form.licence_no.data if doctor else None,
        ))
        if login is not None:
            _begin(login)
            return redirect(url_for(".kit"), 303)
        form.email.errors.append(error)
    if form.errors and status != 429:
        status = 422
    return _with_retry_after(make_response(render_template("auth/register.html", form=form), status))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        login, error, status = throttle.attempt(
            form.email.data, request.remote_addr, lambda: service.authenticate(form.email.data, form.password.data))
        if login is not None:
            _begin(login)
            return redirect(safe_next(request.args.get("next"), url_for(".account")), 303)
    if form.errors:
        status = 422
    return _with_retry_after(make_response(render_template("auth/login.html", form=form, error=error), status))


@bp.post("/logout")
def logout():
    if EmptyForm().validate_on_submit():
        service.logout(service.session_ref())
        logout_user()
        session.clear()
        flash(_("You have been logged out. Your keys are locked again."), "info")
    return redirect(url_for(".login"), 303)


@bp.get("/account")
@login_required
def account():
    ref = service.session_ref()
    return render_template(
        "auth/account.html", user=current_user,
        fingerprint=vault.fingerprint(current_user.rsa_public_pem.encode()),
        keys_ok=service.keys_unlocked(current_user, ref),
        kit_pending=service.pending_kit(ref) is not None, logout_form=EmptyForm(),
    )


@bp.get("/account/keys")
@login_required
def keys_check():
    """Unwrap this login's keys and prove them (decrypt a challenge, sign a message); ``KeysLocked`` if locked."""
    keys_ok = service.current_keys().matches(current_user.rsa_public_pem, current_user.eth_address)
    if fragment_wanted():
        return render_template("auth/_keys_status.html", keys_ok=keys_ok)
    return redirect(url_for(".account"), 303)


@bp.get("/kit")
@login_required
def kit():
    pending = service.pending_kit(service.session_ref())
    if pending is None:
        flash(_("Your recovery kit was already saved; it is shown only once."), "info")
        return redirect(url_for(".account"), 303)
    return _no_store(Response(render_template("auth/kit.html", kit=pending, form=EmptyForm(), user=current_user)))


@bp.get("/kit/recovery-code.txt")
@login_required
def kit_code():
    pending = service.pending_kit(service.session_ref()) or {}
    if "recovery_code" not in pending:
        return redirect(url_for(".kit"), 303)
    body = render_template("auth/recovery-code.txt", code=pending["recovery_code"], user=current_user)
    return _no_store(Response(body, mimetype="text/plain", headers={
        "Content-Disposition": 'attachment; filename="phr-recovery-code.txt"'}))


@bp.get("/kit/key-file.json")
@login_required
def kit_key_file():
    pending = service.pending_kit(service.session_ref()) or {}
    if "key_file" not in pending:
        return redirect(url_for(".kit"), 303)
    return _no_store(Response(pending["key_file"], mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="phr-key-file-{current_user.eth_address[:10]}.json"'}))


@bp.post("/kit/done")
@login_required
def kit_done():
    if EmptyForm().validate_on_submit():
        service.acknowledge_kit(service.session_ref())
        flash(_("Recovery kit saved. It will not be shown again."), "info")
    return redirect(url_for(".account"), 303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current_password.data, form.new_password.data,
                                    keep=service.session_ref())
        except service.InvalidCredentials as exc:
            form.current_password.errors.append(str(exc))
        else:
            flash(_("Password changed. Your other sessions have been logged out."), "info")
            return redirect(url_for(".account"), 303)
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


@bp.route("/key-file", methods=["GET", "POST"])
@login_required
def key_file_passphrase():
    """Self custody: a new key file under a new passphrase, handed out through the one-time kit page."""
    if current_user.custody != "self":
        flash(_("Your keys are kept locked with your password: change your password instead."), "info")
        return redirect(url_for(".account"), 303)
    keys = service.current_keys()  # locked: the unlock page first
    form = KeyFilePassphraseForm()
    if form.validate_on_submit():
        try:
            service.reissue_key_file(current_user, keys, form.current_password.data, form.passphrase.data,
                                     service.session_ref())
        except service.InvalidCredentials as exc:
            form.current_password.errors.append(str(exc))
        else:
            return redirect(url_for(".kit"), 303)
    return render_template("auth/key_file.html", form=form), 422 if form.errors else 200


@bp.route("/recover", methods=["GET", "POST"])
def recover():
    form = RecoverForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:  # a crafted key file is refused before any throttle count or KDF work
            key_file = service.read_key_file(form.key_file.data.read()) if form.key_file.data else None
        except service.KeyFileRefused as exc:
            error, status = str(exc), 400
        else:
            login, error, status = throttle.attempt(form.email.data, request.remote_addr, lambda: service.recover(
                form.email.data, form.new_password.data, recovery_code=form.recovery_code.data or "",
                key_file=key_file, passphrase=form.passphrase.data or "",
            ))
            if login is not None:
                _begin(login)
                if login.user.custody == "platform":
                    flash(_("Password reset. Here is your NEW recovery code: the old one no longer works."), "info")
                    return redirect(url_for(".kit"), 303)
                flash(_("Password reset."), "info")
                if key_file is not None and key_file.outdated:
                    flash(str(OUTDATED_KEY_FILE), "error")
                return redirect(url_for(".account"), 303)
    if form.errors:
        status = 422
    return _with_retry_after(make_response(render_template("auth/recover.html", form=form, error=error), status))


def _with_retry_after(resp):
    """A throttled answer (429) tells clients when to come back: at the latest when the failure window has passed."""
    if resp.status_code == 429:
        resp.headers["Retry-After"] = str(int(throttle.WINDOW.total_seconds()))
    return resp


@bp.route("/unlock", methods=["GET", "POST"])
@login_required
def unlock():
    if current_user.custody != "self":
        flash(_("Your keys are unlocked with your password when you log in."), "info")
        return redirect(url_for(".account"), 303)
    form = UnlockForm()
    status = 200
    if form.validate_on_submit():
        try:
            key_file = service.read_key_file(form.key_file.data.read())  # costs checked before any KDF
            service.unlock_with_key_file(current_user, service.session_ref(), key_file, form.passphrase.data)
        except service.KeyFileError as exc:
            form.key_file.errors.append(str(exc))
            status = 400 if isinstance(exc, service.KeyFileRefused) else 422
        else:
            flash(_("Keys unlocked for this session."), "info")
            if key_file.outdated:
                flash(str(OUTDATED_KEY_FILE), "error")
            return redirect(safe_next(request.args.get("next"), url_for(".account")), 303)
    return render_template("auth/unlock.html", form=form), 422 if form.errors and status == 200 else status
