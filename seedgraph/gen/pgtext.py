"""PostgreSQL text forms: ranges, geometric types and xml, for columns the database casts.

These types have no binary encoder here, so a column of one is written as text and
cast by PostgreSQL on the way in (as ``inet`` or ``interval`` are). Each function
draws whole columns with numpy and builds the text with numpy's string functions on
variable-width strings (a loop over a handful of parts at most, never over rows),
and returns an object array of ``str``, the canonical form of a text column.

Ranges are half-open ``[lo,hi)`` with ``lo < hi``, never empty; times end at or
before ``as_of`` as :func:`~seedgraph.gen.ordered_pairs` do. Geometric values keep
two decimals; a circle's radius is positive, a polygon has at least three points
around its centre (in angular order, so it never crosses itself) and a line's
``A`` and ``B`` are never both zero.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from seedgraph.errors import UsageError
from seedgraph.gen._arrays import Rng
from seedgraph.gen.datetimes import _utc_seconds, ordered_pairs
from seedgraph.gen.errors import _too_many

__all__ = [
    "box_texts",
    "circle_texts",
    "date_range_texts",
    "int_range_texts",
    "line_texts",
    "lseg_texts",
    "num_range_texts",
    "path_texts",
    "point_texts",
    "polygon_texts",
    "time_range_texts",
    "xml_texts",
]


_S = np.dtypes.StringDType()  # variable-width: concatenation costs what the text is long


def _cat(*parts: Any) -> np.ndarray:
    """Element-wise concatenation of string columns (StringDType) and constants."""
    out: np.ndarray = np.asarray(parts[0], dtype=_S)
    for p in parts[1:]:
        out = np.strings.add(out, p)
    return out


def _objects(text: np.ndarray) -> np.ndarray:
    """A string column as the canonical text column: an object array of str."""
    out: np.ndarray = text.astype(object)
    return out


def _ints(values: np.ndarray) -> np.ndarray:
    out: np.ndarray = values.astype(np.int64).astype(_S)
    return out


def _decimal(units: np.ndarray, scale: int) -> np.ndarray:
    """Integers counting 10**-scale as fixed-point text: ``-537`` at scale 2 is ``"-5.37"``."""
    if scale == 0:
        return _ints(units)
    step = 10**scale
    magnitude = np.abs(units)
    body = _cat(_ints(magnitude // step), ".", np.strings.zfill(_ints(magnitude % step), scale))
    out: np.ndarray = np.where(units < 0, np.strings.add("-", body), body)
    return out


def _num(values: np.ndarray, scale: int = 2) -> np.ndarray:
    """Floats as fixed-point text with *scale* decimals (``-0.001`` is ``"0.00"``)."""
    return _decimal(np.round(values * 10**scale).astype(np.int64), scale)


# -- ranges ---------------------------------------------------------------------------


def _spans(rng: Rng, n: int, low: int, high: int, max_width: int,
           what: str) -> tuple[np.ndarray, np.ndarray]:
    """``n`` integer pairs ``low <= lo < hi <= high`` with ``hi - lo <= max_width``."""
    if high - low < 1:
        raise _too_many(f"non-empty {what} in [{low}, {high}]", n, 0)
    if max_width < 1:
        raise UsageError(f"{what} need max_width of at least one step, got {max_width}")
    lo = rng.integers(low, high, size=n, dtype=np.int64)  # high itself is no lower bound
    width = rng.integers(1, np.minimum(max_width, high - lo), endpoint=True)
    return lo, lo + width


def int_range_texts(rng: Rng, n: int, low: int = 1, high: int = 1000, *,
                    max_width: int = 100) -> np.ndarray:
    """``n`` integer ranges ``"[lo,hi)"`` with ``low <= lo < hi <= high`` and at most
    *max_width* wide: for ``int4range`` and ``int8range`` columns."""
    lo, hi = _spans(rng, n, int(low), int(high), int(max_width), "integer ranges")
    return _objects(_cat("[", _ints(lo), ",", _ints(hi), ")"))


def num_range_texts(rng: Rng, n: int, low: float = 0.0, high: float = 1000.0, *,
                    max_width: float = 100.0, scale: int = 2) -> np.ndarray:
    """``n`` numeric ranges ``"[12.50,40.25)"`` with bounds of *scale* decimals,
    ``low <= lo < hi <= high`` and at most *max_width* wide: for ``numrange`` columns."""
    if not 0 <= scale <= 6:
        raise UsageError(f"num_range_texts need 0 <= scale <= 6, got {scale}")
    step = 10**scale
    # rounded first: 0.1 * 100 is 10.000000000000002, whose ceiling would skip 0.10
    lo, hi = _spans(rng, n, math.ceil(round(low * step, 6)), math.floor(round(high * step, 6)),
                    math.floor(round(max_width * step, 6)), f"numeric ranges of scale {scale}")
    return _objects(_cat("[", _decimal(lo, scale), ",", _decimal(hi, scale), ")"))


def date_range_texts(rng: Rng, n: int, as_of: datetime, *, days: int = 365,
                     max_days: int = 30) -> np.ndarray:
    """``n`` date ranges ``"[2025-03-01,2025-03-09)"`` with ``as_of - days <= lo < hi
    <= as_of`` (UTC dates) and at most *max_days* long: for ``daterange`` columns."""
    if days < 1 or max_days < 1:
        raise UsageError(f"date_range_texts need days >= 1 and max_days >= 1, got "
                         f"{days} and {max_days}")
    back = rng.integers(1, days, size=n, endpoint=True)  # lo is back days before as_of
    length = rng.integers(1, np.minimum(back, max_days), endpoint=True)
    lo = _utc_seconds(as_of).astype("datetime64[D]") - back.astype("timedelta64[D]")
    hi = lo + length.astype("timedelta64[D]")
    return _objects(_cat("[", np.datetime_as_string(lo).astype(_S), ",",
                         np.datetime_as_string(hi).astype(_S), ")"))


def time_range_texts(rng: Rng, n: int, as_of: datetime, *, days: float = 365.0,
                     max_gap_days: float = 30.0) -> np.ndarray:
    """``n`` time ranges ``'["2025-03-01 08:00:00+00","2025-03-02 17:30:00+00")'``, the
    bounds of :func:`~seedgraph.gen.ordered_pairs` (UTC, whole seconds, ``lo < hi <=
    as_of``): for ``tstzrange`` and ``tsrange`` columns (a ``tsrange`` drops the ``+00``
    and keeps the UTC wall time, as a ``timestamp`` column written by seedgraph does)."""
    start, end = ordered_pairs(rng, n, as_of, days=days, max_gap_days=max_gap_days)

    def text(t: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.strings.replace(
            np.datetime_as_string(t, unit="s").astype(_S), "T", " ")
        return out

    return _objects(_cat('["', text(start), '+00","', text(end), '+00")'))


# -- geometric types -------------------------------------------------------------------


def _points(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return _cat("(", _num(xs), ",", _num(ys), ")")


def _joined(xs: np.ndarray, ys: np.ndarray, counts: np.ndarray, open_: str,
            close: str) -> np.ndarray:
    """Each row's first ``counts`` points of *xs*, *ys* (n, k), comma separated between
    *open_* and *close*: only the points used are formatted, and each row's are joined
    in one ``reduceat`` (an object array: numpy joins no other string dtype so)."""
    if len(counts) == 0:
        return np.empty(0, dtype=object)
    used = np.arange(xs.shape[1]) < counts[:, None]
    first = np.cumsum(counts) - counts  # where each row's points start
    sep = np.full(int(counts.sum()), ",", dtype=_S)
    sep[first] = open_
    joined = np.add.reduceat(_cat(sep, _points(xs[used], ys[used])).astype(object), first)
    out: np.ndarray = joined + close
    return out


def point_texts(rng: Rng, n: int, *, low: float = -100.0, high: float = 100.0) -> np.ndarray:
    """``n`` points ``"(x,y)"``, both coordinates between *low* and *high* (two
    decimals, so *high* itself may come up): ``point``."""
    return _objects(_points(rng.uniform(low, high, n), rng.uniform(low, high, n)))


def _corners(rng: Rng, n: int, low: float, high: float,
             max_size: float) -> tuple[np.ndarray, ...]:
    """Two corners ``x1 < x2``, ``y1 < y2`` at least 0.01 apart on each axis."""
    if max_size < 0.01 or high - low < 0.02:
        raise UsageError(f"boxes need max_size >= 0.01 and high - low >= 0.02, got "
                         f"{max_size} and {high - low}")
    max_size = min(max_size, (high - low) / 2)
    x1, y1 = np.round(rng.uniform(low, high - max_size, (2, n)), 2)
    w, h = np.round(rng.uniform(0.01, max_size, (2, n)), 2)
    return x1, y1, x1 + np.maximum(w, 0.01), y1 + np.maximum(h, 0.01)


def box_texts(rng: Rng, n: int, *, low: float = -100.0, high: float = 100.0,
              max_size: float = 20.0) -> np.ndarray:
    """``n`` boxes ``"(x2,y2),(x1,y1)"`` (upper right, then lower left, as PostgreSQL
    writes them), at most *max_size* wide and high, inside ``[low, high)``: ``box``."""
    x1, y1, x2, y2 = _corners(rng, n, low, high, max_size)
    return _objects(_cat(_points(x2, y2), ",", _points(x1, y1)))


def lseg_texts(rng: Rng, n: int, *, low: float = -100.0, high: float = 100.0,
               max_size: float = 20.0) -> np.ndarray:
    """``n`` line segments ``"[(x1,y1),(x2,y2)]"`` of distinct end points, within
    *max_size* on each axis, inside ``[low, high)``: ``lseg``."""
    x1, y1, x2, y2 = _corners(rng, n, low, high, max_size)
    down = rng.random(n) < 0.5  # half of them slope down
    y1, y2 = np.where(down, y2, y1), np.where(down, y1, y2)
    return _objects(_cat("[", _points(x1, y1), ",", _points(x2, y2), "]"))


def circle_texts(rng: Rng, n: int, *, low: float = -100.0, high: float = 100.0,
                 max_radius: float = 10.0) -> np.ndarray:
    """``n`` circles ``"<(x,y),r>"`` with the centre as :func:`point_texts` and ``0 < r <=
    max_radius`` (two decimals, at least 0.01): ``circle``."""
    if max_radius < 0.01:
        raise UsageError(f"circle_texts need max_radius >= 0.01, got {max_radius}")
    r = np.maximum(np.round(rng.uniform(0.01, max_radius, n), 2), 0.01)
    centre = _points(rng.uniform(low, high, n), rng.uniform(low, high, n))
    return _objects(_cat("<", centre, ",", _num(r), ">"))


def line_texts(rng: Rng, n: int, *, low: float = -100.0, high: float = 100.0) -> np.ndarray:
    """``n`` lines ``"{A,B,C}"`` (``Ax + By + C = 0``) through a point in ``[low,
    high)`` at any angle; ``A`` and ``B`` are a unit normal, never both zero: ``line``."""
    angle = rng.uniform(0.0, np.pi, n)
    a, b = np.round(-np.sin(angle), 4), np.round(np.cos(angle), 4)
    c = -(a * rng.uniform(low, high, n) + b * rng.uniform(low, high, n))
    return _objects(_cat("{", _num(a, 4), ",", _num(b, 4), ",", _num(c), "}"))


def path_texts(rng: Rng, n: int, *, max_points: int = 6, low: float = -100.0,
               high: float = 100.0, step: float = 10.0) -> np.ndarray:
    """``n`` open paths ``"[(x1,y1),(x2,y2),...]"`` of 2..*max_points* points, a walk of
    steps up to *step* from a start in ``[low, high)``: ``path``."""
    if max_points < 2:
        raise UsageError(f"path_texts need max_points >= 2, got {max_points}")
    counts = rng.integers(2, max_points, size=n, endpoint=True)
    xs = rng.uniform(low, high, (n, 1)) + np.cumsum(rng.uniform(-step, step, (n, max_points)),
                                                    axis=1)
    ys = rng.uniform(low, high, (n, 1)) + np.cumsum(rng.uniform(-step, step, (n, max_points)),
                                                    axis=1)
    return _joined(xs, ys, counts, "[", "]")


def polygon_texts(rng: Rng, n: int, *, max_points: int = 6, low: float = -100.0,
                  high: float = 100.0, max_radius: float = 10.0) -> np.ndarray:
    """``n`` polygons ``"((x1,y1),(x2,y2),(x3,y3),...)"`` of 3..*max_points* points
    around a centre in ``[low, high)``, at most *max_radius* from it, in angular order
    with gaps under half a turn: star-shaped, so never self-crossing: ``polygon``."""
    if max_points < 3 or max_radius < 0.1:
        raise UsageError(f"polygon_texts need max_points >= 3 and max_radius >= 0.1, got "
                         f"{max_points} and {max_radius}")
    counts = rng.integers(3, max_points, size=n, endpoint=True)
    # point j of a c-gon sits at angle (j + u) / c of a turn, u < 1/2: the gaps stay
    # under half a turn, so the centre is inside and the edges never cross
    turn = (np.arange(max_points) + rng.uniform(0.0, 0.5, (n, max_points))) / counts[:, None]
    radius = rng.uniform(max_radius / 2, max_radius, (n, max_points))
    xs = rng.uniform(low, high, (n, 1)) + radius * np.cos(2 * np.pi * turn)
    ys = rng.uniform(low, high, (n, 1)) + radius * np.sin(2 * np.pi * turn)
    return _joined(xs, ys, counts, "(", ")")


# -- xml ---------------------------------------------------------------------------------


def _escaped_pool(items: list[str]) -> np.ndarray:
    """Distinct Faker strings, XML-escaped (the pool is small: this is not per row)."""
    return np.array([escape(s) for s in dict.fromkeys(items)], dtype=_S)


def xml_texts(rng: Rng, faker: Any, n: int, *, max_tags: int = 3) -> np.ndarray:
    """``n`` small well-formed XML documents, ``<note id="17"><title>…</title><body>…
    </body><tag>…</tag></note>`` with 0..*max_tags* tags, their text XML-escaped from a
    Faker pool of words and sentences: for ``xml`` columns."""
    words = _escaped_pool(faker.words(nb=200))
    sentences = _escaped_pool(faker.sentences(nb=100))
    titles = _cat(words[rng.integers(0, len(words), n)], " ",
                  words[rng.integers(0, len(words), n)])
    ids = rng.integers(1, 100_000, n)
    tags = _cat("<tag>", words[rng.integers(0, len(words), (n, max_tags))], "</tag>")
    counts = rng.integers(0, max_tags, size=n, endpoint=True)
    tagged: np.ndarray = np.full(n, "", dtype=_S)
    for j in range(max_tags):
        tagged = np.where(j < counts, _cat(tagged, tags[:, j]), tagged)
    return _objects(_cat('<note id="', _ints(ids), '"><title>', titles,
                         "</title><body>", sentences[rng.integers(0, len(sentences), n)],
                         "</body>", tagged, "</note>"))
