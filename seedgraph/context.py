"""What a task body receives: seeded randomness, time, parameters, upstream reads, a writer.

Everything random in a task derives from ``(seed, table)`` and never from
execution order, so a task produces the same rows whether the graph runs with
concurrency 1 or 8, fully, resumed, or partially rerun.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from seedgraph.backends.url import quote
from seedgraph.datafile import Records, read_records, resolve_refs
from seedgraph.errors import DataFileError, UsageError, did_you_mean
from seedgraph.gen.values import uuid4_texts
from seedgraph.load import CHUNK_BYTES, WriteBuffer, Writer

if TYPE_CHECKING:
    from faker import Faker

    from seedgraph.columns import TableSpec

__all__ = ["CHUNK_BYTES", "Reader", "Records", "TaskContext", "VerifyContext", "Writer",
           "derive_seed"]


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
    dialect:  the database's dialect name, as its backend gives it (seedgraph.backends)
    append:   True when the run appends (``seedgraph run --append``) instead of rebuilding
    partition, partitions: in a partitioned task, this run's partition (a number from 0,
              or the parent's value) and how many there are; None otherwise
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
        data: str | None = None,
        key: Sequence[str] = (),
        fields: Sequence[str] = (),
        partition: Any = None,
        partitions: int | None = None,
    ) -> None:
        self.table = table
        self.seed = seed
        self.as_of = as_of
        self.params: Mapping[str, Any] = _Params(table, params)
        self.dialect = dialect
        self.append = append
        # a partition's randomness is its own: (seed, table, partition), whoever runs it
        self.partition = partition
        self.partitions = partitions
        self._stream: tuple[str | int, ...] = (table,) if partition is None else (
            table, "partition", str(partition))
        self.rng = np.random.default_rng(derive_seed(seed, *self._stream))
        self._locale = locale
        self._faker: Faker | None = None
        self._upstream = frozenset(upstream)
        self._reader = reader
        self._spec = spec
        self._buffer = WriteBuffer(writer, chunk_rows)
        self._data = data
        self._key = tuple(key)
        self._fields = tuple(fields)

    # -- randomness -------------------------------------------------------

    @property
    def faker(self) -> Faker:
        """A Faker seeded from (seed, table); build pools with it, pick with numpy."""
        if self._faker is None:
            from faker import Faker  # imported on first use: ~60 ms most runs do not need

            fk = Faker(self._locale)
            fk.seed_instance(derive_seed(self.seed, *self._stream, "faker"))
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
        rng = np.random.default_rng(derive_seed(self.seed, *self._stream, "uuid", *key))
        return uuid4_texts(rng.integers(0, 256, size=(n, 16), dtype=np.uint8))

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

    # -- rows from a data file ---------------------------------------------

    def records(self, groups: Sequence[str] | None = None) -> Records:
        """The rows of this task's data file (``@task(data=...)``), checked against the
        table's columns and coerced to their kinds. With *groups* (a list of names; an
        empty list takes no rows), only the rows of those groups: a table's rows may be
        grouped by name in the file."""
        if self._data is None:
            raise UsageError(f"task '{self.table}' read records but declared no data file; "
                             f"add @task('{self.table}', data='rows.yaml')")
        recs = read_records(Path(self._data), self._spec, key=self._key, fields=self._fields,
                            foreign_keys=self._spec.foreign_keys)
        if groups is None:
            return recs
        if isinstance(groups, str):
            groups = [groups]
        known = list(dict.fromkeys(r.group for r in recs if r.group is not None))
        for g in groups:
            if g not in known:
                raise DataFileError(
                    f"{recs.path}: table '{self.table}' has no group '{g}'."
                    f"{did_you_mean(g, known)} Groups: {', '.join(known) or 'none'}")
        return Records(recs.path, self.table, [r for r in recs if r.group in groups])

    async def write_records(self, records: Records) -> None:
        """Write *records*: foreign keys given by natural key are looked up in their
        parent tables first (a name that matches no row is an error naming the file
        and line); the file's extra fields are left out."""
        await self.resolve(records)
        extra = set(self._fields)
        run: list[dict[str, Any]] = []
        for rec in records:
            row = {k: v for k, v in rec.values.items() if k not in extra}
            if run and list(row) != list(run[0]):
                await self._write_dicts(run)
                run = []
            run.append(row)
        if run:
            await self._write_dicts(run)

    async def resolve(self, records: Records) -> None:
        """Look up the foreign keys *records* give by natural key (``write_records`` does
        it too; call it first when the task needs the parents' keys itself)."""
        await resolve_refs(records, self._spec, self._lookup)

    async def _write_dicts(self, rows: list[dict[str, Any]]) -> None:
        cols: dict[str, Any] = {}
        for name in rows[0]:
            arr = np.empty(len(rows), dtype=object)
            arr[:] = [r[name] for r in rows]
            cols[name] = arr
        await self.write(cols)

    async def _lookup(self, parent: str, column: str,
                      match: Sequence[str]) -> list[tuple[Any, ...]]:
        self._check_readable(parent)
        names = ", ".join(quote(c) for c in (column, *match))
        return await self._reader.query(f"SELECT {names} FROM {quote(parent)}")

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
        await self._buffer.add(columns, n)

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
        await self._buffer.flush()

    @property
    def rows_written(self) -> int:
        """Rows handed to the writer so far."""
        return self._buffer.rows_written


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
