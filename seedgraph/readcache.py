"""Columns of finished tables kept for the rest of a run, so the tasks downstream of a
big table decode each of its columns once instead of once per task.

A task reads only upstream tables, and an upstream table is complete (committed, and
never written again in the run) before any task downstream of it starts. So what one
task read from it is what every later reader would read: the cache hands each reader
its own copy of the arrays. It keeps only columns whose values are immutable (numbers,
times, text, bytes), only of tables with a primary key (whose row order does not depend
on the columns asked for), and forgets a table once every task downstream of it has
ended; a byte budget bounds it in between. A task's reads of its own table, and the
reads inside a cycle's transaction, go straight to the database.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import anyio
import numpy as np

from seedgraph.backends import Database
from seedgraph.columns import ColumnKind, TableSpec

__all__ = ["BUDGET", "ReadCache"]

BUDGET = 128 << 20  # bytes of cached columns, at most

# kinds read back as arrays of mutable objects (lists, dicts): a reader could change them
_MUTABLE = frozenset({ColumnKind.JSON, ColumnKind.JSONB, ColumnKind.FLOAT4_ARRAY,
                      ColumnKind.FLOAT8_ARRAY, ColumnKind.INT4_ARRAY, ColumnKind.INT8_ARRAY,
                      ColumnKind.TEXT_ARRAY, ColumnKind.OTHER})


def _size(arr: np.ndarray) -> int:
    """The bytes *arr* holds, counting a sample of an object array's values."""
    if arr.dtype != object or len(arr) == 0:
        return int(arr.nbytes)
    step = max(1, len(arr) // 64)
    sample = arr[::step]
    return int(arr.nbytes + len(arr) * sum(sys.getsizeof(v) for v in sample) / len(sample))


class ReadCache:
    """The columns of a run's finished tables; :meth:`reader` gives a task its view."""

    def __init__(self, readers: Mapping[str, Iterable[str]] | None,
                 budget: int = BUDGET) -> None:
        # per table, the tasks still to end that may read it (None: not known, as in a
        # worker process, which keeps what it read within the budget)
        self._pending = None if readers is None else {t: set(r) for t, r in readers.items()}
        self._budget = budget
        self._columns: OrderedDict[tuple[str, str], tuple[np.ndarray, int]] = OrderedDict()
        self._bytes = 0
        # two tasks starting together wait for one read of a table rather than make two
        self._locks: dict[str, anyio.Lock] = {}

    def reader(self, db: Database, own: str) -> _TaskReader:
        """The reader on *db* for the task filling *own* (whose own table is never cached)."""
        return _TaskReader(self, db, own)

    def ended(self, table: str) -> None:
        """*table*'s task has ended (done, failed or skipped): forget what only it read."""
        for t, waiting in (self._pending or {}).items():
            if table in waiting:
                waiting.discard(table)
                if not waiting:
                    self._forget(t)

    @property
    def bytes(self) -> int:
        return self._bytes

    def _forget(self, table: str) -> None:
        for key in [k for k in self._columns if k[0] == table]:
            self._bytes -= self._columns.pop(key)[1]

    async def read(self, db: Database, table: str, columns: Sequence[str] | None
                   ) -> dict[str, np.ndarray]:
        spec = await db.spec(table)
        wanted = self._pending is None or self._pending.get(table)
        if not (spec.primary_key and wanted):
            return await db.read_columns(table, columns)
        async with self._locks.setdefault(table, anyio.Lock()):
            return await self._read(db, spec, columns)

    async def _read(self, db: Database, spec: TableSpec, columns: Sequence[str] | None
                    ) -> dict[str, np.ndarray]:
        table = spec.name
        cols = list(columns) if columns is not None else [c.name for c in spec.columns]
        keep = {c for c in cols if c in spec.by_name
                and spec.by_name[c].kind not in _MUTABLE}
        have = {c: self._columns[(table, c)][0] for c in cols if (table, c) in self._columns}
        for c in have:  # used now: the last to make room for others
            self._columns.move_to_end((table, c))
        missing = [c for c in cols if c not in have]
        read = await db.read_columns(table, missing) if missing else {}
        for c, arr in read.items():
            if c in keep:
                self._put((table, c), arr)  # may evict what *have* holds: it keeps its own
        return {c: have[c].copy() if c in have else read[c] for c in cols}

    def _put(self, key: tuple[str, str], arr: np.ndarray) -> None:
        size = _size(arr)
        if size > self._budget:
            return
        self._columns[key] = (arr.copy(), size)
        self._bytes += size
        while self._bytes > self._budget:
            self._bytes -= self._columns.popitem(last=False)[1][1]


class _TaskReader:
    """One task's reader: upstream columns through the cache, the rest from the database."""

    def __init__(self, cache: ReadCache, db: Database, own: str) -> None:
        self._cache = cache
        self._db = db
        self._own = own

    async def read_columns(self, table: str, columns: Sequence[str] | None
                           ) -> dict[str, np.ndarray]:
        if table == self._own:
            return await self._db.read_columns(table, columns)
        return await self._cache.read(self._db, table, columns)

    async def count_rows(self, table: str) -> int:
        return await self._db.count_rows(table)

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self._db.query(sql, params)
