"""Accounts as users see them: registration, login, keys, password change, recovery, logout."""
from __future__ import annotations

import io
import logging

import pytest
from auth_helpers import DOCTOR, PASSPHRASE, PASSWORD
from sqlalchemy import select

from phr import custody, db, vault
from phr.auth.service import role_required
from phr.models import KeySession, User

RECORD = b"phr-record:v1:0001"


def user_row(app, email: str) -> User:
    with app.app_context():
        return db.session().execute(select(User).where(User.email == email)).scalar_one()


def key_sessions(app, user_id: int) -> list[KeySession]:
    with app.app_context():
        return list(db.session().execute(select(KeySession).where(KeySession.user_id == user_id)).scalars())


def seal_for(app, email: str, plaintext: bytes) -> vault.Sealed:
    user = user_row(app, email)
    return vault.seal(plaintext, RECORD, {"me": vault.load_public_pem(user.rsa_public_pem.encode())})


# ----- registration ------------------------------------------------------------
def test_patient_registers_sees_recovery_kit_once_and_is_logged_in(auth, client, app):
    resp = auth.register(" Ana@Example.ORG ", custody_mode="platform")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/auth/kit")
    kit = client.get("/auth/kit")
    page = kit.get_data(as_text=True)
    assert "shown only once" in page and "no one can recover your" in page.replace("\n", " ")
    assert kit.headers["Cache-Control"] == "no-store"
    download = client.get("/auth/kit/recovery-code.txt")
    assert download.headers["Content-Disposition"].startswith("attachment")
    user = user_row(app, "ana@example.org")  # email normalised
    code = download.get_data(as_text=True).split("Recovery code: ")[1].split()[0]
    assert code in page
    with app.app_context():  # the code really is the recovery key for this account
        assert custody.unwrap_with_recovery(user.recovery_wrapped_keys, code).eth_address == user.eth_address
    auth.post("/auth/kit", {}, action="/auth/kit/done")
    again = client.get("/auth/kit", follow_redirects=True).get_data(as_text=True)
    assert code not in again and "shown only once" in again
    assert client.get("/auth/kit/recovery-code.txt").status_code == 303
    account = client.get("/auth/account").get_data(as_text=True)
    assert "Keys unlocked ✓" in account and user.eth_address in account
    assert vault.fingerprint(user.rsa_public_pem.encode()) in account


def test_doctor_details_are_stored_and_shown(auth, client, app):
    auth.register_doctor("dr.lin@example.org")
    user = user_row(app, "dr.lin@example.org")
    assert (user.role, user.country, user.institution, user.licence_no) == (
        "doctor", DOCTOR["country"], DOCTOR["institution"], DOCTOR["licence_no"])
    page = client.get("/auth/account").get_data(as_text=True)
    assert all(value in page for value in DOCTOR.values()) and "Doctor" in page


def test_doctor_must_give_licence_details(auth, app):
    resp = auth.register("dr.x@example.org", role="doctor", country="Taiwan")
    assert resp.status_code == 422
    assert resp.get_data(as_text=True).count("Required for doctors") == 2  # institution, licence
    with app.app_context():
        assert db.session().execute(select(User)).first() is None


def test_duplicate_email_is_a_clear_error(auth, other_auth):
    auth.register_patient("ana@example.org")
    resp = other_auth.register("ANA@example.org ")
    assert resp.status_code == 422
    assert "An account with this email already exists." in resp.get_data(as_text=True)


def test_validator_role_cannot_be_chosen_at_sign_up(auth, app):
    resp = auth.register("v@example.org", role="validator")
    assert resp.status_code == 422
    with app.app_context():
        assert db.session().execute(select(User)).first() is None


