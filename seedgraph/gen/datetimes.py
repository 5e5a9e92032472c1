"""Times and ordered values: timestamps and dates up to ``as_of``, times of day, ranges.

Times are drawn as whole seconds back from ``as_of`` in UTC wall time, so the same
rng state and ``as_of`` give the same column. :func:`after` (a value strictly after
another, for ``CHECK (a < b)``) and :func:`in_ranges` (a partition's bounds) also
take numbers, but they exist for ordered columns and are mostly used on times.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from seedgraph.errors import UsageError
from seedgraph.gen._arrays import Rng
from seedgraph.gen.errors import GenerationError

__all__ = [
    "after",
    "dates",
    "in_ranges",
    "interval_texts",
    "ordered_pairs",
    "times",
    "timestamps",
]


# -- time ----------------------------------------------------------------------


def _utc_seconds(as_of: datetime) -> np.datetime64:
    """*as_of* as UTC wall time in whole seconds (a naive datetime is taken as UTC)."""
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(as_of.replace(microsecond=0), "s")


def _seconds(days: float, what: str) -> int:
    span = int(days * 86_400)
    if span < 1:
        raise UsageError(f"{what} must be at least one second, got {days} days")
    return span


def timestamps(rng: Rng, n: int, as_of: datetime, *, days: float = 365.0) -> np.ndarray:
    """``n`` timestamps uniformly in ``(as_of - days, as_of]``, whole seconds, as UTC
    wall time (datetime64[us])."""
    back = rng.integers(0, _seconds(days, "days"), n)
    return (_utc_seconds(as_of) - back.astype("timedelta64[s]")).astype("datetime64[us]")


def dates(rng: Rng, n: int, as_of: datetime, *, days: int = 365) -> np.ndarray:
    """``n`` dates uniformly among the *days* days ending on as_of's UTC date (datetime64[D])."""
    if days < 1:
        raise UsageError(f"dates need days >= 1, got {days}")
    out: np.ndarray = _utc_seconds(as_of).astype("datetime64[D]") - rng.integers(
        0, days, n).astype("timedelta64[D]")
    return out


def ordered_pairs(rng: Rng, n: int, as_of: datetime, *, days: float = 365.0,
                  max_gap_days: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` (start, end) timestamps with ``as_of - days < start < end <= as_of`` and
    ``end - start <= max_gap_days``: sessions, bookings, validity windows (datetime64[us])."""
    span, gap = _seconds(days, "days"), _seconds(max_gap_days, "max_gap_days")
    if span < 2:
        raise UsageError(f"ordered_pairs need days of at least two seconds, got {days}")
    back = rng.integers(1, span, n)  # start is back seconds before as_of
    length = rng.integers(1, np.minimum(back, gap), endpoint=True)
    start = _utc_seconds(as_of) - back.astype("timedelta64[s]")
    end = start + length.astype("timedelta64[s]")
    return start.astype("datetime64[us]"), end.astype("datetime64[us]")


def times(rng: Rng, n: int) -> np.ndarray:
    """``n`` times of day in whole seconds (timedelta64[us] since midnight)."""
    return (rng.integers(0, 86_400, n) * 1_000_000).astype("timedelta64[us]")


def interval_texts(rng: Rng, n: int, *, max_days: int = 30) -> np.ndarray:
    """``n`` durations as PostgreSQL interval text (``"3 days 04:05:06"``), whole seconds
    up to *max_days* days: for an ``interval`` column, which the database casts."""
    seconds = rng.integers(0, max_days * 86_400 + 1, n)
    out = np.empty(n, dtype=object)
    out[:] = [f"{s // 86_400} days {s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
              for s in seconds.tolist()]
    return out


# -- shapes the schema inference needs ----------------------------------------------


def in_ranges(rng: Rng, n: int, ranges: Sequence[tuple[Any, Any]]) -> np.ndarray:
    """Values inside one of half-open *ranges* ``[low, high)`` (a partitioned table's
    partitions): ISO date-time strings give datetime64[us], numbers give int64."""
    if not ranges:
        raise GenerationError("no bounded partition to put rows in; add a partition with "
                              "FROM/TO bounds or seed this table with a task of your own")
    which = rng.integers(0, len(ranges), size=n)
    if isinstance(ranges[0][0], str):
        lows = np.array([np.datetime64(lo, "s") for lo, _ in ranges])
        highs = np.array([np.datetime64(hi, "s") for _, hi in ranges])
        span = (highs - lows).astype(np.int64)
        offset = (rng.random(n) * span[which]).astype(np.int64)
        times: np.ndarray = (lows[which] + offset.astype("timedelta64[s]")).astype(
            "datetime64[us]")
        return times
    lows_i = np.array([int(lo) for lo, _ in ranges], dtype=np.int64)
    highs_i = np.array([int(hi) for _, hi in ranges], dtype=np.int64)
    numbers: np.ndarray = lows_i[which] + (rng.random(n) * (highs_i - lows_i)[which]).astype(
        np.int64)
    return numbers


def after(rng: Rng, start: np.ndarray, *, max_gap_days: float = 30.0,
          max_gap: float = 100.0) -> np.ndarray:
    """Values strictly after *start* row by row (``CHECK (a < b)``): up to *max_gap_days*
    later for dates and times, up to *max_gap* more for numbers; NULL stays NULL."""
    out: np.ndarray
    if start.dtype.kind == "M":
        if str(start.dtype) == "datetime64[D]":
            gap = rng.integers(1, max(2, int(max_gap_days) + 1), size=len(start))
            out = start + gap.astype("timedelta64[D]")
        else:
            gap_s = rng.integers(60, max(61, int(max_gap_days * 86_400)), size=len(start))
            out = start + gap_s.astype("timedelta64[s]")
    elif start.dtype == object:  # numbers with NULLs
        mask = np.array([v is None for v in start], dtype=bool)
        base = np.array([0 if v is None else v for v in start])
        out = after(rng, base, max_gap_days=max_gap_days, max_gap=max_gap).astype(object)
        out[mask] = None
    elif start.dtype.kind in "iu":
        out = start + rng.integers(1, max(2, int(max_gap)), size=len(start))
    else:
        out = start + rng.uniform(0.01, max_gap, size=len(start))
    return out
