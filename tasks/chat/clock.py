"""Times of the pack's rows, derived from as_of: nothing depends on the wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

__all__ = ["before", "naive"]


def naive(as_of: datetime) -> datetime:
    """as_of as naive UTC (how timestamp columns take it)."""
    return as_of.replace(tzinfo=None)


def before(as_of: datetime, rng: np.random.Generator, n: int, low_days: float,
           high_days: float) -> np.ndarray:
    """*n* times between *high_days* and *low_days* days before as_of, to the second."""
    seconds = rng.uniform(low_days * 86_400, high_days * 86_400, size=n).astype(np.int64)
    end = np.datetime64(naive(as_of), "s")
    return (end - seconds.astype("timedelta64[s]")).astype("datetime64[us]")


def at(as_of: datetime, days_before: float) -> datetime:
    return naive(as_of) - timedelta(days=days_before)
