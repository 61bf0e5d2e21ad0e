"""Where a redirect may send the browser back to: only a path on this site."""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site (no scheme, no host, not ``//`` or ``/\\``), else ``default``.

    Browsers read a backslash as a slash, so ``/\\evil.example`` would leave the site like ``//evil.example``.
    """
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return default
