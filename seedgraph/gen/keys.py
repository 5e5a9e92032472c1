"""Keys between tables and within them: fan-out, link pairs, trees, per-key numbering.

Foreign-key columns drawn from parent keys (:func:`foreign_keys`,
:func:`children_per_parent`), the distinct pairs of a link table, a self-reference
that forms a bounded tree (:func:`hierarchy`), a counter within each key
(:func:`numbered_within`), and :func:`drop_duplicates` for a composite unique that no
generator guarantees by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seedgraph.errors import UsageError, did_you_mean
from seedgraph.gen._arrays import Rng, _distinct
from seedgraph.gen.errors import _too_many
from seedgraph.gen.numbers import unique_integers

__all__ = [
    "children_per_parent",
    "drop_duplicates",
    "foreign_keys",
    "hierarchy",
    "numbered_within",
    "unique_pairs",
]


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
