"""Login protections: throttled failures, no account enumeration by message or timing."""
import io
import statistics
import time

from auth_helpers import PASSWORD, checks_until_locked
from web_helpers import tally

from phr import custody, db
from phr.auth import throttle
from phr.models import LoginFailure

STRONG = custody.KDF_PROFILES["strong"]


def _login(auth, email, password):
    return auth.post("/auth/login", {"email": email, "password": password})


def test_repeated_failures_lock_the_account_even_for_the_right_password(auth):
    auth.register_patient("mei@example.tw")
    auth.logout()
    for _ in range(throttle.MAX_PER_ACCOUNT_ADDRESS):
        assert _login(auth, "mei@example.tw", "wrong password!").status_code == 422
    locked = _login(auth, "mei@example.tw", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 0


def test_unknown_accounts_are_answered_exactly_like_real_ones(auth):
    auth.register_patient("mei@example.tw")
    auth.logout()
    real = _login(auth, "mei@example.tw", "wrong password!")
    ghost = _login(auth, "nobody@example.tw", "wrong password!")
    assert real.status_code == ghost.status_code == 422
    message = "Email or password is incorrect"
    assert message in real.get_data(as_text=True) and message in ghost.get_data(as_text=True)
    for _ in range(throttle.MAX_PER_ACCOUNT_ADDRESS):
        _login(auth, "nobody@example.tw", "wrong password!")
    assert _login(auth, "nobody@example.tw", "wrong password!").status_code == 429


def test_success_clears_the_count(auth):
    auth.register_patient("mei@example.tw")
    auth.logout()
    for _ in range(throttle.MAX_PER_ACCOUNT_ADDRESS - 1):
        _login(auth, "mei@example.tw", "wrong password!")
    assert _login(auth, "mei@example.tw", PASSWORD).status_code == 303
    auth.logout()
    assert _login(auth, "mei@example.tw", "wrong password!").status_code == 422  # counting from zero again


def test_one_address_cannot_spray_many_accounts(auth):
    for i in range(throttle.MAX_PER_ADDRESS):
        assert _login(auth, f"user{i}@example.org", "wrong password!").status_code == 422
    assert _login(auth, "fresh@example.org", "wrong password!").status_code == 429


def test_recovery_codes_cannot_be_guessed_endlessly(auth):
    account = auth.register_patient("mei@example.tw")
    auth.logout()
    form = {"email": "mei@example.tw", "recovery_code": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA",
            "new_password": "a brand new password", "confirm": "a brand new password"}
    for _ in range(throttle.MAX_PER_ACCOUNT_ADDRESS):
        assert auth.post("/auth/recover", form).status_code == 422
    right = dict(form, recovery_code=account.recovery_code)
    locked = auth.post("/auth/recover", right)
    assert locked.status_code == 429 and "Too many failed attempts" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) == throttle.WINDOW.total_seconds()  # like login's 429


def test_unknown_and_known_accounts_cost_the_same_password_work():
    known = custody.hash_password("the real password", STRONG)

    def median(fn):
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    wrong_known = median(lambda: custody.verify_password(known, "a wrong password", STRONG))
    unknown = median(lambda: custody.verify_password(None, "a wrong password", STRONG))
    assert 0.5 < unknown / wrong_known < 2.0


# ----- issue 14 item 8: throttle races, lockouts by strangers, enumeration by recovery work ----------
STRANGER, DOCTOR_DESK = "203.0.113.66", "198.51.100.7"


