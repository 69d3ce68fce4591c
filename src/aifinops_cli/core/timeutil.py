"""Times as the cloud APIs write them, and ages as the rules read them (one place for both)."""

from __future__ import annotations

from datetime import datetime


def parse_time(value: str | None) -> datetime | None:
    """RFC 3339 as Google and Kubernetes write it (`2026-11-01T10:00:00.000-07:00`, or `Z`)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _elapsed(then: datetime | None, now: datetime, unit_s: float, digits: int) -> float | None:
    """Units from `then` to `now` (never negative); None when `then` is unknown."""
    return None if then is None else round(max((now - then).total_seconds(), 0.0) / unit_s, digits)


def age_days(then: datetime | None, now: datetime, digits: int = 1) -> float | None:
    return _elapsed(then, now, 86400.0, digits)


def age_hours(then: datetime | None, now: datetime, digits: int = 1) -> float | None:
    return _elapsed(then, now, 3600.0, digits)
