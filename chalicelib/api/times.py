"""Times as clients write them: ISO 8601 dates and date-times, read the same in bodies and
query strings."""

from __future__ import annotations

from datetime import UTC, date, datetime

# Far beyond any event, far inside what datetime (years 1-9999) can shift by a time zone.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def parse_time(value: str) -> datetime:
    """ISO 8601 date ("2027-09-09", midnight UTC) or datetime; naive times are taken as UTC."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("must be an ISO 8601 date or date-time string")
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        # 0001-01-01T00:00:00+14:00 is a valid string whose UTC time is before year 1.
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            "must be an ISO 8601 date or date-time, e.g. 2027-09-09T20:00:00Z"
        ) from None
    if not EARLIEST <= parsed < LATEST:
        raise ValueError(f"must be from {EARLIEST.year} to {LATEST.year - 1}")
    return parsed
