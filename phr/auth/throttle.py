"""Failed-login throttling, shared by every app worker through the database.

An account (keyed by a hash of the normalised email, so unknown addresses
are throttled exactly like real ones and reveal nothing) gets
``MAX_PER_ACCOUNT`` failures per ``WINDOW``; a client address gets
``MAX_PER_ADDRESS``. Past that, attempts are refused before any password
is checked, with a message saying when to try again.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from .. import db
from ..models import LoginFailure
from .service import InvalidCredentials, normalise_email

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 30

T = TypeVar("T")


class TooManyAttempts(Exception):
    """Too many recent failures for this account or address."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        super().__init__(_("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes))


def _account(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def check(email: str, address: str | None) -> None:
    """Raise :class:`TooManyAttempts` if this account or address is over its limit."""
    since = _now() - WINDOW
    session = db.session()
    for column, value, limit in ((LoginFailure.account, _account(email), MAX_PER_ACCOUNT),
                                 (LoginFailure.address, address or "-", MAX_PER_ADDRESS)):
        count, oldest = session.execute(select(func.count(), func.min(LoginFailure.at))
                                        .where(column == value, LoginFailure.at >= since)).one()
        if count >= limit:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=timezone.utc)
            raise TooManyAttempts(int((oldest + WINDOW - _now()).total_seconds()) + 1)


def failed(email: str, address: str | None) -> None:
    """Count one failure (and forget failures older than the window)."""
    session = db.session()
    session.execute(delete(LoginFailure).where(LoginFailure.at < _now() - WINDOW))
    session.add(LoginFailure(account=_account(email), address=address or "-"))
    session.commit()


def succeeded(email: str) -> None:
    """A successful login clears the account's failures."""
    session = db.session()
    session.execute(delete(LoginFailure).where(LoginFailure.account == _account(email)))
    session.commit()


def attempt(email: str, address: str | None, authenticate: Callable[[], T]) -> tuple[T | None, str | None, int]:
    """Call ``authenticate`` under the throttle; return ``(result, error message, HTTP status)``.

    Over the limit it is not called (429); :class:`InvalidCredentials` counts a failure (422);
    success clears the account's failures (200).
    """
    try:
        check(email, address)
    except TooManyAttempts as exc:
        return None, str(exc), 429
    try:
        result = authenticate()
    except InvalidCredentials as exc:
        failed(email, address)
        return None, str(exc), 422
    succeeded(email)
    return result, None, 200


def _now() -> datetime:
    return datetime.now(timezone.utc)