def _login_from(auth, address, email, password):
    return auth.post("/auth/login", {"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_parallel_wrong_logins_get_at_most_five_password_checks(app, auth, kdf_runs, sweep):
    app.config["KDF_PROFILE"] = "strong"  # a password check long enough for all the requests to overlap
    auth.register_patient("mei@example.tw", custody_mode="self")
    auth.logout()
    kdf_runs.clear()
    burst, checked = checks_until_locked(app, "mei@example.tw", 8)
    assert 1 <= burst.count(422) <= throttle.MAX_PER_ACCOUNT_ADDRESS, burst
    assert checked == throttle.MAX_PER_ACCOUNT_ADDRESS  # a burst's refusals do not eat the budget either
    assert kdf_runs["password hash"] == throttle.MAX_PER_ACCOUNT_ADDRESS
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_a_strangers_failures_do_not_lock_the_user_out_from_their_own_address(auth, sweep):
    auth.register_doctor("dr.lin@example.org")
    auth.logout()
    for _ in range(throttle.MAX_PER_ACCOUNT_ADDRESS):
        assert _login_from(auth, STRANGER, "dr.lin@example.org", "guess!guess!").status_code == 422
    assert _login_from(auth, STRANGER, "dr.lin@example.org", "guess!guess!").status_code == 429  # stranger stopped
    assert _login_from(auth, DOCTOR_DESK, "dr.lin@example.org", PASSWORD).status_code == 303  # doctor gets in
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_a_guesser_spread_over_many_addresses_still_hits_the_account_limit(auth):
    auth.register_patient("mei@example.tw")
    auth.logout()
    per_address = throttle.MAX_PER_ACCOUNT_ADDRESS
    for i in range(throttle.MAX_PER_ACCOUNT // per_address):
        for _ in range(per_address):
            assert _login_from(auth, f"192.0.2.{i}", "mei@example.tw", "guess!guess!").status_code == 422
    locked = _login_from(auth, "192.0.2.200", "mei@example.tw", PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_recovery_does_the_same_kdf_work_for_unknown_and_known_emails(auth, app, kdf_runs, sweep):
    auth.register_patient("mei@example.tw")
    auth.logout()
    sam = auth.register_patient("sam@example.org", custody_mode="self")
    auth.logout()

    def work(**form):
        kdf_runs.clear()
        resp = auth.post("/auth/recover", {"new_password": "a brand new password",
                                           "confirm": "a brand new password", **form},
                         content_type="multipart/form-data")
        assert resp.status_code == 422 and "Email or recovery details are incorrect" in resp.get_data(as_text=True)
        return dict(kdf_runs)

    code = {"recovery_code": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"}
    known, unknown = work(email="mei@example.tw", **code), work(email="nobody@example.tw", **code)
    assert known == unknown == {"argon2id": 1}

    def key_file(email):
        return {"email": email, "passphrase": "not the passphrase", "key_file": (io.BytesIO(sam.key_file), "k.json")}
    assert work(**key_file("sam@example.org")) == work(**key_file("nobody@example.tw")) == {"argon2id": 1}
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_registration_answers_email_taken_to_one_address_only_so_often(auth, other_auth):
    """The documented leak: "already exists" stays (people need it), but it counts like a failed login."""
    for i in range(4):
        other_auth.register_patient(f"user{i}@example.org")
        other_auth.logout()

    def register_from(address, email):
        form = {"email": email, "display_name": "Probe", "password": PASSWORD, "confirm": PASSWORD,
                "role": "patient", "custody": "platform"}
        return auth.post("/auth/register", form, environ_base={"REMOTE_ADDR": address})

    probes = 3 * throttle.MAX_PER_ACCOUNT_ADDRESS
    for i in range(probes):
        probe = register_from(STRANGER, f"user{i % 3}@example.org")
        assert probe.status_code == 422 and "already exists" in probe.get_data(as_text=True)
    for i in range(throttle.MAX_PER_ADDRESS - probes):  # the same budget as wrong logins from that address
        assert _login_from(auth, STRANGER, f"ghost{i}@example.org", "guess!guess!").status_code == 422
    refused = register_from(STRANGER, "user3@example.org")
    assert refused.status_code == 429 and "already exists" not in refused.get_data(as_text=True)
    assert "Too many failed attempts" in refused.get_data(as_text=True)
    assert register_from(DOCTOR_DESK, "newcomer@example.org").status_code == 303  # other addresses sign up as usual


def test_logins_in_flight_behind_one_address_are_not_taken_for_spraying(app, auth):
    """A clinic behind one NAT: others' attempts still being checked do not count against the address."""
    auth.register_patient("mei@example.tw")
    auth.logout()
    with app.app_context():  # as many logins of other people as the address limit, all mid-check
        db.session().add_all(LoginFailure(account=f"{i:064x}", address="127.0.0.1", pending=True)
                             for i in range(throttle.MAX_PER_ADDRESS + 1))
        db.session().commit()
    assert _login(auth, "mei@example.tw", PASSWORD).status_code == 303
