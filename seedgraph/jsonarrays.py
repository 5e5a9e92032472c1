"""JSON text for the rows of a numeric array (a JSON column given as a 2-D or deeper
numpy array): exactly ``json.dumps(row.tolist())``, made faster for numbers rounded to
a few decimals, which is what generated data usually holds.

``json.dumps`` writes a float as ``float.__repr__``, the costly part of encoding
thousands of numbers per row. A number rounded with ``np.round(v, d)`` is
``rint(v * 10**d) / 10**d``, i.e. exactly ``k / 10**d`` for an integer *k*; when every
number of the array is such a value (checked), its text is looked up in a table of
``repr(k / 10**d)`` and each row is filled into one ``%``-format, in C. Integers are
looked up the same way (their ``str``). Anything else (more decimals, NaN, infinities,
huge values) takes ``json.dumps``.

:func:`json_runs` does the same for lists of different lengths (a trajectory of points
per row): the items of every row one after another, and each row's item count.
"""

from __future__ import annotations

import json

import numpy as np

__all__ = ["json_rows", "json_runs"]

MOST_DECIMALS = 6
MOST_STEPS = 1 << 20  # largest |k| looked up: the table holds one string per step
BLOCK = 1 << 16  # numbers handled at once: the temporaries stay small
CACHED_STEPS = 1 << 18  # texts kept per number of decimals between calls (~15 MB at most)
FEW_COORDINATES = 4  # a last axis this short holds coordinates, each with its decimals


def json_rows(values: np.ndarray) -> list[str]:
    """``json.dumps(row.tolist())`` for each row of *values* (ndim >= 2)."""
    per_row = max(1, int(np.prod(values.shape[1:])))
    step = max(1, BLOCK // per_row)
    if len(values) <= step:
        return _rows(values)
    out: list[str] = []
    for start in range(0, len(values), step):
        out += _rows(values[start:start + step])
    return out


def json_runs(items: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``json.dumps(items[a:b].tolist())`` for each run of ``counts[i]`` consecutive
    items (rows of *items*, ndim >= 1), as an object array of one text per run."""
    counts = np.asarray(counts, dtype=np.int64)
    out = np.empty(len(counts), dtype=object)
    begin = np.cumsum(counts) - counts
    texts = _texts(items)
    if texts is None:
        out[:] = [json.dumps(items[a:a + m].tolist())
                  for a, m in zip(begin.tolist(), counts.tolist(), strict=True)]
        return out
    item = _template(items.shape[1:])
    flat = texts.reshape(len(items), -1)
    for m in np.unique(counts).tolist():  # one %-format per run length
        which = np.flatnonzero(counts == m)
        rows = flat[begin[which][:, None] + np.arange(m)].reshape(len(which), -1)
        template = "[" + ", ".join([item] * m) + "]"
        out[which] = [template % tuple(row) for row in rows.tolist()]
    return out


def _rows(values: np.ndarray) -> list[str]:
    texts = _texts(values)
    if texts is None:
        return [json.dumps(r.tolist()) for r in values]
    flat = texts.reshape(len(values), -1).tolist()
    if values.ndim == 2:  # a flat list per row: a join is 2.5x quicker than a %-format
        return ["[" + ", ".join(row) + "]" for row in flat]
    template = _template(values.shape[1:])
    return [template % tuple(row) for row in flat]


def _template(shape: tuple[int, ...]) -> str:
    """The %-format of one row of *shape*, as json.dumps nests it."""
    if not shape:
        return "%s"
    inner = _template(shape[1:])
    return "[" + ", ".join([inner] * shape[0]) + "]"


def _texts(values: np.ndarray) -> np.ndarray | None:
    """repr() of every number, by table lookup; None when they are not all k / 10**d.
    Points and boxes (a last axis of a few numbers) are looked up coordinate by
    coordinate, each with its own decimals (pixels with one, a score with two)."""
    if values.size == 0 or values.dtype.kind not in "fiu":
        return None
    if values.dtype.kind in "iu":
        return _int_texts(values)
    v = values.astype(np.float64, copy=False)
    if not np.isfinite(v).all():
        return None
    if v.ndim < 2 or v.shape[-1] > FEW_COORDINATES:
        return _float_texts(v)
    out = np.empty(v.shape, dtype=object)
    for c in range(v.shape[-1]):
        texts = _float_texts(v[..., c])
        if texts is None:
            return None
        out[..., c] = texts
    return out


def _float_texts(v: np.ndarray) -> np.ndarray | None:
    for d in range(MOST_DECIMALS + 1):
        scale = 10.0 ** d
        k = np.rint(v * scale)
        if np.abs(k).max() > MOST_STEPS:
            return None
        if (k / scale == v).all():
            break
    else:
        return None
    k = k.astype(np.int64)
    low, high = int(k.min()), int(k.max())
    cached = _table(d, low, high)
    if cached is not None:
        out: np.ndarray = cached[1][k - cached[0]]
    elif high - low < k.size:  # a table of every step between the smallest and the largest
        out = _reprs(d, low, high)[k - low]
    else:  # few numbers far apart: only the ones there
        steps, at = np.unique(k, return_inverse=True)
        out = np.array([repr(j / scale) for j in steps.tolist()], dtype=object)[at]
        out = out.reshape(k.shape)
    out[np.signbit(v) & (v == 0)] = "-0.0"  # rounded to zero from below: repr(-0.0)
    return out


# per number of decimals d, the texts of k / 10**d for consecutive k: (lowest k, texts),
# kept between calls (a table is the costly part of a small block), up to CACHED_STEPS
_TABLES: dict[int, tuple[int, np.ndarray]] = {}


def _table(d: int, low: int, high: int) -> tuple[int, np.ndarray] | None:
    have = _TABLES.get(d)
    if have is not None and have[0] <= low and high < have[0] + len(have[1]):
        return have
    if have is not None:
        low, high = min(low, have[0]), max(high, have[0] + len(have[1]) - 1)
    if high - low >= CACHED_STEPS:
        return None
    made = (low, _reprs(d, low, high))
    _TABLES[d] = made
    return made


def _reprs(d: int, low: int, high: int) -> np.ndarray:
    """repr(k / 10**d) for every k from *low* to *high*."""
    scale = 10.0 ** d
    return np.array([repr(j / scale) for j in range(low, high + 1)], dtype=object)


def _int_texts(values: np.ndarray) -> np.ndarray | None:
    low, high = int(values.min()), int(values.max())
    if high - low >= max(values.size, 1 << 10):
        return None  # few integers far apart: json.dumps is as quick
    table = np.array([str(j) for j in range(low, high + 1)], dtype=object)
    out: np.ndarray = table[(values - values.dtype.type(low)).astype(np.int64)]
    return out
