"""PostgreSQL through asyncpg: bulk loads with binary COPY (:mod:`seedgraph.backends.pgcopy`),
indexes and foreign keys rebuilt after a bulk load, sequences restarted around every
load, and a session advisory lock as the run lock."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio
import asyncpg
import numpy as np
import sqlalchemy as sa
from anyio.streams.memory import MemoryObjectReceiveStream

from seedgraph.backends import pgcatalog, pgread
from seedgraph.backends.base import READ_ROWS, Database, Tx, register_backend
from seedgraph.backends.kinds import name_text_types
from seedgraph.backends.sql import MERGE_ORDER, merge_statements, plain_param
from seedgraph.backends.url import quote
from seedgraph.columns import ColumnKind, ColumnSpec, TableSpec
from seedgraph.errors import DatabaseError, RunLockedError

__all__ = ["PgDatabase", "PgTx"]


async def _pieces(data: bytes) -> AsyncIterator[bytes]:
    """*data* in pieces of at most _PIECE bytes, for a COPY."""
    view = memoryview(data)
    for i in range(0, len(view), _PIECE):
        yield bytes(view[i : i + _PIECE])

BOOKKEEPING_SCHEMA = "seedgraph"  # seedgraph's own tables live here, out of the user's schema
_LOCK_KEY = 0x5EED6_7A9  # advisory lock id for "a seedgraph run holds this database"
_PIECE = 1 << 20  # bytes per write to the COPY stream
BULK_MAINTENANCE_MEM = "256MB"  # raised to this, never lowered, for index rebuilds
DETACH_LOCK_WAIT = "5s"  # how long detaching a table's keys waits for their parents
FK_LOCK_ATTEMPTS = 5  # tries to lock a bulk load's parent tables before keeping its keys


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


class PgTx(Tx):
    def __init__(self, db: PgDatabase, conn: asyncpg.Connection) -> None:
        super().__init__(db)
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        status = await self.conn.execute(_pg_sql(sql), *params)
        tail = status.rsplit(" ", 1)[-1] if isinstance(status, str) else ""
        return int(tail) if tail.isdigit() else 0

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.conn.fetch(_pg_sql(sql), *params)]

    async def load(self, spec: TableSpec, cols: Sequence[ColumnSpec],
                   values: Sequence[tuple[np.ndarray, np.ndarray | None]], n: int,
                   append: bool) -> int:
        from seedgraph.backends.pgcopy import encode_binary

        # a type the binary encoder does not know (inet, interval, ...) arrives as text:
        # it goes through a stage and is cast to the column's type on the way in
        as_text = [c.name for c in cols if c.kind is ColumnKind.OTHER]
        names = [c.name for c in cols]
        if not append and not as_text:
            await self.conn.copy_to_table(spec.name, source=_pieces(encode_binary(values, cols)),
                                          columns=names, format="binary")
            return n
        types = dict(await self.conn.fetch(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = $1::regclass AND attname = ANY($2::text[])",
            quote(spec.name), as_text)) if as_text else {}
        stage = await self._stage(spec.name, cols, values, n, as_text=frozenset(types))
        collist = ", ".join(quote(c) for c in names)
        picked = ", ".join(f"CAST(_s.{quote(c)} AS {types[c]})" if c in types
                           else f"_s.{quote(c)}" for c in names)
        status = await self.conn.execute(
            f"INSERT INTO {quote(spec.name)} ({collist}) SELECT {picked} FROM {quote(stage)} "
            f"AS _s ORDER BY _s.{MERGE_ORDER}" + (" ON CONFLICT DO NOTHING" if append else ""))
        return int(status.rsplit(" ", 1)[-1])

    async def merge(self, spec: TableSpec, cols: Sequence[ColumnSpec],
                    values: Sequence[tuple[np.ndarray, np.ndarray | None]], n: int,
                    key: Sequence[str], *, update: bool) -> tuple[int, int]:

        stage = await self._stage(spec.name, cols, values, n)
        to_update, to_insert = merge_statements(
            spec.name, stage, cols, key, differs="IS DISTINCT FROM",
            as_text=frozenset({ColumnKind.JSON}))
        updated = await self.execute(to_update) if update and to_update else 0
        return await self.execute(to_insert), updated

    async def _stage(self, table: str, cols: Sequence[ColumnSpec],
                     values: Sequence[tuple[np.ndarray, np.ndarray | None]], n: int, *,
                     as_text: frozenset[str] = frozenset()) -> str:
        """COPY a chunk into a temporary table of its columns (those in *as_text* as
        text) plus each row's position, MERGE_ORDER; return its name. The stage has the
        table's column types but not its defaults: an id default copied into it would
        draw from the table's sequence for nothing."""
        from seedgraph.backends.pgcopy import encode_binary

        stage = f"_seedgraph_stage_{table}"[:63]
        staged = ", ".join(f"NULL::text AS {quote(c.name)}" if c.name in as_text
                           else quote(c.name) for c in cols)
        await self.conn.execute(f"DROP TABLE IF EXISTS pg_temp.{quote(stage)}")
        await self.conn.execute(f"CREATE TEMP TABLE {quote(stage)} ON COMMIT DROP AS "
                                f"SELECT {staged} FROM {quote(table)} WITH NO DATA")
        await self.conn.execute(f"ALTER TABLE {quote(stage)} ADD COLUMN {MERGE_ORDER} bigint")
        enc = [dataclasses.replace(c, kind=ColumnKind.TEXT) if c.name in as_text else c
               for c in cols]
        order = ColumnSpec(MERGE_ORDER, ColumnKind.INT8, nullable=False)
        data = encode_binary([*values, (np.arange(n, dtype=np.int64), None)], [*enc, order])
        await self.conn.copy_to_table(stage, source=_pieces(data),
                                      columns=[c.name for c in cols] + [MERGE_ORDER],
                                      format="binary")
        return stage

    def encode(self, values: Sequence[tuple[np.ndarray, np.ndarray | None]],
               cols: Sequence[ColumnSpec]) -> Any:
        from seedgraph.backends.pgcopy import encode_rows

        return encode_rows(values, cols)

    async def consume(self, table: str, columns: Sequence[str],
                      chunks: MemoryObjectReceiveStream[Any]) -> None:
        """One COPY for a whole table, fed chunk by chunk while the task generates more."""
        from seedgraph.backends.pgcopy import HEADER, TRAILER

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
        rows = await self.conn.fetch(pgcatalog.INDEXES, quote(table))
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
            await self._raise_maintenance_memory()
        return restore

    async def _raise_maintenance_memory(self) -> None:
        # index builds sort in memory when they can (the default 64MB spills a
        # million-row key to disk); SET LOCAL lasts until this transaction ends
        await self.conn.execute(
            "SELECT set_config('maintenance_work_mem', $1, true) WHERE pg_size_bytes("
            "current_setting('maintenance_work_mem')) < pg_size_bytes($1)",
            BULK_MAINTENANCE_MEM)

    async def rebuild(self, statements: Sequence[str]) -> None:
        if statements:
            await self._raise_maintenance_memory()
        await super().rebuild(statements)

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
        foreign = await self.conn.fetch(pgcatalog.FOREIGN_KEYS, quote(table))
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
        return await self._drop_foreign_keys(table, foreign)

    async def _drop_foreign_keys(self, table: str, foreign: Sequence[Any]) -> list[str]:
        """Drop *foreign* (rows of pgcatalog.FOREIGN_KEYS); the statements re-adding them."""
        restore = []
        for r in foreign:
            await self.conn.execute(
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(r['conname'])}")
            restore.append(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(r['conname'])} "
                           f"{r['def']}")
        return restore

    async def detach_foreign_keys(self, table: str) -> tuple[list[str], list[str]]:
        """Dropping a foreign key locks its parent exclusively until commit: inside the
        load's transaction, every sibling reading that parent, or loading another of
        its children, would wait for the whole load (at 100,000 images the children of
        home security's detections ran one after another). Here the lock lasts this
        short transaction. The parents are locked all at once, waiting at most
        DETACH_LOCK_WAIT for readers to finish; a parent busy longer keeps its keys."""
        if await self.conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})"):
            return [], []  # not a bulk load: its rows are checked as they come
        own = await self.conn.fetchval("SELECT $1::regclass::text", quote(table))
        foreign = [r for r in await self.conn.fetch(pgcatalog.FOREIGN_KEYS, quote(table))
                   if r["parent"] != own]  # a key to itself stays with the load
        if not foreign:
            return [], []
        parents = sorted({str(r["parent"]) for r in foreign})
        try:
            async with self.conn.transaction():  # a savepoint: a failed LOCK keeps nothing
                await self.conn.execute(
                    "SELECT set_config('lock_timeout', $1, true)", DETACH_LOCK_WAIT)
                await self.conn.execute(
                    f"LOCK TABLE {', '.join(parents)} IN ACCESS EXCLUSIVE MODE")
        except asyncpg.LockNotAvailableError:
            return [], []
        return parents, await self._drop_foreign_keys(table, foreign)

    async def attach_foreign_keys(self, parents: Sequence[str],
                                  statements: Sequence[str]) -> None:
        # the parents locked in one order by everyone re-adding keys: no deadlock
        if parents:
            await self.conn.execute(
                f"LOCK TABLE {', '.join(sorted(parents))} IN SHARE ROW EXCLUSIVE MODE")
        await super().attach_foreign_keys(parents, statements)

    async def open_unit(self, keys: Sequence[tuple[str, str]]) -> None:
        # every foreign key holding the column, a composite one too (its first column
        # names it): a placeholder there matches no parent row until it is filled in
        self._unit_restore: list[str] = []
        dropped: set[tuple[str, str]] = set()
        for table, column in keys:
            for r in await self.conn.fetch(
                    "SELECT c.conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c "
                    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
                    " WHERE c.conrelid = $1::regclass AND c.contype = 'f' AND a.attname = $2 "
                    "ORDER BY 1", quote(table), column):
                if (table, r["conname"]) in dropped:
                    continue
                dropped.add((table, r["conname"]))
                await self.conn.execute(
                    f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(r['conname'])}")
                self._unit_restore.append(f"ALTER TABLE {quote(table)} ADD CONSTRAINT "
                                          f"{quote(r['conname'])} {r['def']}")

    async def close_unit(self, tables: Sequence[str]) -> None:
        for statement in getattr(self, "_unit_restore", []):
            await self.conn.execute(statement)  # validates every row
        self._unit_restore = []

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
        for column, seq, start, step in await self.conn.fetch(pgcatalog.SEQUENCES,
                                                                 quote(spec.name)):
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


