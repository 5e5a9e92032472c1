"""Foreign keys that close a cycle between tables: seeded together, filled in after.

When tables reference each other (``store.manager_id → staff``, ``staff.store_id →
store``), no order loads one before the other. The tables of such a cycle form a
*unit*: their tasks run one after another in **one** transaction, parents first along
the graph without the cycle's closing keys. The task of a table holding a closing key
writes a placeholder (NULL, or a distinct negative number when the column is NOT
NULL); once every table of the unit is loaded, :func:`fill_in` replaces the
placeholders with keys of rows that now exist, and the foreign keys are checked before
the unit commits. A crash anywhere leaves every table of the unit as it was.

Keys are drawn deterministically from (seed, table, column). Where the parent refers
back to the child (a 2-cycle: a store's manager is on that store's staff), a row gets
a parent that refers to it when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seedgraph.backends import Tx, quote
from seedgraph.canonical import normalize
from seedgraph.columns import TableSpec
from seedgraph.context import derive_seed
from seedgraph.errors import DatabaseError

__all__ = ["CycleKey", "fill_in"]


@dataclass(frozen=True, slots=True)
class CycleKey:
    """A foreign key written as a placeholder first and filled in once its parent is
    loaded: ``child.column → parent.parent_column`` (single-column keys)."""

    child: str
    column: str
    parent: str
    parent_column: str
    unique: bool = False  # no two rows may get the same parent
    back: str | None = None  # the parent's column referring to the child's key, if any


async def fill_in(tx: Tx, key: CycleKey, child: TableSpec, seed: int) -> int:
    """Give every row of *key.child* a parent key; returns the rows filled."""
    if len(child.primary_key) != 1:
        raise DatabaseError(f"table '{key.child}' closes a cycle but has no single-column "
                            "primary key to fill its rows in by")
    pk = child.primary_key[0]
    rows = await tx.fetch(f"SELECT {quote(pk)} FROM {quote(key.child)} ORDER BY 1")
    ids = [r[0] for r in rows]
    if key.back is not None:
        parents = await tx.fetch(
            f"SELECT {quote(key.parent_column)}, {quote(key.back)} FROM {quote(key.parent)} "
            "ORDER BY 1")
    else:
        parents = [(r[0], None) for r in await tx.fetch(
            f"SELECT {quote(key.parent_column)} FROM {quote(key.parent)} ORDER BY 1")]
    chosen = choose(ids, parents, unique=key.unique,
                    rng=np.random.default_rng(derive_seed(seed, key.child, "cycle", key.column)))
    if chosen is None:
        raise DatabaseError(
            f"{key.child}.{key.column} must name a different {key.parent} row for each of "
            f"its {len(ids)} rows, but {key.parent} has {len(parents)}; seed more "
            f"{key.parent} rows (--set {key.parent}.rows=N) or fewer {key.child} rows")
    if not ids:
        return 0
    cols = [child.by_name[pk], child.by_name[key.column]]
    values = [normalize(np.array(ids, dtype=object), cols[0], len(ids)),
              normalize(np.array(chosen, dtype=object), cols[1], len(ids))]
    _, updated = await tx.merge(child, cols, values, len(ids), [pk], update=True)
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
