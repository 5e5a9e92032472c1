"""Database access: URLs, connections, the run lock, schema creation and checks, raw reads.

Two backends share one small interface: PostgreSQL through asyncpg (bulk loads
with binary COPY) and SQLite through aiosqlite (WAL, foreign keys on for every
connection). SQLAlchemy is used for DDL and reflection only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
import anyio
import asyncpg
import numpy as np
import sqlalchemy as sa
from anyio.streams.memory import MemoryObjectReceiveStream
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from seedgraph.columns import ColumnKind, ColumnSpec, TableSpec, decode, kind_for, table_spec
from seedgraph.errors import DatabaseError, RunLockedError, SchemaMismatchError, UsageError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["DEFAULT_URL", "Database", "DbUrl", "Tx", "parse_url", "quote"]

DEFAULT_URL = "sqlite+aiosqlite:///seedgraph.db"
_LOCK_KEY = 0x5EED6_7A9  # advisory lock id for "a seedgraph run holds this database"
_PIECE = 1 << 20  # bytes per write to the COPY stream


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class DbUrl:
    url: str  # SQLAlchemy async URL
    dialect: str  # "postgresql" | "sqlite"
    display: str  # password hidden
    sqlite_path: Path | None = None  # None for :memory: or PostgreSQL
    pg_dsn: str | None = None

    @property
    def missing_file(self) -> bool:
        """An SQLite database whose file does not exist yet (opening it would create it)."""
        return self.sqlite_path is not None and not self.sqlite_path.exists()


_SECRET_PARAM = re.compile(r"(?i)([?&;](?:password|passwd|pass|pwd|sslpassword|secret)[^=&#]*=)"
                           r"[^&#]*")


def mask_url(raw: str) -> str:
    """*raw* fit to show: the password after ``user:`` and any password-like query
    parameter replaced by ``***``. Works on the raw text, so a URL that does not parse,
    or a password holding an unescaped ``@``, is masked too."""
    cut = min((i for i in (raw.find("?"), raw.find("#")) if i >= 0), default=len(raw))
    head, tail = raw[:cut], raw[cut:]
    if "@" in head:
        prefix, host = head.rsplit("@", 1)
        scheme = re.match(r"^[A-Za-z][\w+.-]*:/*|^[^/]*//", prefix)
        start = scheme.end() if scheme and "/" in scheme.group() else 0
        if ":" in prefix[start:]:
            user = prefix[start:].split(":", 1)[0]
            prefix = f"{prefix[:start]}{user}:***"
        head = f"{prefix}@{host}"
    return head + _SECRET_PARAM.sub(r"\1***", tail)


def parse_url(raw: str) -> DbUrl:
    """Accept ``postgresql://``, ``postgresql+asyncpg://``, ``sqlite:///`` and ``sqlite+aiosqlite:///``."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise UsageError(
            f"database URL '{mask_url(raw)}' is not valid; use e.g. sqlite:///seedgraph.db or "
            "postgresql://user@localhost:5432/dbname"
        ) from None
    backend = url.get_backend_name()
    if backend in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+asyncpg")
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return DbUrl(url.render_as_string(hide_password=False), "postgresql",
                     mask_url(url.render_as_string(hide_password=True)), None, dsn)
    if backend == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
        db = url.database
        path = None if not db or db == ":memory:" else Path(db).resolve()
        return DbUrl(url.render_as_string(hide_password=False), "sqlite",
                     mask_url(url.render_as_string(hide_password=True)), path)
    raise UsageError(
        f"database '{backend}' is not supported; use sqlite:///FILE or postgresql://HOST/DB"
    )


