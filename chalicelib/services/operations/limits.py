"""Abuse limits: how often one source address, email or seller may call what (settings hold
the numbers, `db/rate_limits.py` the counters)."""

from __future__ import annotations

from chalicelib.db import rate_limits
from chalicelib.errors import RateLimited
from chalicelib.settings import get_settings


def enforce(**subjects: str | None) -> None:
    """Count this request against each named limit, in order; the first one exceeded raises
    RateLimited (429 with Retry-After) before anything else happens. None skips a limit."""
    settings = get_settings()
    if not settings.rate_limits_on:
        return
    for name, subject in subjects.items():
        if subject is None:
            continue
        limit, window_s = settings.rate_limits[name]
        wait = rate_limits.hit(name, subject, limit=limit, window_s=window_s)
        if wait:
            raise RateLimited(retry_after=wait)
