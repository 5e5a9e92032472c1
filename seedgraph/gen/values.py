"""Structured and raw values: UUIDs, JSON documents, arrays, bytes, and NULLs in any column.

The array and document generators draw all their items in one flat draw and cut it
into rows, pausing the cycle collector while the many small lists and dicts are built.
:func:`with_nulls` turns a share of any column into NULLs in the form
:mod:`seedgraph.canonical` expects for its dtype (NaT, NaN or None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from seedgraph.errors import UsageError
from seedgraph.gen._arrays import Rng, _gc_paused, _objects
from seedgraph.gen.numbers import integers

__all__ = [
    "byte_strings",
    "int_arrays",
    "json_documents",
    "text_arrays",
    "uuids",
    "with_nulls",
]


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
    return uuid4_texts(raw)


def uuid4_texts(raw: np.ndarray) -> np.ndarray:
    """Random bytes, an (n, 16) uint8 array, as version-4 UUIDs in canonical text: the
    version and variant bits are set in *raw* itself."""
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return uuid_texts(raw)


def uuid_texts(raw: np.ndarray) -> np.ndarray:
    """UUIDs given as an (n, 16) array of bytes, as canonical hyphenated strings (what
    ``str(uuid.UUID(bytes=row))`` gives, without a UUID object per row)."""
    n = len(raw)
    hexed = np.frombuffer(np.ascontiguousarray(raw, dtype=np.uint8).tobytes().hex()
                          .encode("ascii"), dtype=np.uint8)
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