# Wide values (JSON documents, 512-float embeddings) are compressed as they are stored;
# PostgreSQL's default pglz spends seconds per 100,000 such rows even on values that do
# not compress, lz4 a fraction of that (home security at 100,000 images: the re-ID
# embeddings load in 2.8 s instead of 5.0, the entities' JSON in 0.9 s instead of 3.0).
# The values are the same either way; a server built without lz4 (before 14, or
# without --with-lz4), and a database or role whose owner chose a method, keep theirs.
_LZ4_UNSET = ("SELECT source = 'default' AND 'lz4' = ANY(enumvals) FROM pg_settings "
              "WHERE name = 'default_toast_compression'")


@register_backend
class PgDatabase(Database):
    dialect = "postgresql"
    concurrent_writers = True

    def _configure_engine(self, engine: Any) -> None:
        # reflection names the geometric types and xml (POINT, XML), not NullType + a warning
        name_text_types(engine.dialect)

    async def existing_tables(self) -> set[str]:
        names = await super().existing_tables()
        rows = await self.query(
            "SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace($1) "
            "AND relkind = 'r'", (BOOKKEEPING_SCHEMA,))
        return names | {str(r[0]) for r in rows}

    async def ensure_bookkeeping(self, metadata: sa.MetaData) -> None:
        """seedgraph's tables go in their own schema, so migration diff tools never see
        them in the user's; tables an older version made in the default schema move
        there. A role that may not create a schema keeps them in the default one."""
        schema = quote(BOOKKEEPING_SCHEMA)
        try:
            await self.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        except asyncpg.InsufficientPrivilegeError:
            await super().ensure_bookkeeping(metadata)
            return
        ours = {str(r[0]) for r in await self.query(
            "SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace($1)",
            (BOOKKEEPING_SCHEMA,))}
        public = {str(r[0]) for r in await self.query(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
            "AND relkind = 'r'")}
        async with self.transaction() as tx:
            for table in metadata.sorted_tables:
                if table.name in public and table.name not in ours:
                    await tx.execute(f"ALTER TABLE {quote(table.name)} SET SCHEMA {schema}")
                    ours.add(table.name)
        missing = [t for t in metadata.sorted_tables if t.name not in ours]
        if missing:
            async with self.engine.begin() as conn:
                await conn.run_sync(lambda c: metadata.create_all(
                    c.execution_options(schema_translate_map={None: BOOKKEEPING_SCHEMA}),
                    tables=missing))

    async def partition_roots(self) -> dict[str, str]:
        return await pgcatalog.partition_roots(self.query)

    async def partition_bounds(self) -> list[tuple[str, str, str]]:
        return await pgcatalog.partition_bounds(self.query)

    async def insert_triggers(self) -> list[tuple[str, str]]:
        return await pgcatalog.insert_triggers(self.query)

    async def domain_types(self) -> dict[str, str]:
        return await pgcatalog.domain_types(self.query)

    async def _connect(self, pool_size: int) -> None:
        assert self.url.pg_dsn is not None
        try:
            # every connection also looks in the bookkeeping schema, after the user's
            # own: set at connect time, so the pool's RESET ALL on release keeps it
            first = await asyncpg.connect(self.url.pg_dsn)
            try:
                path = await first.fetchval("SHOW search_path")
                settings = {"search_path": f"{path}, {BOOKKEEPING_SCHEMA}"}
                if await first.fetchval(_LZ4_UNSET):
                    settings["default_toast_compression"] = "lz4"
            finally:
                await first.close()
            self._pool = await asyncpg.create_pool(
                self.url.pg_dsn, min_size=1, max_size=max(2, pool_size),
                server_settings=settings)
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
            return [tuple(r) for r in await conn.fetch(_pg_sql(sql),
                                                      *map(plain_param, params))]

    async def _row_batches(self, sql: str, size: int
                           ) -> AsyncIterator[Sequence[Sequence[Any]]]:
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            async for batch in _cursor_batches(conn, sql, size):
                yield batch

    async def _read(self, spec: TableSpec, cols: list[str], fetch: Any
                    ) -> dict[str, np.ndarray]:
        """Numbers, times, UUIDs and text through COPY, decoded by numpy (see
        :mod:`seedgraph.backends.pgread`), the rest through the driver, all from one
        snapshot. A table without a primary key keeps the driver: its row order is the
        order of the columns asked for, which differs between the COPYs."""
        fixed, text, rest = pgread.split([spec.by_name[c] for c in cols])
        if fetch is not None or not spec.primary_key or not (fixed or text):
            return await super()._read(spec, cols, fetch)
        out: dict[str, np.ndarray] = {}
        async with self._pool.acquire() as conn, conn.transaction(
                isolation="repeatable_read", readonly=True):
            if fixed:
                binary = pgread.FixedReader(fixed)
                await conn.copy_from_query(
                    pgread.fixed_query(spec.name, spec.primary_key, fixed),
                    output=binary.feed, format="binary")
                decoded, left = binary.columns()
                out.update(decoded)
                rest += left
            if text:
                texts = pgread.TextReader(text)
                await conn.copy_from_query(pgread.text_query(spec.name, spec.primary_key, text),
                                           output=texts.feed)
                out.update(texts.columns())
            if rest:
                names = [c.name for c in rest]
                out.update(await self._decoded(spec, names, _cursor_batches(
                    conn, self._select_sql(spec, names), READ_ROWS)))
        return {c: out[c] for c in cols}


async def _cursor_batches(conn: asyncpg.Connection, sql: str, size: int
                          ) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """A query's rows, *size* at a time, inside the caller's transaction on *conn*."""
    cursor = await conn.cursor(sql)
    while batch := await cursor.fetch(size):
        yield batch
