"""The bulk writer behind ``ctx.write``: normalise a batch, then load it inside the task's
transaction.

A rebuild streams the table through a consumer task (in the task group the
runner opens around the transaction): on PostgreSQL **one** binary COPY for the
whole table, on SQLite ``executemany`` per chunk. The consumer loads chunk *k*
while the task body generates chunk *k+1*, and chunks are encoded in a worker
thread, so generation, encoding and the database's ingestion overlap. At most
one encoded chunk waits in the stream, which bounds memory. Appends
(``ON CONFLICT DO NOTHING``) go chunk by chunk through :meth:`Tx.load`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import anyio
import numpy as np
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectSendStream

from seedgraph.backends import Tx
from seedgraph.canonical import normalize
from seedgraph.columns import ColumnKind, ColumnSpec, TableSpec
from seedgraph.errors import UsageError

__all__ = ["BULK_ROWS", "CHUNK_BYTES", "TableWriter", "WriteBuffer", "Writer"]

CHUNK_BYTES = 4 * 2**20  # a chunk also stops at about this many bytes of column data
_SAMPLE = 8  # values of an object column whose size is measured to estimate the rest

# A first chunk this big (or a whole chunk_rows chunk, if that is smaller) loads as a bulk
# load: indexes and foreign keys are rebuilt once at the end. Checking keys row by row
# costs about 10 us per row and key on PostgreSQL, so even 5,000 rows gain.
BULK_ROWS = 5_000


class Writer(Protocol):
    """Appends a batch of rows (already normalised column-wise) to the task's table."""

    async def write_batch(self, columns: Mapping[str, Any], n: int, *,
                          full: bool = False) -> None: ...


