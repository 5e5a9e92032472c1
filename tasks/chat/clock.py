"""Times of the pack's rows, derived from as_of: nothing depends on the wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["at", "naive"]


def naive(as_of: datetime) -> datetime:
    """as_of as naive UTC (how timestamp columns take it)."""
    return as_of.replace(tzinfo=None)


def at(as_of: datetime, days_before: float) -> datetime:
    return naive(as_of) - timedelta(days=days_before)
