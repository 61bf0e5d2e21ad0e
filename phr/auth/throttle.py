"""Failed-login throttling, shared by every app worker through the database.

Every login, recovery or registration attempt is first recorded (pending) and
committed, then counted with that row included; only an attempt whose count is
within every limit may check a password. Of N simultaneous attempts on one
account (any workers, SQLite or PostgreSQL) at most the limit see such a count,
so there is no window between "check" and "count" to race through (a burst may
be refused a little more than needed, never less). A refused attempt's row is
removed; a failed one stays, settled, as a failure; a success clears its
account + address failures. An attempt whose worker dies mid-check (a timeout)
stays counted against its account.

Limits (an account is keyed by a hash of the normalised email, so unknown
addresses are throttled exactly like real ones and reveal nothing):

* account from one client address: ``MAX_PER_ACCOUNT_ADDRESS`` per ``WINDOW``:
  a stranger's failures lock the account for the stranger's address only;
* client address, any accounts: ``MAX_PER_ADDRESS`` settled failures per
  ``WINDOW`` (spraying; pending attempts of others do not count, so many
  people logging in at once behind one address are not refused);
* account from every address: ``MAX_PER_ACCOUNT`` per ``ACCOUNT_WINDOW``,
  slower, against a guesser spread over many addresses.

Past a limit, attempts are refused before any password is checked, with a
message saying when to try again. A registration refused because the email
already has an account counts as a failure too, so one address can probe at
most ``MAX_PER_ADDRESS`` emails that way per window.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from .. import clock, db
from ..models import LoginFailure
from .service import AuthError, normalise_email

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT_ADDRESS = 5
MAX_PER_ADDRESS = 30
ACCOUNT_WINDOW = timedelta(hours=1)
MAX_PER_ACCOUNT = 50  # 10 addresses' worth of failures an hour, from all addresses together

T = TypeVar("T")


@dataclass(frozen=True)
class _Limit:
    per_account: bool
    per_address: bool
    most: int
    window: timedelta


_LIMITS = (  # limits keyed by an account count its pending attempts too: that is what makes them race-free
    _Limit(per_account=True, per_address=True, most=MAX_PER_ACCOUNT_ADDRESS, window=WINDOW),
    _Limit(per_account=False, per_address=True, most=MAX_PER_ADDRESS, window=WINDOW),
    _Limit(per_account=True, per_address=False, most=MAX_PER_ACCOUNT, window=ACCOUNT_WINDOW),
)
_KEEP = max(limit.window for limit in _LIMITS)


class TooManyAttempts(Exception):
    """Too many recent failures for this account or address."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        super().__init__(_("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes))


def _account(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def _record(account: str, address: str) -> int:
    """Commit one pending attempt row (and forget rows older than every window); its id."""
    session = db.session()
    session.execute(delete(LoginFailure).where(LoginFailure.at < clock.now() - _KEEP))
    row = LoginFailure(account=account, address=address, pending=True)
    session.add(row)
    session.commit()
    return row.id


def _check(row_id: int, account: str, address: str) -> None:
    """Raise :class:`TooManyAttempts` if counting the committed attempts (this one included) passes a limit."""
    session, now = db.session(), clock.now()
    for limit in _LIMITS:
        where = [LoginFailure.at >= now - limit.window]
        if limit.per_account:
            where.append(LoginFailure.account == account)
        else:
            where.append(or_(LoginFailure.pending.is_(False), LoginFailure.id == row_id))
        if limit.per_address:
            where.append(LoginFailure.address == address)
        count, oldest = session.execute(select(func.count(), func.min(LoginFailure.at)).where(*where)).one()
        if count > limit.most:
            oldest = clock.aware(oldest)
            raise TooManyAttempts(int((oldest + limit.window - now).total_seconds()) + 1)


def _settle(row_id: int) -> None:
    """The attempt failed: it now counts against its address too."""
    session = db.session()
    session.rollback()
    session.execute(update(LoginFailure).where(LoginFailure.id == row_id).values(pending=False))
    session.commit()


def _forget(row_id: int) -> None:
    session = db.session()
    session.rollback()
    session.execute(delete(LoginFailure).where(LoginFailure.id == row_id))
    session.commit()


def _succeeded(account: str, address: str) -> None:
    """A success clears the failures of this account from this address (not a stranger's elsewhere)."""
    session = db.session()
    session.execute(delete(LoginFailure).where(LoginFailure.account == account, LoginFailure.address == address))
    session.commit()


def attempt(email: str, address: str | None, authenticate: Callable[[], T]) -> tuple[T | None, str | None, int]:
    """Call ``authenticate`` under the throttle; return ``(result, error message, HTTP status)``.

    Over a limit it is not called (429); a refusal (:class:`AuthError`: wrong
    credentials, email taken) keeps the attempt counted as a failure (422);
    success clears the account's failures from this address (200).
    """
    account, address = _account(email), address or "-"
    row_id = _record(account, address)
    try:
        _check(row_id, account, address)
    except TooManyAttempts as exc:
        _forget(row_id)
        return None, str(exc), 429
    try:
        result = authenticate()
    except AuthError as exc:
        _settle(row_id)
        return None, str(exc), 422
    except BaseException:
        _forget(row_id)
        raise
    _succeeded(account, address)
    return result, None, 200