def explain_driver_error(exc: BaseException) -> str | None:
    """One actionable line for a database driver error that reached the top, or None.
    Driver errors are mapped here, in one place, so the CLI never shows them raw."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # through SQLAlchemy's wrapping
        seen.add(id(current))
        found = _explain_one(current)
        if found is not None:
            return found
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def _explain_one(exc: BaseException) -> str | None:
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return (f"the database role may not do this: {exc}; grant it the privilege (e.g. "
                "GRANT CREATE ON SCHEMA public TO the_role, or GRANT INSERT, DELETE ON "
                "the tables), or use a role that has it")
    if isinstance(exc, asyncpg.InterfaceError | asyncpg.ConnectionDoesNotExistError |
                  asyncpg.AdminShutdownError | ConnectionError):
        return (f"the connection to the database was lost ({exc}); nothing of the running "
                "tasks was kept: check the server, then `seedgraph run --resume`")
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        if "readonly" in text or "read-only" in text:
            return (f"the SQLite database is read-only ({text}); make the file and its "
                    "folder writable, or use --db with another file")
        if "locked" in text:
            return (f"the SQLite database is locked by another program ({text}); close it "
                    "and run again")
    return None


def _pg_sql(sql: str) -> str:
    """Turn ``?`` placeholders (outside quotes) into asyncpg's ``$n``."""
    out: list[str] = []
    n = 0
    in_quote = False
    for ch in sql:
        if ch == "'":
            in_quote = not in_quote
        if ch == "?" and not in_quote:
            n += 1
            out.append(f"${n}")
        else:
            out.append(ch)
    return "".join(out)


