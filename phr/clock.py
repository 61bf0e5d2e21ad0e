"""UTC time, timezone-aware everywhere: the one place the app asks for "now" or repairs a naive timestamp."""
from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """``value`` as a UTC-aware time (SQLite returns stored times without their zone)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
