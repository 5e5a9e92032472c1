"""Generators: the column-wise moves seed tasks share, so a task body shows only its domain.

Every function is pure: it takes a numpy ``Generator`` (and, for realistic text, a
seeded Faker), draws whole columns at once and returns numpy arrays in the canonical
form of :mod:`seedgraph.columns`, ready for ``ctx.write``. The same rng state gives
the same arrays. Faker only builds small pools of values and numpy picks from them,
so a million rows cost one pool and one index draw.

    ids, integers, floats, decimals, booleans       keys and bounded draws
    choice, unique_choice                           picks from a list: weighted, or distinct
    unique_integers, unique_pairs                   distinct draws without allocating the range
    foreign_keys, children_per_parent               fan-out from parent keys
    timestamps, dates, ordered_pairs, times         times at or before ``as_of``
    with_nulls                                      a share of NULLs in any column
    uuids, json_documents, text_arrays, int_arrays, strings
    by_meaning, emails_for, meaning_for, MEANINGS   realistic text by meaning (email, city, ...)
"""

from __future__ import annotations

import gc
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from seedgraph.errors import UsageError, did_you_mean

__all__ = [
    "MEANINGS",
    "GenerationError",
    "after",
    "booleans",
    "by_meaning",
    "byte_strings",
    "children_per_parent",
    "choice",
    "dates",
    "decimals",
    "drop_duplicates",
    "emails_for",
    "fit",
    "floats",
    "foreign_keys",
    "hierarchy",
    "ids",
    "in_ranges",
    "int_arrays",
    "integers",
    "json_documents",
    "meaning_for",
    "numbered_within",
    "numbers_when_unique",
    "ordered_pairs",
    "strings",
    "text_arrays",
    "times",
    "timestamps",
    "unique_choice",
    "unique_integers",
    "unique_pairs",
    "uuids",
    "with_nulls",
]

Rng = np.random.Generator


class GenerationError(UsageError):
    """A generator cannot make what was asked: more distinct values than exist, an empty
    range, an unknown meaning. ``most`` is the most rows it could make, when that is the limit."""

    def __init__(self, message: str, *, most: int | None = None) -> None:
        super().__init__(message)
        self.most = most


def _too_many(what: str, n: int, most: int, hint: str = "") -> GenerationError:
    return GenerationError(f"cannot generate {n} {what}: at most {most} rows possible{hint}",
                           most=most)