class Tx:
    """One transaction on one connection: a task's rows and its checkpoint commit together."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise NotImplementedError

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def load(self, spec: TableSpec, cols: Sequence[ColumnSpec],
                   values: Sequence[tuple[np.ndarray, np.ndarray | None]], n: int,
                   append: bool) -> int:
        """Insert one chunk; returns rows inserted (append skips rows already present)."""
        raise NotImplementedError

    def encode(self, values: Sequence[tuple[np.ndarray, np.ndarray | None]],
               cols: Sequence[ColumnSpec]) -> Any:
        """Turn a normalised chunk into what :meth:`consume` sends (runs in a worker thread)."""
        raise NotImplementedError

    async def consume(self, table: str, columns: Sequence[str],
                      chunks: MemoryObjectReceiveStream[Any]) -> None:
        """Load encoded chunks as they arrive until the stream closes (one table, no append)."""
        raise NotImplementedError

    async def defer_indexes(self, table: str) -> list[str]:
        """Drop indexes of an empty table before a bulk load; return the statements that
        rebuild them (only PostgreSQL does this)."""
        return []

    async def empty(self, tables: Sequence[str]) -> None:
        """Empty *tables* (given children first)."""
        for t in tables:
            await self.execute(f"DELETE FROM {quote(t)}")

    async def before_load(self, spec: TableSpec) -> None:
        """Hook run first in a task's transaction: restart the id generators feeding the
        table from what it holds, so generated ids never depend on earlier attempts."""

    async def write_marker(self, table: str) -> str | None:
        """What tells the rows this transaction wrote from rows written by anyone else
        (see :meth:`Database.changed_rows`); None where the database cannot tell."""
        return None

    async def after_load(self, spec: TableSpec) -> None:
        """Hook run before commit once a table is loaded (PostgreSQL advances sequences)."""


class Database:
    """A connected database. Create with :meth:`open`, close with :meth:`close`."""

    dialect: str

    def __init__(self, url: DbUrl) -> None:
        self.url = url
        self.specs: dict[str, TableSpec] = {}
        self._engine: AsyncEngine | None = None

    @staticmethod
    async def open(url: DbUrl, *, pool_size: int = 4) -> Database:
        db: Database = PgDatabase(url) if url.dialect == "postgresql" else SqliteDatabase(url)
        await db._connect(pool_size)
        return db

    async def _connect(self, pool_size: int) -> None:
        raise NotImplementedError

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
            if self.dialect == "sqlite":
                @sa.event.listens_for(self._engine.sync_engine, "connect")
                def _fk_on(dbapi_conn: Any, _record: Any) -> None:
                    cur = dbapi_conn.cursor()
                    cur.execute("PRAGMA foreign_keys=ON")
                    cur.close()
        return self._engine

    # -- locking ----------------------------------------------------------

    def run_lock(self) -> contextlib.AbstractAsyncContextManager[None]:
        raise NotImplementedError

    # -- transactions and reads ------------------------------------------

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Tx]:
        raise NotImplementedError

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

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

    async def changed_rows(self, table: str, markers: Sequence[str]) -> int | None:
        """Rows of *table* not written by the loads that left *markers*: inserted or
        changed by someone else since (None: the database cannot tell)."""
        return None

    async def row_counts(self, tables: Sequence[str]) -> dict[str, int]:
        existing = await self.existing_tables()
        return {t: (await self.count_rows(t) if t in existing else 0) for t in tables}

    async def read_columns(self, table: str,
                           columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        spec = await self.spec(table)
        cols = list(columns) if columns is not None else [c.name for c in spec.columns]
        for c in cols:
            if c not in spec.by_name:
                from seedgraph.errors import did_you_mean

                raise UsageError(
                    f"table '{table}' has no column '{c}'.{did_you_mean(c, spec.by_name)}"
                )
        order = spec.primary_key or tuple(cols)
        sql = (f"SELECT {', '.join(quote(c) for c in cols)} FROM {quote(table)} "
               f"ORDER BY {', '.join(quote(c) for c in order)}")
        # decoded a batch at a time: the driver's row objects take several times the
        # memory of the numpy columns they become
        parts: list[list[np.ndarray]] = [[] for _ in cols]
        async for rows in self._row_batches(sql, READ_ROWS):
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
        from seedgraph.reflect import mark_trigger_filled

        await mark_trigger_filled(self, t)
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
        for name, cols in sorted(actual.items()):
            expected = {c.name for c in wanted[name].columns}
            missing, extra = sorted(expected - set(cols)), sorted(set(cols) - expected)
            retyped = [f"{c.name} is {cols[c.name]}, the pack says {c.type}"
                       for c in wanted[name].columns if c.name in cols
                       and _family(c.type, self.dialect) != _family(cols[c.name], self.dialect)]
            if missing or extra or retyped:
                parts = []
                if missing:
                    parts.append(f"missing column(s) {', '.join(missing)}")
                if extra:
                    parts.append(f"unexpected column(s) {', '.join(extra)}")
                if retyped:
                    parts.append("; ".join(retyped))
                raise SchemaMismatchError(
                    f"table '{name}' in {self.url.display} does not match the pack: "
                    f"{'; '.join(parts)}. Migrate it, or drop it with "
                    f"`seedgraph schema drop --only {name} --confirm` and run again"
                )


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


# -- PostgreSQL ---------------------------------------------------------------


BULK_MAINTENANCE_MEM = "256MB"  # raised to this, never lowered, for index rebuilds
READ_ROWS = 50_000  # rows decoded at a time when reading columns
FK_LOCK_ATTEMPTS = 5  # tries to lock a bulk load's parent tables before keeping its keys


class PgTx(Tx):
    def __init__(self, db: PgDatabase, conn: asyncpg.Connection) -> None:
        super().__init__(db)
        self.conn = conn
        self._staging: set[str] = set()

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        status = await self.conn.execute(_pg_sql(sql), *params)
        tail = status.rsplit(" ", 1)[-1] if isinstance(status, str) else ""
        return int(tail) if tail.isdigit() else 0

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.conn.fetch(_pg_sql(sql), *params)]

    async def load(self, spec: TableSpec, cols: Sequence[ColumnSpec],
                   values: Sequence[tuple[np.ndarray, np.ndarray | None]], n: int,
                   append: bool) -> int:
        from seedgraph.pgcopy import encode_binary

        data = encode_binary(values, cols)
        names = [c.name for c in cols]

        async def source() -> AsyncIterator[bytes]:
            view = memoryview(data)
            for i in range(0, len(view), _PIECE):
                yield bytes(view[i : i + _PIECE])

        if not append:
            await self.conn.copy_to_table(spec.name, source=source(), columns=names,
                                          format="binary")
            return n
        stage = f"_seedgraph_stage_{spec.name}"[:63]
        if stage not in self._staging:
            await self.conn.execute(
                f"CREATE TEMP TABLE {quote(stage)} (LIKE {quote(spec.name)} INCLUDING DEFAULTS) "
                "ON COMMIT DROP"
            )
            self._staging.add(stage)
        else:
            await self.conn.execute(f"TRUNCATE {quote(stage)}")
        await self.conn.copy_to_table(stage, source=source(), columns=names, format="binary")
        collist = ", ".join(quote(c) for c in names)
        status = await self.conn.execute(
            f"INSERT INTO {quote(spec.name)} ({collist}) SELECT {collist} FROM {quote(stage)} "
            "ON CONFLICT DO NOTHING"
        )
        return int(status.rsplit(" ", 1)[-1])

    def encode(self, values: Sequence[tuple[np.ndarray, np.ndarray | None]],
               cols: Sequence[ColumnSpec]) -> Any:
        from seedgraph.pgcopy import encode_rows

        return encode_rows(values, cols)

    async def consume(self, table: str, columns: Sequence[str],
                      chunks: MemoryObjectReceiveStream[Any]) -> None:
        """One COPY for a whole table, fed chunk by chunk while the task generates more."""
        from seedgraph.pgcopy import HEADER, TRAILER

        async def source() -> AsyncIterator[bytes]:
            yield HEADER
            async with chunks:
                async for chunk in chunks:
                    view = memoryview(chunk)
                    for i in range(0, len(view), _PIECE):
                        yield bytes(view[i : i + _PIECE])
            yield TRAILER

        await self.conn.copy_to_table(table, source=source(), columns=list(columns),
                                      format="binary")

    async def defer_indexes(self, table: str) -> list[str]:
        """Drop the indexes and foreign keys of an empty *table* for a bulk load; return the
        statements that rebuild them (run before commit, as pgbench -i and pg_restore do).

        Keys other tables' foreign keys depend on stay in place; everything happens inside
        the task's transaction, so a failure (including a foreign key that does not hold
        when it is re-added) leaves the table as it was.
        """
        if await self.conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})"):
            return []
        rows = await self.conn.fetch(
            """
            SELECT i.indexrelid::regclass::text AS index_name,
                   pg_get_indexdef(i.indexrelid) AS index_def,
                   c.conname, pg_get_constraintdef(c.oid) AS con_def,
                   EXISTS (SELECT 1 FROM pg_constraint f
                           WHERE f.contype = 'f' AND f.conindid = i.indexrelid) AS referenced
            FROM pg_index i
            LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
            WHERE i.indrelid = $1::regclass
            ORDER BY 1
            """, quote(table))
        restore: list[str] = []
        for r in rows:
            if r["referenced"]:
                continue
            if r["conname"] is not None:
                await self.conn.execute(
                    f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(r['conname'])}")
                restore.append(f"ALTER TABLE {quote(table)} ADD CONSTRAINT "
                               f"{quote(r['conname'])} {r['con_def']}")
            else:
                await self.conn.execute(f"DROP INDEX {r['index_name']}")
                restore.append(str(r["index_def"]))
        restore += await self._defer_foreign_keys(table)
        if restore:
            # index builds sort in memory when they can (the default 64MB spills a
            # million-row key to disk); SET LOCAL lasts until this transaction ends
            await self.conn.execute(
                "SELECT set_config('maintenance_work_mem', $1, true) WHERE pg_size_bytes("
                "current_setting('maintenance_work_mem')) < pg_size_bytes($1)",
                BULK_MAINTENANCE_MEM)
        return restore

    async def _defer_foreign_keys(self, table: str) -> list[str]:
        """Drop *table*'s foreign keys for the load and return the statements that re-add
        them: triggers check each row (about 10 us per row and key), one validation pass
        at the end, as pg_restore does, is far cheaper.

        Dropping a foreign key locks its parent table exclusively until commit, so the
        parents are locked first, all at once and without waiting: a task that waited
        here while holding other locks could deadlock with a sibling checking rows
        against the same parents. When a parent is busy after a few tries the keys stay
        and are checked row by row.
        """
        foreign = await self.conn.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS def, confrelid::regclass::text "
            "AS parent FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' "
            "ORDER BY conname", quote(table))
        if not foreign:
            return []
        parents = ", ".join(sorted({str(r["parent"]) for r in foreign}))
        for attempt in range(FK_LOCK_ATTEMPTS):
            try:
                async with self.conn.transaction():  # a savepoint: a failed LOCK keeps nothing
                    await self.conn.execute(
                        f"LOCK TABLE {parents} IN ACCESS EXCLUSIVE MODE NOWAIT")
                break
            except asyncpg.LockNotAvailableError:
                if attempt == FK_LOCK_ATTEMPTS - 1:
                    return []
                await anyio.sleep(0.05 * (attempt + 1))
        restore = []
        for r in foreign:
            await self.conn.execute(
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(r['conname'])}")
            restore.append(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(r['conname'])} "
                           f"{r['def']}")
        return restore

    async def empty(self, tables: Sequence[str]) -> None:
        if not tables:
            return
        try:
            async with self.conn.transaction():
                await self.conn.execute("TRUNCATE " + ", ".join(quote(t) for t in tables))
        except asyncpg.FeatureNotSupportedError:
            # another table references one of these (even if empty): delete children first
            await super().empty(tables)

    async def _restart_sequences(self, spec: TableSpec) -> None:
        """Set every sequence feeding a column of the table (serial, identity, or a
        ``nextval()`` default, owned or not) to follow the column's largest value, or to
        its start when the table is empty. Sequences ignore rollbacks, so without this a
        failed or killed attempt would shift the ids of the next one."""
        for column, seq, start, step in await self.conn.fetch(_SEQUENCES, quote(spec.name)):
            await self.conn.execute(
                f"SELECT setval($1::regclass, COALESCE((SELECT MAX({quote(column)}) "
                f"FROM {quote(spec.name)}) + $2, $3), false)", seq, step, start)

    async def before_load(self, spec: TableSpec) -> None:
        await self._restart_sequences(spec)

    async def write_marker(self, table: str) -> str | None:
        # every row this transaction wrote has it as xmin (COPY and INSERT run in the
        # top-level transaction, never in a savepoint)
        return str(await self.conn.fetchval("SELECT txid_current() % 4294967296"))

    async def after_load(self, spec: TableSpec) -> None:
        # past the largest value written, so the application's next insert never collides
        await self._restart_sequences(spec)


# (column, sequence, start, increment) of every sequence feeding a column of table $1:
# referenced by the column's default (serial, or nextval of any sequence), or owned by /
# the identity of the column
_SEQUENCES = """
SELECT a.attname, s.oid::regclass::text, q.seqstart, q.seqincrement
FROM pg_attribute a
JOIN pg_class s ON s.relkind = 'S' AND s.oid IN (
    SELECT dep.refobjid FROM pg_attrdef d
    JOIN pg_depend dep ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
     AND dep.refclassid = 'pg_class'::regclass
    WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum
    UNION
    SELECT dep.objid FROM pg_depend dep
    WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
      AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
      AND dep.deptype IN ('a', 'i'))
