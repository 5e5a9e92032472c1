"""What a task body receives: seeded randomness, time, parameters, upstream reads, a writer.

Everything random in a task derives from ``(seed, table)`` and never from
execution order, so a task produces the same rows whether the graph runs with
concurrency 1 or 8, fully, resumed, or partially rerun.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from seedgraph.errors import UsageError, did_you_mean

if TYPE_CHECKING:
    from faker import Faker

    from seedgraph.columns import TableSpec

__all__ = ["Reader", "TaskContext", "VerifyContext", "Writer", "derive_seed"]


CHUNK_BYTES = 8 * 2**20  # a chunk also stops at about this many bytes of column data
_SAMPLE = 8  # values of an object column whose size is measured to estimate the rest


def derive_seed(seed: int, *key: str | int) -> int:
    """A stable 64-bit seed from the run seed and a key (task name, sub-stream)."""
    h = hashlib.sha256(str(seed).encode())
    for part in key:
        h.update(b"\x00" + str(part).encode())
    return int.from_bytes(h.digest()[:8], "little")


class Reader(Protocol):
    """Reads whole columns of a table as numpy arrays, ordered by primary key."""

    async def read_columns(
        self, table: str, columns: Sequence[str] | None
    ) -> dict[str, np.ndarray]: ...

    async def count_rows(self, table: str) -> int: ...

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class Writer(Protocol):
    """Appends a batch of rows (already normalised column-wise) to the task's table."""

    async def write_batch(self, columns: Mapping[str, Any], n: int, *,
                          full: bool = False) -> None: ...


class _Params(Mapping[str, Any]):
    """A read-only view of the parameters a task declared."""

    def __init__(self, table: str, values: Mapping[str, Any]) -> None:
        self._table = table
        self._values = dict(values)

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise UsageError(
                f"task '{self._table}' read parameter '{key}' but did not declare it; "
                f"add it to @task(..., params=[...]).{did_you_mean(key, self._values)}"
            ) from None

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"


class TaskContext:
    """The single argument of a task body.

    Attributes
    ----------
    table:    the table this task fills
    seed:     the run seed
    as_of:    the run's reference time (UTC, timezone-aware); derive every time from it
    params:   the parameters the task declared, resolved from defaults, profile, config, --set
    rng:      a numpy Generator seeded from (seed, table)
    faker:    a Faker seeded from (seed, table)
    dialect:  "postgresql" or "sqlite"
    append:   True when the run appends (``seedgraph run --append``) instead of rebuilding
    """

    def __init__(
        self,
        *,
        table: str,
        seed: int,
        as_of: datetime,
        params: Mapping[str, Any],
        upstream: Iterable[str],
        dialect: str,
        reader: Reader,
        writer: Writer,
        spec: TableSpec,
        chunk_rows: int = 50_000,
        append: bool = False,
        locale: str = "en_US",
    ) -> None:
        self.table = table
        self.seed = seed
        self.as_of = as_of
        self.params: Mapping[str, Any] = _Params(table, params)
        self.dialect = dialect
        self.append = append
        self.rng = np.random.default_rng(derive_seed(seed, table))
        self._locale = locale
        self._faker: Faker | None = None
        self._upstream = frozenset(upstream)
        self._reader = reader
        self._writer = writer
        self._spec = spec
        self._chunk_rows = chunk_rows
        self._pending: dict[str, list[Any]] | None = None
        self._pending_n = 0
        self._pending_bytes = 0
        self.rows_written = 0

    # -- randomness -------------------------------------------------------

    @property
    def faker(self) -> Faker:
        """A Faker seeded from (seed, table); build pools with it, pick with numpy."""
        if self._faker is None:
            from faker import Faker  # imported on first use: ~60 ms most runs do not need

            fk = Faker(self._locale)
            fk.seed_instance(derive_seed(self.seed, self.table, "faker"))
            self._faker = fk
        return self._faker

    def rng_for(self, *key: str | int) -> np.random.Generator:
        """An independent Generator for a named sub-stream.

        Two tasks that must agree on a shared random draw (e.g. a simulation
        whose results land in two tables) both call ``ctx.rng_for("name")``.
        """
        return np.random.default_rng(derive_seed(self.seed, "stream", *key))

    def uuids(self, n: int, *key: str | int) -> np.ndarray:
        """``n`` deterministic UUID4 strings drawn from (seed, table, key)."""
        rng = np.random.default_rng(derive_seed(self.seed, self.table, "uuid", *key))
        raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = str(uuid.UUID(bytes=raw[i].tobytes()))
        return out

    # -- reading upstream --------------------------------------------------

    def _check_readable(self, table: str) -> None:
        if table != self.table and table not in self._upstream:
            raise UsageError(
                f"task '{self.table}' read table '{table}' which is not in its upstream; "
                f"add it to @task('{self.table}', upstream=[..., '{table}'])"
            )

    async def read(self, table: str, columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Columns of an upstream table as numpy arrays, ordered by primary key."""
        self._check_readable(table)
        return await self._reader.read_columns(table, columns)

    async def count(self, table: str) -> int:
        """Row count of an upstream table (or of this task's own table)."""
        self._check_readable(table)
        return await self._reader.count_rows(table)

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Raw SQL for what ``read`` cannot express; read only upstream tables with it."""
        return await self._reader.query(sql, params)

    # -- writing ----------------------------------------------------------

    async def write(self, columns: Mapping[str, Any]) -> None:
        """Append a column-wise batch: ``{"id": np.arange(...), "name": names, ...}``.

        Every value is a sequence of the same length (numpy arrays are fastest).
        Columns left out take the database default. Batches are buffered and
        streamed to the database in chunks of ``chunk_rows`` rows (fewer when rows
        are wide: a chunk stops at about ``CHUNK_BYTES`` of column data).
        """
        lengths = {name: len(values) for name, values in columns.items()}
        if not lengths:
            return
        n = next(iter(lengths.values()))
        if any(v != n for v in lengths.values()):
            raise UsageError(
                f"task '{self.table}' wrote columns of different lengths: {lengths}"
            )
        unknown = [c for c in columns if c not in self._spec.by_name]
        if unknown:
            raise UsageError(
                f"task '{self.table}' wrote unknown column '{unknown[0]}'."
                f"{did_you_mean(unknown[0], self._spec.by_name)}"
            )
        if n == 0:
            return
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

    async def write_rows(self, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Append row tuples; convenient for small hand-written tables."""
        materialised = list(rows)
        if not materialised:
            return
        cols: dict[str, Any] = {}
        for i, name in enumerate(columns):
            arr = np.empty(len(materialised), dtype=object)
            arr[:] = [row[i] for row in materialised]
            cols[name] = arr
        await self.write(cols)

    async def flush(self) -> None:
        """Send buffered rows now (called automatically; tasks rarely need it)."""
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


class VerifyContext:
    """What an invariant receives: read access to every table and raw queries."""

    def __init__(self, *, reader: Reader, dialect: str, params: Mapping[str, Any],
                 as_of: datetime | None, seed: int | None) -> None:
        self._reader = reader
        self.dialect = dialect
        self.params = params
        self.as_of = as_of
        self.seed = seed

    async def read(self, table: str, columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        return await self._reader.read_columns(table, columns)

    async def count(self, table: str) -> int:
        return await self._reader.count_rows(table)

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self._reader.query(sql, params)