def _objects(items: Sequence[Any]) -> np.ndarray:
    """A 1-D object array holding *items* as they are (lists stay lists)."""
    return np.fromiter(items, dtype=object, count=len(items))


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values of a 1-D array: sorted when native, first seen first when object.
    (Sorting beats ``np.unique``, whose hash table takes seconds for a million ints.)"""
    if values.dtype == object:
        return _objects(list(dict.fromkeys(values.tolist())))
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector while building a million small lists and dicts: it would
    run hundreds of times over objects that form no cycles (3-4x slower)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def unique_pairs(rng: Rng, left: np.ndarray, right: np.ndarray,
                 n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct ``(left, right)`` pairs in random order: the keys of a link table."""
    left, right = _distinct(np.asarray(left)), _distinct(np.asarray(right))
    total = len(left) * len(right)
    if total < n:
        raise _too_many(f"distinct pairs of {len(left)} x {len(right)} keys", n, total)
    flat = unique_integers(rng, n, 0, total - 1)
    return left[flat // len(right)], right[flat % len(right)]


# -- fan-out ---------------------------------------------------------------------

_FANOUTS = ("uniform", "poisson", "zipf")


def foreign_keys(rng: Rng, parent_keys: np.ndarray, n: int, *, fanout: str = "uniform",
                 a: float = 1.5) -> np.ndarray:
    """A parent key for each of ``n`` child rows, in random order.

    fanout  "uniform": every parent gets n / parents children, give or take one;
            "poisson": each child picks a parent at random, so children per parent
                       are about Poisson(n / parents) and some parents get none;
            "zipf":    a parent's share falls as rank ** -a: a few parents get most.
    """
    if fanout not in _FANOUTS:
        raise UsageError(f"unknown fanout {fanout!r}; use one of {', '.join(_FANOUTS)}."
                         f"{did_you_mean(fanout, _FANOUTS)}")
    keys = np.asarray(parent_keys)
    m = len(keys)
    if n == 0:
        return keys[:0]
    if m == 0:
        raise _too_many("foreign keys to an empty parent table", n, 0)
    if fanout == "uniform":
        idx = rng.permutation(rng.permutation(m)[np.arange(n) % m])
    elif fanout == "poisson":
        idx = rng.integers(0, m, n)
    else:
        if a <= 0:
            raise UsageError(f"zipf fan-out needs a > 0, got {a}")
        share = np.arange(1, m + 1, dtype=np.float64) ** -a
        idx = rng.permutation(m)[rng.choice(m, size=n, p=share / share.sum())]
    out: np.ndarray = keys[idx]
    return out


def children_per_parent(rng: Rng, parent_keys: np.ndarray, *, mean: float, min: int = 0,
                        max: int | None = None) -> np.ndarray:
    """Each parent key repeated once per child, sorted by parent: the foreign-key column
    of a child table. A parent has ``min + Poisson(mean - min)`` children, capped at *max*."""
    if mean < min or (max is not None and max < min):
        raise UsageError(f"children_per_parent needs min <= mean and min <= max; "
                         f"got min={min}, mean={mean}, max={max}")
    keys = np.sort(np.asarray(parent_keys))
    counts = min + rng.poisson(mean - min, len(keys))
    if max is not None:
        counts = np.minimum(counts, max)
    return np.repeat(keys, counts)


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


# -- NULLs -----------------------------------------------------------------------


def with_nulls(rng: Rng, values: np.ndarray, rate: float) -> np.ndarray:
    """*values* with about *rate* of them NULL: NaT in datetimes and NaN in floats (the
    dtype stays), None in an object array for everything else."""
    if not 0 <= rate <= 1:
        raise UsageError(f"with_nulls needs 0 <= rate <= 1, got {rate}")
    mask = rng.random(len(values)) < rate
    kind = values.dtype.kind
    if values.ndim == 1 and kind in "fMm":
        out = values.copy()
        out[mask] = np.nan if kind == "f" else values.dtype.type("NaT")
        return out
    out = values.astype(object) if values.ndim == 1 else np.fromiter(
        values, dtype=object, count=len(values))  # a 2-D array: one row per value
    out[mask] = None
    return out


# -- structured values -------------------------------------------------------------

_UUID_HEX_AT = [i for i in range(36) if i not in (8, 13, 18, 23)]


def uuids(rng: Rng, n: int) -> np.ndarray:
    """``n`` random (version 4) UUIDs as canonical hyphenated strings."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = np.frombuffer(raw.tobytes().hex().encode("ascii"), dtype=np.uint8)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    text[:, _UUID_HEX_AT] = hexed.reshape(n, 32)
    return _objects([b.decode() for b in text.view("S36").ravel().tolist()])


def _words(faker: Any) -> np.ndarray:
    return _objects(list(dict.fromkeys(faker.words(nb=200))))


def _ragged(rng: Rng, n: int, max_items: int, draw: Callable[[int], np.ndarray]) -> np.ndarray:
    """``n`` lists of 0..max_items items taken from one flat draw."""
    lengths = rng.integers(0, max_items, n, endpoint=True)
    flat = draw(int(lengths.sum())).tolist()
    ends = np.cumsum(lengths)
    bounds = zip((ends - lengths).tolist(), ends.tolist(), strict=True)
    with _gc_paused():
        return np.fromiter((flat[a:b] for a, b in bounds), dtype=object, count=n)


def json_documents(rng: Rng, faker: Any, n: int) -> np.ndarray:
    """``n`` small JSON objects (dicts): a source word, a score, a flag and a few tags."""
    words = _words(faker)
    source = words[rng.integers(0, len(words), n)].tolist()
    score = np.round(rng.random(n) * 100, 2).tolist()
    active = (rng.random(n) < 0.7).tolist()
    tags = _ragged(rng, n, 3, lambda k: words[rng.integers(0, len(words), k)]).tolist()
    docs = ({"source": s, "score": x, "active": a, "tags": t}
            for s, x, a, t in zip(source, score, active, tags, strict=True))
    with _gc_paused():
        return np.fromiter(docs, dtype=object, count=n)


def text_arrays(rng: Rng, faker: Any, n: int, *, max_items: int = 4) -> np.ndarray:
    """``n`` lists of 0..max_items words (TEXT_ARRAY)."""
    words = _words(faker)
    return _ragged(rng, n, max_items, lambda k: words[rng.integers(0, len(words), k)])


def int_arrays(rng: Rng, n: int, low: int, high: int, *, max_items: int = 4) -> np.ndarray:
    """``n`` lists of 0..max_items integers in ``[low, high]`` (INT_ARRAY)."""
    return _ragged(rng, n, max_items, lambda k: integers(rng, k, low, high))


_WORDS = ("amber", "anchor", "apex", "arrow", "aspen", "birch", "blaze", "brook", "cedar",
          "cinder", "cobalt", "coral", "crest", "delta", "drift", "ember", "falcon", "fern",
          "flint", "frost", "glade", "granite", "harbor", "hazel", "indigo", "iris", "juniper",
          "lagoon", "lark", "maple", "meadow", "mesa", "north", "oak", "onyx", "orbit",
          "pine", "prairie", "quartz", "raven", "ridge", "river", "sage", "slate", "spruce",
          "summit", "thistle", "willow")
_PHRASES = tuple(f"{a} {b}" for a in _WORDS for b in _WORDS if a != b)


def strings(rng: Rng, n: int, *, max_length: int | None = None, unique: bool = False,
            prefix: str = "") -> np.ndarray:
    """Generic text for a column with no known meaning: two words (``"cedar harbor"``), or
    with *unique* ``prefix`` and a row number (``"item-17"``); none longer than *max_length*."""
    if max_length is not None and max_length < 1:
        raise UsageError(f"max_length must be at least 1, got {max_length}")
    if unique:
        if max_length is not None and len(prefix) + len(str(n)) > max_length:
            most = 10 ** (max_length - len(prefix)) - 1 if max_length > len(prefix) else 0
            raise _too_many(f"distinct strings of at most {max_length} characters "
                            f"starting {prefix!r}", n, most)
        return _objects([f"{prefix}{i}" for i in range(1, n + 1)])
    pool = _objects(list(dict.fromkeys(p[:max_length].rstrip() for p in _PHRASES)))
    return pool[rng.integers(0, len(pool), n)]


# -- text by meaning ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Meaning:
    description: str
    make: Callable[[Any], str]  # one value from a seeded Faker
    number_before: str | None = ""  # where unique numbering goes ("" = at the end, None: never)


_TABLE: dict[str, _Meaning] = {
    "first_name": _Meaning("a given name", lambda f: f.first_name()),
    "last_name": _Meaning("a family name", lambda f: f.last_name()),
    "full_name": _Meaning("a person's full name", lambda f: f.name()),
    "email": _Meaning("an email address at an example domain", lambda f: f.email(), "@"),
    "username": _Meaning("a login handle", lambda f: f.user_name()),
    "phone": _Meaning("a phone number", lambda f: f.phone_number(), None),
    "street": _Meaning("a street address", lambda f: f.street_address()),
    "address": _Meaning("a full postal address on one line",
                        lambda f: f.address().replace("\n", ", ")),
    "city": _Meaning("a city name", lambda f: f.city()),
    "state": _Meaning("a state or province", lambda f: f.administrative_unit(), None),
    "postal_code": _Meaning("a postal code", lambda f: f.postcode(), None),
    "country": _Meaning("a country name", lambda f: f.country(), None),
    "country_code": _Meaning("an ISO 3166 alpha-2 country code",
                             lambda f: f.country_code(), None),
    "company": _Meaning("a company name", lambda f: f.company()),
    "url": _Meaning("a web address", lambda f: f.url()),
    "domain": _Meaning("an internet domain name", lambda f: f.domain_name(), "."),
    "job": _Meaning("a job title", lambda f: f.job()),
    "title": _Meaning("a short title of a few words",
                      lambda f: f.sentence(nb_words=4).rstrip(".")),
    "sentence": _Meaning("one sentence", lambda f: f.sentence()),
    "paragraph": _Meaning("a paragraph of a few sentences", lambda f: f.paragraph()),
    "description": _Meaning("a one- or two-sentence description",
                            lambda f: f.paragraph(nb_sentences=2)),
    "word": _Meaning("a single word", lambda f: f.word()),
    "slug": _Meaning("a URL slug", lambda f: f.slug()),
    "color": _Meaning("a color name", lambda f: f.color_name(), None),
    "file_path": _Meaning("an absolute file path", lambda f: f.file_path(), "."),
    "ip": _Meaning("an IPv4 address", lambda f: f.ipv4(), None),
    "ipv6": _Meaning("an IPv6 address", lambda f: f.ipv6(), None),
    "currency_code": _Meaning("an ISO 4217 currency code", lambda f: f.currency_code(), None),
    "iban": _Meaning("an IBAN", lambda f: f.iban(), None),
    "isbn": _Meaning("an ISBN-13", lambda f: f.isbn13(), None),
    "language": _Meaning("a language name", lambda f: f.language_name(), None),
    "user_agent": _Meaning("a browser user agent", lambda f: f.user_agent()),
    "mime_type": _Meaning("a MIME type", lambda f: f.mime_type(), None),
}

MEANINGS: dict[str, str] = {name: m.description for name, m in _TABLE.items()}
"""Every meaning :func:`by_meaning` knows, with what its values look like."""


def numbers_when_unique(meaning: str) -> bool:
    """Whether ``by_meaning(unique=True)`` numbers values once its pool runs out; a
    meaning with a fixed format (phone, ISBN, IP) only has as many as its pool."""
    return meaning in _TABLE and _TABLE[meaning].number_before is not None


def by_meaning(rng: Rng, faker: Any, meaning: str, n: int, *, unique: bool = False,
               max_length: int | None = None, pool: int = 1000) -> np.ndarray:
    """``n`` realistic strings for *meaning* (see MEANINGS), none longer than *max_length*.

    Faker makes *pool* values and numpy picks among them. With *unique* the values are
    distinct: each pool value once, then pool values numbered (``ada7``,
    ``ada.smith7@example.com``); a closed set or fixed format (country codes, IPs) is
    never numbered, so it is limited to the distinct values a pool finds.
    """
    entry = _TABLE.get(meaning)
    if entry is None:
        raise GenerationError(f"unknown meaning {meaning!r}.{did_you_mean(meaning, _TABLE)} "
                              f"Known meanings: {', '.join(sorted(_TABLE))}")
    if max_length is not None and max_length < 1:
        raise UsageError(f"max_length must be at least 1, got {max_length}")
    made = (entry.make(faker)[:max_length] for _ in range(pool))
    distinct = _objects(list(dict.fromkeys(made)))
    if not unique:
        if n and len(distinct) == 0:
            raise _too_many(f"{meaning!r} values from an empty pool", n, 0)
        return distinct[rng.integers(0, max(len(distinct), 1), n)]
    if n <= len(distinct):
        return distinct[rng.choice(len(distinct), size=n, replace=False)]
    if entry.number_before is None:
        raise _too_many(f"distinct {meaning!r} values", n, len(distinct),
                        f" with pool={pool}; a larger pool may find more")
    out = distinct[rng.permutation(len(distinct))].tolist()
    seen, number = set(out), 0
    while len(out) < n:
        for base in distinct[rng.integers(0, len(distinct), n - len(out))].tolist():
            number += 1
            value = _numbered(base, number, entry.number_before, max_length)
            if value is None:
                raise _too_many(f"distinct {meaning!r} values of at most {max_length} "
                                "characters", n, len(out))
            if value not in seen:
                seen.add(value)
                out.append(value)
    return _objects(out)


def _numbered(value: str, number: int, before: str, max_length: int | None) -> str | None:
    """*value* with *number* inserted before the first *before* (``ada7@example.com``), the
    part before it cut to fit *max_length*; None when not one character of it is left."""
    head, sep, tail = value.partition(before) if before else (value, "", "")
    digits = str(number)
    if max_length is not None:
        room = max_length - len(digits) - len(sep) - len(tail)
        if room < 1:
            return None
        head = head[:room]
    return f"{head}{digits}{sep}{tail}"


_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved by RFC 2606
_SEPARATORS = (".", "_", "")


def _letters(names: np.ndarray) -> np.ndarray:
    """Each name as the lower-case ASCII letters an address uses (``José`` -> ``jose``)."""
    def letters(name: Any) -> str:
        text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z]", "", text.lower()) or "user"

    mapping = {name: letters(name) for name in dict.fromkeys(names.tolist())}
    out: np.ndarray = np.frompyfunc(mapping.__getitem__, 1, 1)(names)
    return out.astype(object)


def emails_for(rng: Rng, first: np.ndarray, last: np.ndarray, *,
               unique: bool = True) -> np.ndarray:
    """Addresses that belong to the people named (``ada.lovelace42@example.com``) at reserved
    example domains. With *unique* each address ends in its own number, so they are
    distinct by construction; otherwise about half end in a number from 1 to 99."""
    n = len(first)
    if len(last) != n:
        raise UsageError(f"emails_for got {n} first names and {len(last)} last names")
    style = rng.integers(0, 3, n)  # ada.lovelace, ada_lovelace, alovelace
    if unique:
        number = rng.permutation(n) + 1
    else:
        number = np.where(rng.random(n) < 0.5, rng.integers(1, 100, n), 0)
    domain = rng.integers(0, len(_EMAIL_DOMAINS), n)
    rows = zip(_letters(np.asarray(first)).tolist(), _letters(np.asarray(last)).tolist(),
               style.tolist(), number.tolist(), domain.tolist(), strict=True)
    # one f-string per row makes each address once: four object-array joins take twice as long
    return _objects([f"{f if s < 2 else f[0]}{_SEPARATORS[s]}{last_}{k or ''}@{_EMAIL_DOMAINS[d]}"
                     for f, last_, s, k, d in rows])


# What a column name suggests: the first pattern that ends the snake_cased name wins
# (after the start or an underscore), so "billing_city" is a city and "city_id" is not.
_COLUMN_MEANINGS: list[tuple[str, str | None]] = [
    (r"mac(_address)?|.*_id|id", None),  # not text we make up
    (r"e_?mail(_address|_addr)?", "email"),
    (r"(first|given|fore)_?name|fname", "first_name"),
    (r"(last|family|sur)_?name|lname", "last_name"),
    (r"(full|display|contact|customer|person|author)_?name", "full_name"),
    (r"user_?name|login_?name|nick_?name|handle", "username"),
    (r"(tele)?phone(_?number|_no)?|mobile(_?number|_phone)?|cell(_?phone)?|fax", "phone"),
    (r"zip(_?code)?|postal_?code|post_?code", "postal_code"),
    (r"ip(v4)?(_?addr(ess)?)?", "ip"),
    (r"ipv6(_?addr(ess)?)?", "ipv6"),
    (r"street(_?address)?|address(_?line)?(_?[12])?", "street"),
    (r"city|town", "city"),
    (r"state|province", "state"),
    (r"country_?code|country_iso", "country_code"),
    (r"country", "country"),
    (r"company(_?name)?|employer|organi[sz]ation(_?name)?", "company"),
    (r"url|web_?site|home_?page|link", "url"),
    (r"domain(_?name)?|host_?name", "domain"),
    (r"job(_?title)?|occupation|profession", "job"),
    (r"title|headline|subject", "title"),
    (r"description|desc", "description"),
    (r"bio(graphy)?|about|body|content|text", "paragraph"),
    (r"notes?|summary|comments?|caption|sentence", "sentence"),
    (r"slug", "slug"),
    (r"colou?r", "color"),
    (r"(file_?)?path", "file_path"),
    (r"currency(_?code)?", "currency_code"),
    (r"iban", "iban"),
    (r"isbn(_?1[03])?", "isbn"),
    (r"lang(uage)?", "language"),
    (r"user_?agent", "user_agent"),
    (r"mime_?type|content_type", "mime_type"),
    (r"word|keyword|tag", "word"),
]
_COLUMN_PATTERNS = [(re.compile(rf"(?:^|_)(?:{p})$"), m) for p, m in _COLUMN_MEANINGS]


def meaning_for(column_name: str) -> str | None:
    """The meaning a column name suggests (``user_email`` -> ``"email"``), or None.

    The name is snake_cased first (``firstName`` -> ``first_name``); see _COLUMN_MEANINGS.
    """
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", column_name).lower()
    name = re.sub(r"[^a-z0-9]+", "_", name).strip("_")
    for pattern, meaning in _COLUMN_PATTERNS:
        if pattern.search(name):
            return meaning
    return None


# -- shapes the schema inference needs ----------------------------------------------


def hierarchy(rng: Rng, ids: np.ndarray, *, nullable: bool = True, roots: float = 0.1,
              max_depth: int = 4) -> np.ndarray:
    """A parent for each of *ids* (a self-reference such as ``employee.manager_id``):
    the first ~*roots* of the rows are roots (NULL, or their own id when the column is
    NOT NULL), every other row reports to an earlier row less than *max_depth* levels
    deep, so the tree has no cycles and a bounded depth."""
    n = len(ids)
    out = np.empty(n, dtype=object)
    if n == 0:
        return out
    n_roots = max(1, round(n * roots))
    depth = np.zeros(n, dtype=np.int64)
    parent = np.full(n, -1, dtype=np.int64)
    draws = rng.random(n)
    for i in range(n_roots, n):
        # an earlier row that is not yet at the deepest level
        j = int(draws[i] * i)
        while depth[j] >= max_depth - 1:
            j = parent[j]
        parent[i], depth[i] = j, depth[j] + 1
    for i in range(n):
        p = parent[i]
        out[i] = ids[p].item() if p >= 0 else (None if nullable else ids[i].item())
    return out


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


def byte_strings(rng: Rng, n: int, *, max_length: int = 32) -> np.ndarray:
    """Random ``bytes`` values of 1..*max_length* bytes (bytea / BLOB columns)."""
    sizes = rng.integers(1, max_length + 1, size=n)
    raw = rng.integers(0, 256, size=int(sizes.sum()), dtype=np.uint8).tobytes()
    out = np.empty(n, dtype=object)
    pos = 0
    for i, size in enumerate(sizes.tolist()):
        out[i] = raw[pos:pos + size]
        pos += size
    return out


def numbered_within(keys: np.ndarray) -> np.ndarray:
    """1, 2, 3, ... counting each key's rows in order (``edition_no`` within a book,
    ``line_no`` within an order): unique together with the key by construction."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    _, inverse = np.unique(np.asarray(keys), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    sorted_groups = inverse[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1]
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    out = np.empty(n, dtype=np.int64)
    out[order] = rank + 1
    return out


def drop_duplicates(columns: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """*columns* without the rows whose *keys* repeat an earlier row's (a composite
    unique that no generator guarantees by construction); NULLs never collide."""
    values = [np.asarray(columns[k]).tolist() for k in keys]
    n = len(values[0]) if values else 0
    keep = np.ones(n, dtype=bool)
    seen: set[tuple[Any, ...]] = set()
    for i, row in enumerate(zip(*values, strict=True)):
        if any(v is None for v in row):
            continue
        if row in seen:
            keep[i] = False
        else:
            seen.add(row)
    if keep.all():
        return columns
    return {k: v[keep] if isinstance(v, np.ndarray) else [x for x, m in zip(v, keep,
                                                                          strict=True) if m]
            for k, v in columns.items()}


def fit(n: int, most: int, why: str, *, asked: int = 0) -> int:
    """*n* rows, or at most *most* when a constraint (*why*) allows no more: a row
    count derived from ``rows`` shrinks to fit, a count the user *asked* for is refused."""
    if n <= most:
        return n
    if asked:
        raise GenerationError(f"cannot seed {asked} rows: {why}, so at most {most} rows are "
                              f"possible; ask for {most} or fewer", most=most)
    return most