JOIN pg_sequence q ON q.seqrelid = s.oid
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum, 2
"""


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


class PgDatabase(Database):
    dialect = "postgresql"

    async def _connect(self, pool_size: int) -> None:
        assert self.url.pg_dsn is not None
        try:
            self._pool = await asyncpg.create_pool(self.url.pg_dsn, min_size=1,
                                                   max_size=max(2, pool_size))
        except (OSError, asyncpg.PostgresError) as exc:
            raise DatabaseError(f"cannot connect to {self.url.display}: {exc}") from exc

    async def close(self) -> None:
        await self._pool.close()
        await super().close()

    @contextlib.asynccontextmanager
    async def run_lock(self) -> AsyncIterator[None]:
        conn = await self._pool.acquire()
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY):
                raise RunLockedError(self.url.display)
            try:
                yield
            finally:
                with anyio.CancelScope(shield=True):
                    await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
        finally:
            with anyio.CancelScope(shield=True):
                await self._pool.release(conn)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._pool.acquire() as conn:
            tr = conn.transaction()
            await tr.start()
            try:
                yield PgTx(self, conn)
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await tr.rollback()
                raise
            else:
                with anyio.CancelScope(shield=True):
                    await tr.commit()

    async def changed_rows(self, table: str, markers: Sequence[str]) -> int | None:
        rows = await self.query(
            f"SELECT COUNT(*) FROM {quote(table)} WHERE NOT (xmin::text = ANY(?::text[]))",
            (list(markers),))
        return int(rows[0][0])

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._pool.acquire() as conn:
            return [tuple(r) for r in await conn.fetch(_pg_sql(sql), *params)]

    async def _row_batches(self, sql: str, size: int
                           ) -> AsyncIterator[Sequence[Sequence[Any]]]:
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            cursor = await conn.cursor(sql)
            while batch := await cursor.fetch(size):
                yield batch


# -- SQLite ------------------------------------------------------------------


async def _run(conn: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """Execute and close the cursor at once (an open cursor keeps SQLite locks)."""
    async with conn.execute(sql, tuple(params)) as cur:
        await cur.fetchall()
        return max(cur.rowcount, 0)


def _group_rows(columns: int) -> int:
    """Rows per multi-row INSERT: as many as fit in 999 parameters (SQLite's historic
    limit; 3.32+ allows more, but larger statements gain nothing)."""
    return max(1, 999 // max(columns, 1))


class SqliteTx(Tx):
    def __init__(self, db: SqliteDatabase, conn: aiosqlite.Connection) -> None:
        super().__init__(db)
        self.conn = conn
        self._db = db
        self._began = False
        self._deferred_fk = False
        self._restart: str | None = None

    async def _begin(self) -> None:
        if not self._began:
            await self._db.write_lock.acquire()
            self._began = True
            await _run(self.conn, "BEGIN IMMEDIATE")
            if self._restart is not None:
                await self._restart_autoincrement(self._restart)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        await self._begin()
        return await _run(self.conn, sql, params)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        await self._begin()
        async with self.conn.execute(sql, tuple(params)) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    async def load(self, spec: TableSpec, cols: Sequence[ColumnSpec],
                   values: Sequence[tuple[np.ndarray, np.ndarray | None]], n: int,
                   append: bool) -> int:
        await self._begin()
        before = self.conn.total_changes
        await self._insert("INSERT OR IGNORE" if append else "INSERT", spec.name,
                           [c.name for c in cols], self.encode(values, cols))
        return self.conn.total_changes - before

    def encode(self, values: Sequence[tuple[np.ndarray, np.ndarray | None]],
               cols: Sequence[ColumnSpec]) -> Any:
        from seedgraph.columns import sqlite_groups

        return sqlite_groups(values, cols, _group_rows(len(cols)))

    async def _insert(self, verb: str, table: str, columns: Sequence[str],
                      groups: tuple[list[list[Any]], list[list[Any]]]) -> None:
        """Run multi-row INSERTs of ``_group_rows`` rows each, then the leftover rows."""
        grouped, rest = groups
        one = f"({', '.join('?' for _ in columns)})"
        head = f"{verb} INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "
        if grouped:
            await self.conn.executemany(
                head + ", ".join([one] * _group_rows(len(columns))), grouped)
        if rest:
            await self.conn.executemany(head + one, rest)

    async def consume(self, table: str, columns: Sequence[str],
                      chunks: MemoryObjectReceiveStream[Any]) -> None:
        if not self._began:
            # a bulk load checks its foreign keys once, in after_load, instead of per row
            await _run(self.conn, "PRAGMA foreign_keys=OFF")
            self._deferred_fk = True
        await self._begin()
        async with chunks:
            async for groups in chunks:
                await self._insert("INSERT", table, columns, groups)

    async def before_load(self, spec: TableSpec) -> None:
        # done when the transaction begins (at its first write): taking the write lock
        # now would hold it while the task body generates its first chunk
        self._restart = spec.name

    async def write_marker(self, table: str) -> str | None:
        # rows inserted later get larger rowids; WITHOUT ROWID tables cannot tell
        try:
            rows = await self.fetch(f"SELECT COALESCE(MAX(rowid), 0) FROM {quote(table)}")
        except sqlite3.OperationalError:
            return None
        return str(rows[0][0])

    async def _restart_autoincrement(self, table: str) -> None:
        """AUTOINCREMENT keeps a high-water mark that a DELETE leaves behind."""
        async with self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'") as cur:
            if not await cur.fetchall():
                return
        await _run(self.conn, f"UPDATE sqlite_sequence SET seq = COALESCE((SELECT MAX(rowid) "
                              f"FROM {quote(table)}), 0) WHERE name = ?", (table,))

    async def after_load(self, spec: TableSpec) -> None:
        if not self._deferred_fk:
            return
        bad = await self.fetch(f"PRAGMA foreign_key_check({quote(spec.name)})")
        if bad:
            table, rowid, parent, _ = bad[0]
            raise DatabaseError(
                f"{len(bad)} row(s) of '{table}' reference missing rows of '{parent}' "
                f"(first: rowid {rowid}); the table was not loaded"
            )

    async def finish(self, ok: bool) -> None:
        if not self._began:
            return
        try:
            await _run(self.conn, "COMMIT" if ok else "ROLLBACK")
        finally:
            self._began = False
            self._db.write_lock.release()


class SqliteDatabase(Database):
    dialect = "sqlite"

    async def _connect(self, pool_size: int) -> None:
        # one writer at a time; a semaphore because a stream consumer task may take it
        # and the task that opened the transaction releases it
        self.write_lock = anyio.Semaphore(1)
        if self.url.sqlite_path is None:
            raise UsageError(
                "in-memory SQLite is not supported (every task writes through its own "
                "connection); use a file, e.g. --db sqlite:///seedgraph.db"
            )
        self._target = str(self.url.sqlite_path)
        if not self.url.sqlite_path.parent.exists():
            raise DatabaseError(
                f"cannot create {self.url.sqlite_path}: folder "
                f"{self.url.sqlite_path.parent} does not exist"
            )
        self._reader = await self._new_conn(("journal_mode=WAL",))

    async def _new_conn(self, first: Sequence[str] = ()) -> aiosqlite.Connection:
        try:
            conn = await aiosqlite.connect(self._target, isolation_level=None, timeout=600)
        except Exception as exc:
            raise DatabaseError(f"cannot open {self.url.display}: {exc}") from exc
        try:
            for pragma in (*first, "foreign_keys=ON", "synchronous=NORMAL",
                           "busy_timeout=600000"):
                await _run(conn, f"PRAGMA {pragma}")
        except sqlite3.Error as exc:
            # close it, or its thread keeps the process alive after the error
            await conn.close()
            if "not a database" in str(exc):
                raise DatabaseError(
                    f"{self.url.sqlite_path} is not an SQLite database; point --db at a "
                    "seedgraph database or at a file that does not exist yet") from None
            raise DatabaseError(f"cannot open {self.url.display}: {exc}") from None
        return conn

    async def close(self) -> None:
        await self._reader.close()
        await super().close()

    @contextlib.asynccontextmanager
    async def run_lock(self) -> AsyncIterator[None]:
        assert self.url.sqlite_path is not None
        # flock on the database file itself: the same file however its path is spelled
        # (hard links, symlinks, relative paths); SQLite's own locks are fcntl locks,
        # which flock locks do not touch
        fd = os.open(self.url.sqlite_path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunLockedError(self.url.display) from None
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        conn = await self._new_conn()
        tx = SqliteTx(self, conn)
        try:
            try:
                yield tx
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await tx.finish(ok=False)
                raise
            else:
                with anyio.CancelScope(shield=True):
                    await tx.finish(ok=True)
        finally:
            with anyio.CancelScope(shield=True):
                await conn.close()

    async def changed_rows(self, table: str, markers: Sequence[str]) -> int | None:
        # replaced or added rows; an UPDATE keeps its rowid, so SQLite cannot see edits
        try:
            rows = await self.query(f"SELECT COUNT(*) FROM {quote(table)} WHERE rowid > ?",
                                    (max(int(m) for m in markers),))
        except (sqlite3.OperationalError, ValueError):
            return None
        return int(rows[0][0])

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._reader.execute(sql, tuple(params)) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    async def _row_batches(self, sql: str, size: int
                           ) -> AsyncIterator[Sequence[Sequence[Any]]]:
        async with self._reader.execute(sql) as cur:
            while batch := await cur.fetchmany(size):
                yield list(batch)