def test_self_held_registration_stores_only_public_keys_and_hands_out_a_key_file(auth, app):
    account = auth.register_patient("sam@example.org", custody_mode="self")
    user = user_row(app, "sam@example.org")
    assert user.custody == "self" and user.wrapped_keys is None and user.recovery_wrapped_keys is None
    with app.app_context():
        keys = custody.import_key_file(account.key_file, PASSPHRASE, user.rsa_public_pem, user.eth_address)
    assert keys.eth_address == user.eth_address


# ----- login -------------------------------------------------------------------
def test_wrong_password_gives_one_generic_error_and_leaks_nothing(auth, other_auth, app, caplog):
    auth.register_patient("ana@example.org")
    user = user_row(app, "ana@example.org")
    caplog.set_level(logging.DEBUG)
    for email, password in [("ana@example.org", "wrong password!"), ("nobody@example.org", PASSWORD)]:
        resp = other_auth.login(email, password)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 422 and "Email or password is incorrect." in body
        assert other_auth.cookie_ref() is None
        leaks = ["PRIVATE KEY", "$argon2", password, user.password_hash, user.wrapped_keys.hex(),
                 user.wrapped_keys[:24].hex()]
        for leak in leaks:
            assert leak not in body
            assert all(leak not in r.getMessage() for r in caplog.records)
    assert other_auth.client.get("/auth/account").status_code == 302  # still anonymous
    assert len(key_sessions(app, user.id)) == 1  # only the registration's own login


def test_login_unlocks_platform_held_keys(auth, other_auth, app):
    auth.register_patient("ana@example.org")
    sealed = seal_for(app, "ana@example.org", b"blood pressure 120/80")
    resp = other_auth.login("ana@example.org")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/auth/account")
    assert vault.open_sealed(sealed.ciphertext, sealed.wrapped_keys["me"], other_auth.keys().rsa_private,
                             RECORD) == b"blood pressure 120/80"


def test_login_next_only_redirects_within_the_site(auth, client):
    auth.register_patient("ana@example.org")
    auth.logout()
    token = auth.csrf("/auth/login")
    data = {"csrf_token": token, "email": "ana@example.org", "password": PASSWORD}
    assert client.post("/auth/login?next=/auth/password", data=data).headers["Location"] == "/auth/password"
    auth.logout()
    data["csrf_token"] = auth.csrf("/auth/login")
    assert client.post("/auth/login?next=//evil.example/x", data=data).headers["Location"] == "/auth/account"


def test_login_starts_a_fresh_session_no_fixation(auth, other_auth, client, app):
    auth.register_patient("mallory@example.org")
    planted = auth.cookie_ref()
    other_auth.register_patient("ana@example.org")
    other_auth.logout()
    # Mallory plants her own login and key session in Ana's browser before Ana logs in.
    with auth.client.session_transaction() as sess:
        attacker_cookie = dict(sess)
    with other_auth.client.session_transaction() as sess:
        sess.update(attacker_cookie, planted_marker="mallory")
    other_auth.login("ana@example.org")
    with other_auth.client.session_transaction() as sess:
        assert "planted_marker" not in sess
        assert sess["_user_id"] == str(user_row(app, "ana@example.org").id)
    assert other_auth.cookie_ref()[0] != planted[0]
    assert other_auth.keys().eth_address == user_row(app, "ana@example.org").eth_address


