"""The backend interface: a transaction (:class:`Tx`) and a connected database
(:class:`Database`), with what every backend shares: reads of whole columns, schema
creation, reflection and checks (SQLAlchemy is used for DDL and reflection only).

Each backend module subclasses both and registers its :class:`Database` subclass for
its URL dialect with :func:`register_backend`; :meth:`Database.open` picks the class
from that registry.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np
import sqlalchemy as sa
from anyio.streams.memory import MemoryObjectReceiveStream

from seedgraph.backends.kinds import kind_for, table_spec
from seedgraph.backends.sql import plain_param
from seedgraph.backends.url import DbUrl, quote
from seedgraph.canonical import decode
from seedgraph.columns import ColumnKind, ColumnSpec, TableSpec
from seedgraph.errors import DatabaseError, RunLockedError, SchemaMismatchError, UsageError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["BACKENDS", "LOCK_TIMEOUT", "READ_ROWS", "Database", "Tx", "UniqueIndex",
           "register_backend"]

LOCK_TIMEOUT = 30.0  # seconds to wait for another program's lock (SQLite), then say so

READ_ROWS = 10_000  # rows decoded at a time when reading columns


class UniqueIndex(NamedTuple):
    """A unique index the database enforces, as its catalog has it."""

    table: str
    name: str
    columns: tuple[str, ...]
    constraint: bool  # made for a UNIQUE constraint (not by CREATE UNIQUE INDEX)
    where: str | None  # a partial index's predicate (SQL text): the rows it covers


class Tx(abc.ABC):
    """One transaction on one connection: a task's rows and its checkpoint commit together."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @abc.abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the rows it changed."""

    @abc.abstractmethod
    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one query, read inside this transaction."""

    @abc.abstractmethod
    async def load(self, spec: TableSpec, cols: Sequence[ColumnSpec],
                   values: Sequence[tuple[np.ndarray, np.ndarray | None]], n: int,
                   append: bool) -> int:
        """Insert one chunk; returns rows inserted (append skips rows already present)."""

    @abc.abstractmethod
    async def merge(self, spec: TableSpec, cols: Sequence[ColumnSpec],
                    values: Sequence[tuple[np.ndarray, np.ndarray | None]], n: int,
                    key: Sequence[str], *, update: bool) -> tuple[int, int]:
        """Upsert one chunk by the natural *key*: rows whose key is new are inserted in
        the chunk's order; an existing row is left alone, or with *update* takes the
        chunk's values (only rows that differ are touched). Returns (inserted, updated).
        Works without a unique index on *key*."""

    @abc.abstractmethod
    def encode(self, values: Sequence[tuple[np.ndarray, np.ndarray | None]],
               cols: Sequence[ColumnSpec]) -> Any:
        """Turn a normalised chunk into what :meth:`consume` sends (runs in a worker thread)."""

    @abc.abstractmethod
    async def consume(self, table: str, columns: Sequence[str],
                      chunks: MemoryObjectReceiveStream[Any]) -> None:
        """Load encoded chunks as they arrive until the stream closes (one table, no append)."""

    # -- reads inside the transaction (a cycle's tables read what their partners wrote)

    async def read_columns(self, table: str,
                           columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        return await self.db.read_columns(table, columns, fetch=self.fetch)

    async def count_rows(self, table: str) -> int:
        return int((await self.fetch(f"SELECT COUNT(*) FROM {quote(table)}"))[0][0])

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self.fetch(sql, [plain_param(p) for p in params])

    async def defer_indexes(self, table: str) -> list[str]:
        """Drop indexes of an empty table before a bulk load; return the statements that
        rebuild them (only PostgreSQL does this)."""
        return []

    async def detach_foreign_keys(self, table: str) -> tuple[list[str], list[str]]:
        """Drop *table*'s foreign keys to other tables, in a transaction of their own
        before its load: (the parents, the statements that re-add the keys). Nothing
        (the load checks its keys itself) unless the database locks a key's parent
        while the key is gone (PostgreSQL)."""
        return [], []

    async def attach_foreign_keys(self, parents: Sequence[str],
                                  statements: Sequence[str]) -> None:
        """Re-add what :meth:`detach_foreign_keys` dropped, validating every row."""
        for statement in statements:
            await self.execute(statement)

    async def rebuild(self, statements: Sequence[str]) -> None:
        """Run the statements :meth:`defer_indexes` returned (in a later transaction:
        a partitioned table's finish step)."""
        for statement in statements:
            await self.execute(statement)

    async def empty(self, tables: Sequence[str]) -> None:
        """Empty *tables* (given children first)."""
        for t in tables:
            await self.execute(f"DELETE FROM {quote(t)}")

    async def before_load(self, spec: TableSpec) -> None:
        """Hook run first in a task's transaction: restart the id generators feeding the
        table from what it holds, so generated ids never depend on earlier attempts."""
        return None  # a hook: nothing to do unless a backend overrides it

    async def write_marker(self, table: str) -> str | None:
        """What tells the rows this transaction wrote from rows written by anyone else
        (see :meth:`Database.changed_rows`); None where the database cannot tell."""
        return None

    async def after_load(self, spec: TableSpec) -> None:
        """Hook run before commit once a table is loaded (PostgreSQL advances sequences)."""
        return None  # a hook: nothing to do unless a backend overrides it

    def check_keys_per_row(self) -> None:
        """Have the database check foreign keys as the rows arrive, where it would
        otherwise check the whole table once in :meth:`after_load` (SQLite): a
        partition's check of the whole table would grow with every partition loaded."""
        return None  # a hook: nothing to do unless a backend overrides it

    @abc.abstractmethod
    async def open_unit(self, keys: Sequence[tuple[str, str]]) -> None:
        """Before the tables of a cycle load in this transaction: stop checking the
        foreign keys (table, column) that close it until :meth:`close_unit`."""

    @abc.abstractmethod
    async def close_unit(self, tables: Sequence[str]) -> None:
        """Check the foreign keys of the unit's *tables* again (an error if a row
        points nowhere), before the transaction commits."""


class Database(abc.ABC):
    """A connected database. Create with :meth:`open`, close with :meth:`close`."""

    dialect: str
    # capabilities the engine asks for instead of a dialect's name:
    # several transactions may write at once (a task's status beside other tasks' loads)
    concurrent_writers: bool = False
    lock_timeout: float = LOCK_TIMEOUT

    def __init__(self, url: DbUrl) -> None:
        self.url = url
        self.specs: dict[str, TableSpec] = {}
        self._engine: AsyncEngine | None = None

    @staticmethod
    async def open(url: DbUrl, *, pool_size: int = 4,
                   lock_timeout: float = LOCK_TIMEOUT) -> Database:
        """Connect with the backend registered for the URL's dialect. *lock_timeout*:
        seconds to wait for a lock another program holds before failing with a message
        (SQLite's busy timeout)."""
        backend = BACKENDS.get(url.dialect)
        if backend is None:
            raise UsageError(f"database '{url.dialect}' is not supported; use sqlite:///FILE "
                             "or postgresql://HOST/DB")
        db = backend(url)
        db.lock_timeout = lock_timeout
        await db._connect(pool_size)
        return db

    @abc.abstractmethod
    async def _connect(self, pool_size: int) -> None:
        """Open the connections (called once, by :meth:`open`)."""

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            # imported on first use (~100 ms): only schema work needs SQLAlchemy's engine
            from sqlalchemy.ext.asyncio import create_async_engine

            self._engine = create_async_engine(self.url.url)
            self._configure_engine(self._engine)
        return self._engine

    def _configure_engine(self, engine: AsyncEngine) -> None:
        """Hook run once on the SQLAlchemy engine when it is created."""
        return None  # a hook: nothing to do unless a backend overrides it

    # -- locking ----------------------------------------------------------

    async def run_locked(self) -> bool:
        """Whether a seedgraph run holds this database right now."""
        try:
            async with self.run_lock():
                return False
        except RunLockedError:
            return True

    @abc.abstractmethod
    def run_lock(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Held for a whole run: a second run on the same database fails at once."""

    # -- transactions and reads ------------------------------------------

    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractAsyncContextManager[Tx]:
        """A :class:`Tx` on its own connection: committed on exit, rolled back on error."""

    @abc.abstractmethod
    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read-only query, outside any transaction. Dates, times and
        numpy scalars in *params* compare with the stored values alike on every database."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        async with self.transaction() as tx:
            await tx.execute(sql, params)

    async def existing_tables(self) -> set[str]:
        def names(conn: sa.Connection) -> set[str]:
            return set(sa.inspect(conn).get_table_names())

        async with self.engine.connect() as conn:
            return await conn.run_sync(names)

    async def count_rows(self, table: str) -> int:
        rows = await self.query(f"SELECT COUNT(*) FROM {quote(table)}")
        return int(rows[0][0])

    async def foreign_key_violations(self, table: str
                                     ) -> tuple[str, list[tuple[Any, ...]]] | None:
        """The database's own check of *table*'s foreign keys, if it has one: (what it
        is called, the offending rows). None: the keys are always enforced."""
        return None

    async def changed_rows(self, table: str, markers: Sequence[str]) -> int | None:
        """Rows of *table* not written by the loads that left *markers*: inserted or
        changed by someone else since (None: the database cannot tell)."""
        return None

    async def row_counts(self, tables: Sequence[str]) -> dict[str, int]:
        existing = await self.existing_tables()
        return {t: (await self.count_rows(t) if t in existing else 0) for t in tables}

    async def read_columns(self, table: str, columns: Sequence[str] | None = None, *,
                           fetch: Any = None) -> dict[str, np.ndarray]:
        """*columns* of *table* as numpy arrays, ordered by primary key; *fetch* reads
        through a transaction's connection instead (see :meth:`Tx.read_columns`)."""
        spec = await self.spec(table)
        cols = list(columns) if columns is not None else [c.name for c in spec.columns]
        for c in cols:
            if c not in spec.by_name:
                from seedgraph.errors import did_you_mean

                raise UsageError(
                    f"table '{table}' has no column '{c}'.{did_you_mean(c, spec.by_name)}"
                )
        return await self._read(spec, cols, fetch)

    async def _read(self, spec: TableSpec, cols: list[str], fetch: Any
                    ) -> dict[str, np.ndarray]:
        """:meth:`read_columns` once *cols* are known to exist: through the driver."""
        sql = self._select_sql(spec, cols)
        batches = self._row_batches(sql, READ_ROWS) if fetch is None else _one(fetch, sql)
        return await self._decoded(spec, cols, batches)

    @staticmethod
    def _select_sql(spec: TableSpec, cols: Sequence[str]) -> str:
        order = spec.primary_key or tuple(cols)
        return (f"SELECT {', '.join(quote(c) for c in cols)} FROM {quote(spec.name)} "
                f"ORDER BY {', '.join(quote(c) for c in order)}")

    async def _decoded(self, spec: TableSpec, cols: Sequence[str],
                       batches: AsyncIterator[Sequence[Sequence[Any]]]
                       ) -> dict[str, np.ndarray]:
        # decoded a batch at a time: the driver's row objects take several times the
        # memory of the numpy columns they become
        parts: list[list[np.ndarray]] = [[] for _ in cols]
        async for rows in batches:
            for i, c in enumerate(cols):
                parts[i].append(decode([r[i] for r in rows], spec.by_name[c], self.dialect))
            del rows
        return {c: _join(parts[i], spec.by_name[c], self.dialect) for i, c in enumerate(cols)}

    async def _row_batches(self, sql: str, size: int
                           ) -> AsyncIterator[Sequence[Sequence[Any]]]:
        """The result's rows as the driver returns them, at most *size* at a time."""
        yield await self.query(sql)

    # -- schema -----------------------------------------------------------

    async def spec(self, table: str) -> TableSpec:
        if table not in self.specs:
            self.specs[table] = await self.reflect_spec(table)
        return self.specs[table]

    # -- the live schema beyond SQLAlchemy's reflection (no-ops where a database has none)

    async def partition_roots(self) -> dict[str, str]:
        """Each partition's partitioned table (rows are written through the latter)."""
        return {}

    async def partition_bounds(self) -> list[tuple[str, str, str]]:
        """(partitioned table, key definition, one partition's bound) rows."""
        return []

    async def insert_triggers(self) -> list[tuple[str, str]]:
        """(table, text) of each row-level BEFORE INSERT trigger: its definition and
        its function's body, to see which columns it fills."""
        return []

    async def domain_types(self) -> dict[str, str]:
        """Each domain's base type with its size, e.g. ``character varying(8)``."""
        return {}

    async def unique_indexes(self) -> list[UniqueIndex]:
        """Every unique index on plain columns the database enforces, primary keys
        aside, where SQLAlchemy's reflection may miss some (SQLite's)."""
        return []

    async def reflect_spec(self, table: str) -> TableSpec:
        def reflect(conn: sa.Connection) -> sa.Table:
            return sa.Table(table, sa.MetaData(), autoload_with=conn)

        try:
            async with self.engine.connect() as conn:
                t = await conn.run_sync(reflect)
        except sa.exc.NoSuchTableError:
            raise DatabaseError(
                f"table '{table}' does not exist; create it first "
                "(`seedgraph schema create` for packs that ship a schema)"
            ) from None
        from seedgraph.backends.reflect import mark_trigger_filled

        mark_trigger_filled(t, await self.insert_triggers())
        spec: TableSpec = table_spec(t, self.dialect)
        return spec

    def register(self, metadata: sa.MetaData | None) -> None:
        if metadata is None:
            return
        for t in metadata.tables.values():
            self.specs[t.name] = table_spec(t, self.dialect)

    async def create_missing(self, metadata: sa.MetaData, names: Sequence[str]) -> list[str]:
        """Create the pack tables in *names* that do not exist yet; return those created."""
        existing = await self.existing_tables()
        todo = [metadata.tables[n] for n in names if n in metadata.tables and n not in existing]
        if todo:
            async with self.engine.begin() as conn:
                await conn.run_sync(lambda c: metadata.create_all(c, tables=todo))
        return [t.name for t in todo]

    async def ensure_bookkeeping(self, metadata: sa.MetaData) -> None:
        """Create seedgraph's own tables (*metadata*) where they are missing."""
        await self.create_missing(metadata, [t.name for t in metadata.sorted_tables])

    async def drop(self, metadata: sa.MetaData, names: Sequence[str]) -> list[str]:
        existing = await self.existing_tables()
        todo = [metadata.tables[n] for n in names if n in metadata.tables and n in existing]
        if todo:
            async with self.engine.begin() as conn:
                await conn.run_sync(lambda c: metadata.drop_all(c, tables=todo))
        return [t.name for t in todo]

    async def check_schema(self, metadata: sa.MetaData, names: Sequence[str]) -> None:
        """Fail, naming the difference, when an existing table's columns differ from the pack."""
        wanted = {n: metadata.tables[n] for n in names if n in metadata.tables}

        def columns(conn: sa.Connection) -> dict[str, dict[str, Any]]:
            insp = sa.inspect(conn)
            present = set(insp.get_table_names())
            return {n: {c["name"]: c["type"] for c in insp.get_columns(n)}
                    for n in wanted if n in present}

        async with self.engine.connect() as conn:
            actual = await conn.run_sync(columns)
        problems: dict[str, str] = {}
        for name, cols in sorted(actual.items()):
            expected = {c.name for c in wanted[name].columns}
            missing, extra = sorted(expected - set(cols)), sorted(set(cols) - expected)
            retyped = [f"{c.name} is {self._type_text(cols[c.name])}, the pack says "
                       f"{self._type_text(c.type)}"
                       for c in wanted[name].columns if c.name in cols
                       and _differs(c.type, cols[c.name], self.dialect)]
            parts = []
            if missing:
                parts.append(f"missing column(s) {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected column(s) {', '.join(extra)}")
            if retyped:
                parts.append("; ".join(retyped))
            if parts:
                problems[name] = "; ".join(parts)
        if len(problems) == 1:
            [(name, what)] = problems.items()
            raise SchemaMismatchError(
                f"table '{name}' in {self.url.display} does not match the pack: {what}. "
                f"Migrate it, or drop it with `seedgraph schema drop --only {name} "
                "--confirm` and run again")
        if problems:
            raise SchemaMismatchError(
                f"{len(problems)} tables in {self.url.display} do not match the pack: "
                + "; ".join(f"'{n}' ({what})" for n, what in problems.items())
                + ". Migrate them, or drop them with `seedgraph schema drop --only "
                f"'{' '.join(problems)}' --confirm` and run again")

    def _type_text(self, type_: Any) -> str:
        """A column type as this database spells it (``DOUBLE PRECISION[]``)."""
        try:
            return str(type_.compile(dialect=self.engine.dialect))
        except Exception:  # a type this dialect cannot render: its generic name
            return str(type_)


def _differs(declared: Any, live: Any, dialect: str) -> bool:
    """The live column holds another kind of value than the pack declares, or (on
    PostgreSQL, whose binary COPY sends each type in its own form) another form of it:
    ``integer`` for ``bigint``, ``real[]`` for ``double precision[]``, JSONB for text.
    Such a load would fail half-way, or store the values wrongly."""
    if _family(declared, dialect) != _family(live, dialect):
        return True
    if dialect != "postgresql" or not isinstance(live, sa.types.TypeEngine):
        return False
    mine, theirs = kind_for(declared, dialect), kind_for(live, dialect)
    if mine is theirs or {mine, theirs} <= _TEXT_ON_THE_WIRE or {mine, theirs} <= _TIMESTAMPS:
        return False
    return mine in _OWN_WIRE_FORM or theirs in _OWN_WIRE_FORM


_K = ColumnKind
_TEXT_ON_THE_WIRE = {_K.TEXT, _K.JSON}  # json's binary form is its text
_TIMESTAMPS = {_K.TIMESTAMP, _K.TIMESTAMPTZ}  # both microseconds since 2000
_OWN_WIRE_FORM = {_K.INT2, _K.INT4, _K.INT8, _K.FLOAT4, _K.FLOAT8, _K.NUMERIC, _K.BOOL,
                  _K.DATE, _K.TIME, _K.UUID, _K.JSONB, _K.BYTEA, _K.FLOAT4_ARRAY,
                  _K.FLOAT8_ARRAY, _K.INT4_ARRAY, _K.INT8_ARRAY, _K.TEXT_ARRAY}


def _family(type_: Any, dialect: str) -> str:
    """What a column holds, coarsely: a table whose column holds another kind of value
    than the pack declares would store what it is given wrongly (SQLite stores any)."""
    K = ColumnKind
    kind = kind_for(type_, dialect) if isinstance(type_, sa.types.TypeEngine) else K.TEXT
    for family, kinds in (("integer", {K.INT2, K.INT4, K.INT8}),
                          ("number", {K.FLOAT4, K.FLOAT8, K.NUMERIC}),
                          ("boolean", {K.BOOL}),
                          ("date/time", {K.DATE, K.TIMESTAMP, K.TIMESTAMPTZ, K.TIME}),
                          ("bytes", {K.BYTEA})):
        if kind in kinds:
            return family
    return "text"  # text, uuid, json, arrays, other: text on SQLite


async def _one(fetch: Any, sql: str) -> AsyncIterator[Sequence[Sequence[Any]]]:
    yield await fetch(sql)


def _join(parts: list[np.ndarray], col: ColumnSpec, dialect: str) -> np.ndarray:
    """One column from its decoded batches (an int batch with NULLs came back float, so
    numpy's promotion gives what decoding all rows at once would have)."""
    if not parts:
        return decode([], col, dialect)
    if len(parts) == 1:
        return parts[0]
    if all(p.dtype != object for p in parts) and len({p.shape[1:] for p in parts}) == 1:
        return np.concatenate(parts)
    out = np.empty(sum(len(p) for p in parts), dtype=object)
    out[:] = [v for p in parts for v in (p.tolist() if p.dtype != object else p)]
    return out


BACKENDS: dict[str, type[Database]] = {}  # URL dialect -> its Database subclass
_D = TypeVar("_D", bound=type[Database])


def register_backend(cls: _D) -> _D:
    """Class decorator: :meth:`Database.open` opens URLs of ``cls.dialect`` with *cls*."""
    BACKENDS[cls.dialect] = cls
    return cls