class WriteBuffer:
    """What ``ctx.write`` fills: batches merged into chunks of at most *chunk_rows* rows
    (fewer when rows are wide: a chunk stops at about ``CHUNK_BYTES`` of column data),
    each handed to the *writer*. Memory stays bounded by the chunk, not the table."""

    def __init__(self, writer: Writer, chunk_rows: int) -> None:
        self._writer = writer
        self._chunk_rows = chunk_rows
        self._pending: dict[str, list[Any]] | None = None
        self._pending_n = 0
        self._pending_bytes = 0
        self.rows_written = 0

    async def add(self, columns: Mapping[str, Any], n: int) -> None:
        """Buffer a batch of *n* rows; a batch with other columns flushes the last."""
        if self._pending is not None and list(self._pending) != list(columns):
            await self.flush()
        if self._pending is None:
            self._pending = {name: [] for name in columns}
        for name, values in columns.items():
            self._pending[name].append(values)
        self._pending_n += n
        self._pending_bytes += n * _row_bytes(columns)
        if self._pending_n >= self._chunk_rows or self._pending_bytes >= CHUNK_BYTES:
            await self.flush()

    async def flush(self) -> None:
        """Hand everything buffered to the writer, in chunks."""
        if self._pending is None or self._pending_n == 0:
            self._pending = None
            self._pending_n = 0
            return
        pending, n, nbytes = self._pending, self._pending_n, self._pending_bytes
        self._pending, self._pending_n, self._pending_bytes = None, 0, 0
        merged = {name: _concat(parts) for name, parts in pending.items()}
        step = max(1, min(self._chunk_rows, CHUNK_BYTES * n // max(nbytes, 1)))
        start = 0
        while start < n:
            stop = min(n, start + step)
            chunk = {name: values[start:stop] for name, values in merged.items()}
            # full: as big as a chunk gets (rows or bytes), so the table is a big one
            await self._writer.write_batch(chunk, stop - start, full=stop - start == step)
            self.rows_written += stop - start
            start = stop


def _row_bytes(columns: Mapping[str, Any]) -> int:
    """About how many bytes one row of these columns takes in memory: wide rows (an
    embedding per row) get fewer rows per chunk, so a chunk's memory stays bounded."""
    total = 0
    for values in columns.values():
        if isinstance(values, np.ndarray) and values.dtype != object and len(values):
            total += values.nbytes // len(values)
        else:  # strings, lists, JSON: Python objects, measured on the first few
            sample = [values[i] for i in range(min(len(values), _SAMPLE))]
            total += sum(_object_bytes(v) for v in sample) // max(len(sample), 1)
    return max(total, 1)


def _object_bytes(value: Any) -> int:
    """Roughly what a Python value costs in memory, counting nested lists and dicts."""
    if isinstance(value, list | tuple):
        return 56 + sum(8 + _object_bytes(v) for v in value)
    if isinstance(value, dict):
        return 232 + sum(_object_bytes(k) + _object_bytes(v) for k, v in value.items())
    if isinstance(value, str | bytes):
        return 49 + len(value)
    if isinstance(value, np.ndarray):
        return 112 + value.nbytes
    return 32


def _concat(parts: list[Any]) -> Any:
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(p, np.ndarray) for p in parts):
        if any(p.dtype == object for p in parts):
            out = np.empty(sum(len(p) for p in parts), dtype=object)
            i = 0
            for p in parts:
                out[i : i + len(p)] = p
                i += len(p)
            return out
        if all(p.ndim == parts[0].ndim for p in parts):
            return np.concatenate(parts)
    merged: list[Any] = []
    for p in parts:
        merged.extend(list(p))
    return merged


def _as_text(col: ColumnSpec) -> ColumnSpec:
    """*col* as the values are normalised: a type the encoder does not know as text."""
    return dataclasses.replace(col, kind=ColumnKind.TEXT) if col.kind is ColumnKind.OTHER \
        else col


def _stable_example(kind: ColumnKind) -> str:
    """What to write instead of a volatile default, for the error message."""
    if kind in (ColumnKind.TIMESTAMP, ColumnKind.TIMESTAMPTZ, ColumnKind.DATE):
        return "np.full(n, np.datetime64(ctx.as_of.replace(tzinfo=None), 'us')) (from ctx.as_of)"
    if kind is ColumnKind.UUID:
        return "ctx.uuids(n)"
    return "values drawn from ctx.rng"


class TableWriter:
    """Writes chunks of one table through one transaction and counts the rows inserted."""

    def __init__(self, tx: Tx, spec: TableSpec, *, append: bool,
                 on_rows: Callable[[int], None] | None = None,
                 task_group: TaskGroup | None = None, bulk_rows: int = BULK_ROWS,
                 key: tuple[str, ...] = (), update: bool = False) -> None:
        self.tx = tx
        self.spec = spec
        self.append = append
        self.key = key  # upsert by this natural key instead of loading into an empty table
        self.update = update  # --force: existing rows take the written values
        self.rows = 0
        self.written: set[str] = set()  # the columns written so far
        self.inserted = 0
        self.updated = 0
        self._on_rows = on_rows
        self._checked: tuple[str, ...] | None = None
        self._tg = task_group
        self._stream: MemoryObjectSendStream[Any] | None = None
        self._stream_cols: tuple[str, ...] | None = None
        self._stream_done: anyio.Event | None = None
        self._bulk_rows = bulk_rows
        self._restore: list[str] = []
        self._started = False
        self._as_text = False  # a column of a type the encoder does not know was written

    def _check_columns(self, names: tuple[str, ...]) -> list[ColumnSpec]:
        cols = [self.spec.by_name[n] for n in names]
        if self._checked == names:
            return cols
        computed = [c.name for c in cols if c.computed]
        if computed:
            raise UsageError(
                f"table '{self.spec.name}': column '{computed[0]}' is generated by the "
                "database; do not write it"
            )
        other = [c for c in cols if c.kind is ColumnKind.OTHER]
        if other and self.key:
            c = other[0]
            raise UsageError(
                f"table '{self.spec.name}': column '{c.name}' has type "
                f"{c.pg_type or 'unknown'}, which an upsert by key cannot write yet; leave "
                "it out of ctx.write, or seed the table without key=")
        missing = [c.name for c in self.spec.columns
                   if c.name not in names and not c.nullable and not c.has_default
                   and not c.computed and not c.autoincrement]
        if missing:
            raise UsageError(
                f"table '{self.spec.name}': required column(s) {', '.join(missing)} not "
                "written; add them to ctx.write({...})"
            )
        volatile = [c for c in self.spec.columns
                    if c.volatile_default and not c.computed and c.name not in names]
        if volatile:
            # the database would fill in a different value on every run
            c = volatile[0]
            raise UsageError(
                f"table '{self.spec.name}': column '{c.name}' was left out, and its database "
                f"default {c.volatile_default} differs on every run, so the same seed and "
                f"as_of would not give the same rows; write it, e.g. "
                f"'{c.name}': {_stable_example(c.kind)}"
            )
        self._checked = names
        return cols

    @property
    def _streams(self) -> bool:
        return not self.append and not self.key and not self._as_text and self._tg is not None

    async def write_batch(self, columns: Mapping[str, Any], n: int, *,
                          full: bool = False) -> None:
        """Load one chunk; *full* says the task's writer had more than a chunk buffered
        (wide rows make a chunk of fewer than ``bulk_rows`` rows)."""
        names = tuple(columns)
        cols = self._check_columns(names)
        self.written.update(names)
        # a type the encoder does not know (inet, interval, ...) is written as its text,
        # which the database casts to the column's type (PostgreSQL: through a staging
        # table); such a table is loaded chunk by chunk, not streamed
        self._as_text = self._as_text or any(c.kind is ColumnKind.OTHER for c in cols)
        values = [normalize(columns[c.name], _as_text(c), n) for c in cols]
        if self.key:
            missing = [k for k in self.key if k not in names]
            if missing:
                raise UsageError(
                    f"table '{self.spec.name}' is upserted by its natural key "
                    f"{', '.join(self.key)}; write column '{missing[0]}' in every batch")
            inserted, updated = await self.tx.merge(self.spec, cols, values, n, self.key,
                                                    update=self.update)
            self.inserted += inserted
            self.updated += updated
            self.rows += n
        elif self._streams:
            await self._send(names, cols, values, big=full or n >= self._bulk_rows)
            self.rows += n
        else:
            await self.close()  # a stream opened by earlier batches ends first
            self.rows += await self.tx.load(self.spec, cols, values, n, self.append)
        if self._on_rows is not None:
            self._on_rows(self.rows)

    async def _send(self, names: tuple[str, ...], cols: list[ColumnSpec],
                    values: list[tuple[np.ndarray, np.ndarray | None]], *, big: bool) -> None:
        if self._stream is not None and self._stream_cols != names:
            await self.close()
        if self._stream is None:
            assert self._tg is not None
            if not self._started and big:
                # a big table: load without indexes, rebuild them before commit
                self._restore = await self.tx.defer_indexes(self.spec.name)
            self._started = True
            send, receive = anyio.create_memory_object_stream[Any](max_buffer_size=1)
            done = anyio.Event()
            tx = self.tx

            async def consume() -> None:
                try:
                    await tx.consume(self.spec.name, names, receive)
                finally:
                    done.set()

            self._tg.start_soon(consume)
            self._stream, self._stream_cols, self._stream_done = send, names, done
        body = await anyio.to_thread.run_sync(self.tx.encode, values, cols)
        await self._stream.send(body)

    async def close(self) -> None:
        """Finish the open COPY stream, if any, and wait until the server has it all."""
        if self._stream is not None:
            await self._stream.aclose()
            assert self._stream_done is not None
            await self._stream_done.wait()
            self._stream = None
            self._stream_cols = None
            self._stream_done = None

    async def finish(self) -> None:
        """Close the stream and rebuild any indexes dropped for the bulk load."""
        await self.close()
        for statement in self._restore:
            await self.tx.execute(statement)
        self._restore = []