# ----- self-held keys ----------------------------------------------------------
def test_self_held_user_without_key_file_is_refused_with_a_clear_message(auth, other_auth, app):
    account = auth.register_patient("sam@example.org", custody_mode="self")
    other_auth.login("sam@example.org")
    resp = other_auth.client.get("/auth/account/keys")
    assert resp.status_code == 303 and "/auth/unlock" in resp.headers["Location"]
    page = other_auth.client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Your private keys are locked. Upload your key file" in page
    htmx = other_auth.client.get("/auth/account/keys", headers={"HX-Request": "true"})
    assert htmx.status_code == 403 and "Upload your key file" in htmx.get_data(as_text=True)
    with pytest.raises(custody.KeysLocked):
        other_auth.keys()
    # Wrong passphrase: clear error, still locked.
    bad = other_auth.unlock(account.key_file, "not the passphrase")
    assert bad.status_code == 422 and "The key file passphrase is incorrect." in bad.get_data(as_text=True)
    # Someone else's key file: refused.
    stranger = custody.KeyBundle.generate()
    foreign = custody.export_key_file(stranger, PASSPHRASE, "x@example.org", custody.KDF_PROFILES["fast"])
    assert "belongs to another account" in other_auth.unlock(foreign).get_data(as_text=True)
    # The right file and passphrase unlock this session.
    ok = other_auth.unlock(account.key_file)
    assert ok.status_code == 303
    assert "Keys unlocked ✓" in other_auth.client.get("/auth/account").get_data(as_text=True)
    assert other_auth.keys().eth_address == user_row(app, "sam@example.org").eth_address


