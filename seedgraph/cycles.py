"""Foreign keys that close a cycle between tables: seeded together, filled in after.

When tables reference each other (``store.manager_id → staff``, ``staff.store_id →
store``), no order loads one before the other. The tables of such a cycle form a
*unit*: their tasks run one after another in **one** transaction, parents first along
the graph without the cycle's closing keys. The task of a table holding a closing key
writes a placeholder there: NULL when the column is nullable, else a value no real key
takes (distinct negative numbers for an integer, ``~seedgraph~1``, ``~seedgraph~2``, ...
for text, ``00000000-0000-0000-0000-000000000001``, ... for a uuid). Once every table
of the unit is loaded, :func:`fill_in` replaces the placeholders with keys of rows that
now exist (whole tuples for a composite key), and the foreign keys are checked before
the unit commits. A crash anywhere leaves every table of the unit as it was.

Keys are drawn deterministically from (seed, table, column). Where the parent refers
back to the child (a 2-cycle: a store's manager is on that store's staff), a row gets
a parent that refers to it when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seedgraph.backends import Tx, quote
from seedgraph.canonical import normalize
from seedgraph.columns import TableSpec
from seedgraph.context import derive_seed
from seedgraph.errors import DatabaseError
from seedgraph.gen import GenerationError

__all__ = ["PLACEHOLDER_TEXT", "PLACEHOLDER_UUID", "CycleKey", "fill_in", "placeholder_texts",
           "placeholder_uuids"]

PLACEHOLDER_TEXT = "~seedgraph~"  # text placeholders start with "~", which no generator writes
PLACEHOLDER_UUID = "00000000-0000-0000-0000-"  # version 0: no UUID generator makes these
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"  # lower case: distinct under NOCASE too


@dataclass(frozen=True, slots=True)
class CycleKey:
    """A foreign key written as a placeholder first and filled in once its parent is
    loaded: ``child.column → parent.parent_column``; a composite key lists its other
    (column, parent column) pairs in *more*, and is filled in with whole parent keys."""

    child: str
    column: str
    parent: str
    parent_column: str
    unique: bool = False  # no two rows may get the same parent
    back: str | None = None  # the parent's column referring to the child's key, if any
    more: tuple[tuple[str, str], ...] = ()  # a composite key's other columns

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, *(c for c, _ in self.more))

    @property
    def parent_columns(self) -> tuple[str, ...]:
        return (self.parent_column, *(p for _, p in self.more))

    def __repr__(self) -> str:  # what `seedgraph init` writes: *more* only when used
        more = f", more={self.more!r}" if self.more else ""
        return (f"CycleKey(child={self.child!r}, column={self.column!r}, parent="
                f"{self.parent!r}, parent_column={self.parent_column!r}, unique="
                f"{self.unique!r}, back={self.back!r}{more})")


def placeholder_texts(n: int, max_len: int | None = None, min_len: int = 0, *,
                      distinct: bool = True) -> list[str]:
    """*n* text placeholders for a NOT NULL text key closing a cycle: ``~seedgraph~1``,
    ``~seedgraph~2``, ... or, when the column is too short for those, ``~1``, ``~2``,
    ... ``~z``, ``~10`` (base 36), padded with zeros to *min_len*. Each starts with "~",
    which no real key seedgraph generates does, so none is taken for a parent's key;
    without *distinct* they repeat when the column is too short to tell them apart."""
    long = len(PLACEHOLDER_TEXT) + len(str(n))
    if max_len is None or max(long, min_len) <= max_len:
        width = max(0, min_len - len(PLACEHOLDER_TEXT))
        return [f"{PLACEHOLDER_TEXT}{i:0{width}d}" for i in range(1, n + 1)]
    room = max_len - 1
    capacity = len(_DIGITS) ** room - 1 if room > 0 else 0
    if capacity < 1 or (distinct and n > capacity):
        raise GenerationError(
            f"{n} distinct placeholders do not fit in {max_len} characters (at most "
            f"{max(capacity, 0)}); seed fewer rows (--set rows=N)")
    width = max(1, min_len - 1)
    out = []
    for i in range(n):
        v, digits = i % capacity + 1, ""
        while v:
            v, d = divmod(v, len(_DIGITS))
            digits = _DIGITS[d] + digits
        out.append("~" + digits.rjust(width, "0"))
    return out


def placeholder_uuids(n: int) -> list[str]:
    """*n* uuid placeholders, ``00000000-0000-0000-0000-000000000001`` and up: version
    0, a range no generator (seedgraph's, ``gen_random_uuid()``) draws from."""
    return [f"{PLACEHOLDER_UUID}{i:012x}" for i in range(1, n + 1)]


def _sorted(values: list[Any]) -> list[Any]:
    """*values* in a fixed order: Python's (not the database collation's) when they
    compare, else by their text."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=repr)


def _row_key(key: CycleKey, child: TableSpec) -> tuple[str, ...]:
    pk = child.primary_key
    if not pk or set(pk) & set(key.columns):
        raise DatabaseError(f"table '{key.child}' closes a cycle but has no primary key "
                            f"apart from {', '.join(key.columns)} to fill its rows in by")
    return pk


def _split(values: Sequence[Any], width: int) -> list[list[Any]]:
    """Values (tuples of *width* when width > 1) as one list per column."""
    if width == 1:
        return [list(values)]
    return [[v[j] for v in values] for j in range(width)]


async def fill_in(tx: Tx, key: CycleKey, child: TableSpec, seed: int) -> int:
    """Give every row of *key.child* a parent key (a whole tuple for a composite key);
    returns the rows filled. Rows are found by the child's primary key."""
    pk = _row_key(key, child)
    one = len(pk) == 1
    rows = await tx.fetch(f"SELECT {', '.join(quote(c) for c in pk)} FROM {quote(key.child)}")
    ids = _sorted([r[0] if one else tuple(r) for r in rows])
    width = len(key.parent_columns)
    wanted = [*key.parent_columns, *([key.back] if key.back is not None else [])]
    found = await tx.fetch(f"SELECT {', '.join(quote(c) for c in wanted)} "
                           f"FROM {quote(key.parent)}")
    parents = _sorted([(r[0] if width == 1 else tuple(r[:width]),
                        r[width] if key.back is not None else None)
                       for r in found if all(v is not None for v in tuple(r)[:width])])
    chosen = choose(ids, parents, unique=key.unique,
                    rng=np.random.default_rng(derive_seed(seed, key.child, "cycle", key.column)))
    if chosen is None:
        what = key.column if width == 1 else f"({', '.join(key.columns)})"
        raise DatabaseError(
            f"{key.child}.{what} must name a different {key.parent} row for each of "
            f"its {len(ids)} rows, but {key.parent} has {len(parents)}; seed more "
            f"{key.parent} rows (--set {key.parent}.rows=N) or fewer {key.child} rows")
    if not ids:
        return 0
    n = len(ids)
    cols = [child.by_name[c] for c in (*pk, *key.columns)]
    parts = [*_split(ids, len(pk)), *_split(chosen, width)]
    values = [normalize(np.array(v, dtype=object), c, n) for v, c in zip(parts, cols, strict=True)]
    _, updated = await tx.merge(child, cols, values, n, list(pk), update=True)
    return updated


def choose(ids: Sequence[object], parents: Sequence[tuple[object, object]], *, unique: bool,
           rng: np.random.Generator) -> list[object] | None:
    """A parent key for each child id: one referring back to the child when there is
    one (and, with *unique*, not taken yet), else a random one; None when *unique*
    asks for more parents than there are."""
    if not parents:
        return None if ids else []
    if unique and len(ids) > len(parents):
        return None
    keys = [p for p, _ in parents]
    by_back: dict[object, list[object]] = {}
    for p, back in parents:
        if back is not None:
            by_back.setdefault(back, []).append(p)
    order = list(rng.permutation(len(keys)))
    taken: set[object] = set()
    out: list[object] = []
    spare = iter([keys[int(i)] for i in order])
    for child in ids:
        pick = next((p for p in by_back.get(child, []) if not (unique and p in taken)), None)
        if pick is None:
            if unique:
                pick = next(p for p in spare if p not in taken)
            else:
                pick = keys[int(rng.integers(0, len(keys)))]
        taken.add(pick)
        out.append(pick)
    return out
