"""SQL the backends share: the statements of an upsert by natural key, and query
parameters as the drivers take them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np

from seedgraph.backends.url import quote
from seedgraph.columns import ColumnKind, ColumnSpec

__all__ = ["MERGE_ORDER", "merge_statements", "plain_param"]


MERGE_ORDER = "_seedgraph_ord"  # the staged row's position: new rows keep the chunk's order


def merge_statements(table: str, stage: str, cols: Sequence[ColumnSpec], key: Sequence[str],
                     *, differs: str, as_text: frozenset[ColumnKind] = frozenset()
                     ) -> tuple[str | None, str]:
    """The UPDATE (None when every column is in the key) and the INSERT that merge a
    staged chunk into *table* by *key*. *differs* is the database's NULL-safe "not
    equal" (``IS DISTINCT FROM``, ``IS NOT``); kinds in *as_text* compare as text (a
    PostgreSQL ``json`` has no equality)."""
    def side(alias: str, c: ColumnSpec) -> str:
        ref = f"{alias}.{quote(c.name)}"
        return f"CAST({ref} AS TEXT)" if c.kind in as_text else ref

    match = " AND ".join(f"_t.{quote(k)} = _s.{quote(k)}" for k in key)
    names = ", ".join(quote(c.name) for c in cols)
    staged = ", ".join(f"_s.{quote(c.name)}" for c in cols)
    insert = (f"INSERT INTO {quote(table)} ({names}) SELECT {staged} FROM {quote(stage)} AS _s "
              f"WHERE NOT EXISTS (SELECT 1 FROM {quote(table)} AS _t WHERE {match}) "
              f"ORDER BY _s.{MERGE_ORDER}")
    rest = [c for c in cols if c.name not in key]
    if not rest:
        return None, insert
    sets = ", ".join(f"{quote(c.name)} = _s.{quote(c.name)}" for c in rest)
    changed = " OR ".join(f"{side('_t', c)} {differs} {side('_s', c)}" for c in rest)
    update = (f"UPDATE {quote(table)} AS _t SET {sets} FROM {quote(stage)} AS _s "
              f"WHERE {match} AND ({changed})")
    return update, insert


def plain_param(value: Any) -> Any:
    """A query parameter as the drivers take it: numpy scalars become Python values
    (a ``datetime64`` of whole days a ``date``, a finer one a naive ``datetime``)."""
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        if np.datetime_data(value.dtype)[0] in ("Y", "M", "W", "D"):
            return dt.date.fromisoformat(str(value.astype("datetime64[D]")))
        return value.astype("datetime64[us]").item()
    if isinstance(value, np.generic):
        return value.item()
    return value
