"""Numbers and picks: keys, bounded draws, distinct integers, weighted or distinct picks.

Every function takes the rng and a row count and returns a whole column as a native
numpy array where it can (int64, float64, bool), so a million rows cost one draw.
:func:`fit` belongs here too: it is the arithmetic that shrinks a derived row count
to what a constraint allows, or refuses a count the user asked for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from seedgraph.errors import UsageError
from seedgraph.gen._arrays import Rng, _distinct, _objects
from seedgraph.gen.errors import GenerationError, _too_many

__all__ = [
    "amount_texts",
    "booleans",
    "choice",
    "decimals",
    "fit",
    "floats",
    "ids",
    "integers",
    "unique_choice",
    "unique_integers",
]


# -- numbers -------------------------------------------------------------------


def ids(n: int, start: int = 1) -> np.ndarray:
    """Keys ``start .. start + n - 1`` (int64)."""
    return np.arange(start, start + n, dtype=np.int64)


def integers(rng: Rng, n: int, low: int, high: int) -> np.ndarray:
    """``n`` integers uniformly in ``[low, high]``, both inclusive (int64)."""
    if high < low:
        raise _too_many(f"integers in [{low}, {high}]", n, 0)
    return rng.integers(low, high, size=n, dtype=np.int64, endpoint=True)


def unique_integers(rng: Rng, n: int, low: int, high: int) -> np.ndarray:
    """``n`` distinct integers in ``[low, high]`` in random order (int64).

    A dense request permutes the range; a sparse one (the range over four times *n*)
    draws with replacement and drops repeats, so ``0 .. 2**62`` costs memory for *n* only.
    """
    low, high = int(low), int(high)
    span = high - low + 1
    if span < n:
        raise _too_many(f"distinct integers in [{low}, {high}]", n, max(span, 0))
    if span <= 4 * n:
        return rng.permutation(span)[:n].astype(np.int64) + low
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        short = n - len(out)
        more = rng.integers(low, high, size=short + short // 4 + 8, dtype=np.int64,
                            endpoint=True)
        both = np.concatenate([out, more])
        _, first = np.unique(both, return_index=True)
        out = both[np.sort(first)]  # first occurrences, in the order drawn
    return out[:n]


def floats(rng: Rng, n: int, low: float, high: float) -> np.ndarray:
    """``n`` floats uniformly in ``[low, high)`` (float64)."""
    return rng.uniform(low, high, n)


def amount_texts(rng: Rng, n: int, low: float = 0.0, high: float = 1000.0) -> np.ndarray:
    """``n`` amounts with two decimals as text (``"12.34"``), for a column of a type the
    database reads from text, such as PostgreSQL's ``money``."""
    out = np.empty(n, dtype=object)
    out[:] = [f"{v:.2f}" for v in rng.uniform(low, high, n).tolist()]
    return out


def decimals(rng: Rng, n: int, low: float, high: float, scale: int) -> np.ndarray:
    """``n`` numbers with *scale* decimal places uniformly in ``[low, high]`` (float64).

    Draws among the NUMERIC(p, scale) values inside the range, so rounding to *scale*
    when written never pushes a value out of it (a CHECK ``price >= 0`` holds).
    """
    if scale < 0:
        raise UsageError(f"decimals need scale >= 0, got {scale}")
    factor = Decimal(10) ** scale
    lo = math.ceil(Decimal(repr(float(low))) * factor)
    hi = math.floor(Decimal(repr(float(high))) * factor)
    if hi < lo:
        raise _too_many(f"decimals of scale {scale} in [{low}, {high}]", n, 0)
    return rng.integers(lo, hi, size=n, dtype=np.int64, endpoint=True) / 10.0**scale


def booleans(rng: Rng, n: int, p: float = 0.5) -> np.ndarray:
    """``n`` booleans, each True with probability *p*."""
    return rng.random(n) < p


# -- picks ---------------------------------------------------------------------


def _pool(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """*values* as a 1-D array: native dtype for numbers, booleans and times, else object."""
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "biufMm":
        return values
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    types = {type(v) for v in items}
    if len(types) == 1 and types <= {int, float, bool}:
        return np.asarray(items)
    return _objects(items)


def choice(rng: Rng, values: Sequence[Any] | np.ndarray, n: int,
           weights: Sequence[float] | None = None) -> np.ndarray:
    """``n`` picks from *values* with repeats, optionally weighted (weights need not sum
    to 1). Numbers and booleans keep a native dtype; anything else is an object array."""
    pool = _pool(values)
    if n and len(pool) == 0:
        raise _too_many("picks from an empty list", n, 0)
    if weights is None:
        return pool[rng.integers(0, max(len(pool), 1), n)]
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(pool),) or (w < 0).any() or not w.sum() > 0:
        raise UsageError(f"choice needs {len(pool)} weights, none negative, with a positive "
                         f"sum; got {len(w)} summing to {w.sum()}")
    return pool[rng.choice(len(pool), size=n, p=w / w.sum())]


def unique_choice(rng: Rng, values: Sequence[Any] | np.ndarray, n: int) -> np.ndarray:
    """``n`` distinct values of *values* in random order (a repeated value counts once)."""
    pool = _distinct(_pool(values))
    if len(pool) < n:
        raise _too_many("distinct picks", n, len(pool))
    return pool[rng.choice(len(pool), size=n, replace=False)]


def fit(n: int, most: int, why: str, *, asked: int = 0) -> int:
    """*n* rows, or at most *most* when a constraint (*why*) allows no more: a row
    count derived from ``rows`` shrinks to fit, a count the user *asked* for is refused."""
    if n <= most:
        return n
    if asked:
        raise GenerationError(f"cannot seed {asked} rows: {why}, so at most {most} rows are "
                              f"possible; ask for {most} or fewer", most=most)
    return most
