"""The UTC day: "today" is the exchange's day, the same for every client, in storage and in figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def utc_day_start(when: date | datetime) -> datetime:
    """Midnight UTC of a date, or of the UTC day that contains an aware datetime."""
    day = when.astimezone(UTC).date() if isinstance(when, datetime) else when
    return datetime.combine(day, time(0), tzinfo=UTC)
