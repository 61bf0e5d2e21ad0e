"""Login protections: throttled failures, no account enumeration by message or timing."""
import statistics
import time

from auth_helpers import PASSWORD

from phr import custody
from phr.auth import throttle

STRONG = custody.KDF_PROFILES["strong"]


def _login(auth, email, password):
    return auth.post("/auth/login", {"email": email, "password": password})


def test_repeated_failures_lock_the_account_even_for_the_right_password(auth):
    auth.register_patient("mei@example.tw")
    auth.logout()
    for _ in range(throttle.MAX_PER_ACCOUNT):
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
    for _ in range(throttle.MAX_PER_ACCOUNT):
        _login(auth, "nobody@example.tw", "wrong password!")
    assert _login(auth, "nobody@example.tw", "wrong password!").status_code == 429


def test_success_clears_the_count(auth):
    auth.register_patient("mei@example.tw")
    auth.logout()
    for _ in range(throttle.MAX_PER_ACCOUNT - 1):
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
    for _ in range(throttle.MAX_PER_ACCOUNT):
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
