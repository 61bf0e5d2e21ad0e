"""Failed-login throttling, shared by every app worker through the database.

An account (keyed by a hash of the normalised email, so unknown addresses
are throttled exactly like real ones and reveal nothing) gets
``MAX_PER_ACCOUNT`` failures per ``WINDOW``; a client address gets
``MAX_PER_ADDRESS``. Past that, attempts are refused before any password
is checked, with a message saying when to try again.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from .. import db
from ..models import LoginFailure
from .service import normalise_email

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 30


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


def _now() -> datetime:
    return datetime.now(timezone.utc)