def test_keys_check_fragment_for_htmx_and_redirect_without_js(auth, client):
    auth.register_patient("ana@example.org")
    frag = client.get("/auth/account/keys", headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "Keys unlocked ✓" in frag.get_data(as_text=True)
    assert "<html" not in frag.get_data(as_text=True)
    plain = client.get("/auth/account/keys")
    assert plain.status_code == 303 and plain.headers["Location"].endswith("/auth/account")


# ----- password change and recovery --------------------------------------------
def test_password_change_keeps_records_readable_and_retires_the_old_password(auth, other_auth, app):
    auth.register_patient("ana@example.org")
    other_auth.login("ana@example.org")  # a second device
    sealed = seal_for(app, "ana@example.org", b"HbA1c 5.6%")
    resp = auth.post("/auth/password", {"current_password": PASSWORD, "new_password": "new secret phrase",
                                        "confirm": "new secret phrase"})
    assert resp.status_code == 303
    # The other device is logged out, this one keeps working.
    assert other_auth.client.get("/auth/account").status_code == 302
    assert "Keys unlocked ✓" in auth.client.get("/auth/account").get_data(as_text=True)
    assert other_auth.login("ana@example.org", PASSWORD).status_code == 422
    with app.app_context(), pytest.raises(vault.VaultError):
        custody.unwrap_with_password(user_row(app, "ana@example.org").wrapped_keys, PASSWORD)
    assert other_auth.login("ana@example.org", "new secret phrase").status_code == 303
    assert vault.open_sealed(sealed.ciphertext, sealed.wrapped_keys["me"], other_auth.keys().rsa_private,
                             RECORD) == b"HbA1c 5.6%"


def test_password_change_needs_the_current_password(auth):
    auth.register_patient("ana@example.org")
    resp = auth.post("/auth/password", {"current_password": "not it at all", "new_password": "new secret phrase",
                                        "confirm": "new secret phrase"})
    assert resp.status_code == 422 and "Current password is incorrect." in resp.get_data(as_text=True)
    assert auth.login("ana@example.org", PASSWORD).status_code == 303


def test_recovery_code_sets_a_new_password_keeps_records_and_rotates_the_code(auth, other_auth, app):
    account = auth.register_patient("ana@example.org")
    sealed = seal_for(app, "ana@example.org", b"allergy: penicillin")
    resp = other_auth.post("/auth/recover", {"email": "ana@example.org", "recovery_code": account.recovery_code,
                                             "new_password": "brand new phrase", "confirm": "brand new phrase"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/auth/kit")
    page = other_auth.client.get("/auth/kit").get_data(as_text=True)
    assert "NEW recovery code" in page and account.recovery_code not in page
    assert vault.open_sealed(sealed.ciphertext, sealed.wrapped_keys["me"], other_auth.keys().rsa_private,
                             RECORD) == b"allergy: penicillin"
    assert auth.client.get("/auth/account").status_code == 302  # the old login was ended
    assert auth.login("ana@example.org", PASSWORD).status_code == 422
    assert auth.login("ana@example.org", "brand new phrase").status_code == 303
    # The old code no longer works.
    again = auth.post("/auth/recover", {"email": "ana@example.org", "recovery_code": account.recovery_code,
                                        "new_password": "another phrase!", "confirm": "another phrase!"})
    assert again.status_code == 422


@pytest.mark.parametrize("email,code", [("ana@example.org", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"),
                                        ("nobody@example.org", None)])
def test_wrong_recovery_details_fail_cleanly(auth, other_auth, app, email, code):
    account = auth.register_patient("ana@example.org")
    before = user_row(app, "ana@example.org")
    resp = other_auth.post("/auth/recover", {"email": email, "recovery_code": code or account.recovery_code,
                                             "new_password": "brand new phrase", "confirm": "brand new phrase"})
    assert resp.status_code == 422
    assert "Email or recovery details are incorrect." in resp.get_data(as_text=True)
    after = user_row(app, "ana@example.org")
    assert (after.password_hash, after.wrapped_keys) == (before.password_hash, before.wrapped_keys)
    assert auth.login("ana@example.org", PASSWORD).status_code == 303


def test_self_held_user_recovers_login_with_the_key_file(auth, other_auth, app):
    account = auth.register_patient("sam@example.org", custody_mode="self")
    resp = other_auth.post("/auth/recover", {
        "email": "sam@example.org", "key_file": (io.BytesIO(account.key_file), "keys.json"),
        "passphrase": PASSPHRASE, "new_password": "brand new phrase", "confirm": "brand new phrase",
    }, content_type="multipart/form-data")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/auth/account")
    assert other_auth.keys().eth_address == user_row(app, "sam@example.org").eth_address
    assert auth.login("sam@example.org", "brand new phrase").status_code == 303


def test_self_held_user_changes_the_key_file_passphrase(auth, other_auth, app):
    auth.register_patient("sam@example.org", custody_mode="self")
    user = user_row(app, "sam@example.org")
    sealed = seal_for(app, "sam@example.org", b"HbA1c 5.6%")
    assert "/auth/key-file" in auth.client.get("/auth/account").get_data(as_text=True)
    new = "a brand new file passphrase"
    form = {"current_password": PASSWORD, "passphrase": new, "confirm": new}
    wrong = auth.post("/auth/key-file", form | {"current_password": "not it at all"})
    assert wrong.status_code == 422 and "Current password is incorrect." in wrong.get_data(as_text=True)
    same = auth.post("/auth/key-file", form | {"passphrase": PASSWORD, "confirm": PASSWORD})
    assert same.status_code == 422 and "different from your password" in same.get_data(as_text=True)
    short = auth.post("/auth/key-file", form | {"passphrase": "short", "confirm": "short"})
    assert short.status_code == 422
    resp = auth.post("/auth/key-file", form)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/auth/kit")
    assert "replaces your old key file" in auth.client.get("/auth/kit").get_data(as_text=True)
    new_file = auth.client.get("/auth/kit/key-file.json").data
    with app.app_context():
        keys = custody.import_key_file(new_file, new, user.rsa_public_pem, user.eth_address)
        with pytest.raises(custody.KeyFileError, match="passphrase is incorrect"):
            custody.import_key_file(new_file, PASSPHRASE, user.rsa_public_pem, user.eth_address)
    assert vault.open_sealed(sealed.ciphertext, sealed.wrapped_keys["me"], keys.rsa_private, RECORD) == b"HbA1c 5.6%"
    assert keys.eth_address == user.eth_address
    # The new file unlocks a fresh login; the platform still holds no private key.
    other_auth.login("sam@example.org")
    assert other_auth.unlock(new_file, new).status_code == 303
    assert user_row(app, "sam@example.org").wrapped_keys is None
    auth.post("/auth/kit", {}, action="/auth/kit/done")
    assert auth.client.get("/auth/kit/key-file.json").status_code == 303  # shown once


def test_key_file_passphrase_change_needs_unlocked_self_held_keys(auth, other_auth):
    auth.register_patient("ana@example.org")  # platform custody
    resp = auth.post("/auth/account", {"current_password": PASSWORD, "passphrase": "x" * 20, "confirm": "x" * 20},
                     action="/auth/key-file")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/auth/account")
    assert "/auth/key-file" not in auth.client.get("/auth/account").get_data(as_text=True)
    other_auth.register_patient("sam@example.org", custody_mode="self")
    other_auth.logout()
    other_auth.login("sam@example.org")  # keys locked in this new login
    locked = other_auth.post("/auth/account", {"current_password": PASSWORD, "passphrase": "x" * 20,
                                               "confirm": "x" * 20}, action="/auth/key-file")
    assert locked.status_code == 303 and "/auth/unlock" in locked.headers["Location"]
    assert other_auth.client.get("/auth/kit/key-file.json").status_code == 303


# ----- logout, CSRF, roles, navigation -----------------------------------------
def test_logout_forgets_the_keys_even_for_a_copied_cookie(auth, app):
    auth.register_patient("ana@example.org")
    with auth.client.session_transaction() as sess:
        copied = dict(sess)
    session_id, secret = auth.cookie_ref()
    assert auth.logout().status_code == 303
    assert auth.cookie_ref() is None
    with app.app_context():
        assert db.session().get(KeySession, session_id) is None
        with pytest.raises(custody.KeysLocked):
            custody.unlocked_keys(session_id, secret)
    thief = app.test_client()
    with thief.session_transaction() as sess:
        sess.update(copied)
    assert thief.get("/auth/account").status_code == 302  # the copied cookie no longer logs in


def test_expired_login_cannot_unlock(auth, client, app):
    auth.register_patient("ana@example.org")
    session_id, secret = auth.cookie_ref()
    app.config["KEY_SESSION_IDLE_MINUTES"] = 0  # every login is now past its idle limit
    assert client.get("/auth/account").status_code == 302
    with app.app_context():
        assert db.session().get(KeySession, session_id) is None
        with pytest.raises(custody.KeysLocked):
            custody.unlocked_keys(session_id, secret)


def test_post_without_csrf_token_is_rejected(client, app):
    resp = client.post("/auth/register", data={"email": "a@example.org", "display_name": "A", "password": PASSWORD,
                                                "confirm": PASSWORD, "role": "patient", "custody": "platform"})
    assert resp.status_code == 400
    resp = client.post("/auth/login", data={"csrf_token": "forged", "email": "a@example.org", "password": PASSWORD})
    assert resp.status_code == 400
    with app.app_context():
        assert db.session().execute(select(User)).first() is None


def test_logout_is_post_only(auth, client):
    auth.register_patient("ana@example.org")
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/auth/account").status_code == 200


def test_role_required_lets_only_that_role_in(app, auth, other_auth):
    @app.get("/doctors-only")
    @role_required("doctor")
    def doctors_only():
        return "hello doctor"

    assert auth.client.get("/doctors-only").status_code == 302  # anonymous: to login
    auth.register_patient("ana@example.org")
    assert auth.client.get("/doctors-only").status_code == 403
    other_auth.register_doctor()
    assert other_auth.client.get("/doctors-only").get_data(as_text=True) == "hello doctor"


def test_nav_shows_links_by_login_state_and_skips_missing_features(auth, client, app):
    anonymous = client.get("/").get_data(as_text=True)
    assert 'href="/auth/login"' in anonymous and 'href="/auth/register"' in anonymous
    auth.register_patient("ana@example.org")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/auth/account"' in page and 'action="/auth/logout"' in page
    assert 'href="/auth/login"' not in page and 'href="/records/"' in page
    del app.view_functions["records.timeline"]  # a feature that is not installed is left out, not a broken link
    assert "My records" not in client.get("/").get_data(as_text=True)
