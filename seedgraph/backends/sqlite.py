"""SQLite through aiosqlite: WAL, foreign keys on for every connection, one writer at
a time, multi-row INSERTs stored the way SQLAlchemy's SQLite dialect stores values, and
an flock on the database file as the run lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import aiosqlite
import anyio
import numpy as np
import sqlalchemy as sa
from anyio.streams.memory import MemoryObjectReceiveStream

from seedgraph.backends.base import Database, Tx, UniqueIndex, register_backend
from seedgraph.backends.sql import MERGE_ORDER, merge_statements
from seedgraph.backends.sqlrows import param as _param
from seedgraph.backends.sqlrows import sqlite_groups
from seedgraph.backends.url import quote
from seedgraph.columns import ColumnKind, ColumnSpec, TableSpec
from seedgraph.errors import DatabaseError, RunLockedError, UsageError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["SqliteDatabase", "SqliteTx", "sqlite_groups"]


# -- the backend ----------------------------------------------------------------


def _partial_where(sql: str) -> str | None:
    """The predicate of ``CREATE UNIQUE INDEX name ON t (cols) WHERE predicate``: the text
    after the column list, found outside quoted names and strings."""
    depth, quote_end, i = 0, "", 0
    while i < len(sql):
        ch = sql[i]
        if quote_end:
            if ch == quote_end:
                if sql[i + 1:i + 2] == quote_end and quote_end != "]":
                    i += 1  # a doubled quote inside the quotes
                else:
                    quote_end = ""
        elif ch in "'\"`[":
            quote_end = "]" if ch == "[" else ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                m = re.match(r"\s*WHERE\b(.+)", sql[i + 1:], re.IGNORECASE | re.DOTALL)
                return (m[1].strip().rstrip(";").strip() or None) if m else None
        i += 1
    return None


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
        self._per_row = False  # foreign keys checked per row (a partition), not after load
        self._unit = False  # loading the tables of a cycle: keys are checked at its end
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

    async def merge(self, spec: TableSpec, cols: Sequence[ColumnSpec],
                    values: Sequence[tuple[np.ndarray, np.ndarray | None]], n: int,
                    key: Sequence[str], *, update: bool) -> tuple[int, int]:
        stage = f"_seedgraph_merge_{spec.name}"
        names = ", ".join(quote(c.name) for c in cols)
        await self.execute(f"DROP TABLE IF EXISTS temp.{quote(stage)}")
        await self.execute(f"CREATE TEMP TABLE {quote(stage)} AS SELECT {names} "
                           f"FROM main.{quote(spec.name)} WHERE 0")
        await self.execute(f"ALTER TABLE temp.{quote(stage)} ADD COLUMN {MERGE_ORDER} INTEGER")
        order = ColumnSpec(MERGE_ORDER, ColumnKind.INT8, nullable=False)
        staged = [*cols, order]
        await self._insert("INSERT", stage, [c.name for c in staged],
                           self.encode([*values, (np.arange(n, dtype=np.int64), None)], staged))
        to_update, to_insert = merge_statements(spec.name, stage, cols, key, differs="IS NOT")
        updated = await self.execute(to_update) if update and to_update else 0
        inserted = await self.execute(to_insert)
        await self.execute(f"DROP TABLE temp.{quote(stage)}")
        return inserted, updated

    def encode(self, values: Sequence[tuple[np.ndarray, np.ndarray | None]],
               cols: Sequence[ColumnSpec]) -> Any:
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
        if not self._began and not self._per_row:
            # a bulk load checks its foreign keys once, in after_load, instead of per row
            await _run(self.conn, "PRAGMA foreign_keys=OFF")
            self._deferred_fk = True
        await self._begin()
        async with chunks:
            async for groups in chunks:
                await self._insert("INSERT", table, columns, groups)

    async def open_unit(self, keys: Sequence[tuple[str, str]]) -> None:
        # no row is checked until close_unit (foreign_keys can only change outside a
        # transaction, and this one has not begun: the unit opens it)
        assert not self._began, "open_unit must come first in its transaction"
        await _run(self.conn, "PRAGMA foreign_keys=OFF")
        self._deferred_fk = True
        self._unit = True

    async def close_unit(self, tables: Sequence[str]) -> None:
        self._unit = False
        for table in tables:
            await self._check_foreign_keys(table)

    async def empty(self, tables: Sequence[str]) -> None:
        # tables that refer to each other (a cycle) empty in any order: keys are checked
        # when the transaction commits
        await self.execute("PRAGMA defer_foreign_keys = ON")
        await super().empty(tables)

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

    def check_keys_per_row(self) -> None:
        self._per_row = True

    async def after_load(self, spec: TableSpec) -> None:
        if not self._deferred_fk or self._unit:
            return
        await self._check_foreign_keys(spec.name)

    async def _check_foreign_keys(self, name: str) -> None:
        bad = await self.fetch(f"PRAGMA foreign_key_check({quote(name)})")
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


@register_backend
class SqliteDatabase(Database):
    dialect = "sqlite"

    def _configure_engine(self, engine: AsyncEngine) -> None:
        @sa.event.listens_for(engine.sync_engine, "connect")
        def _fk_on(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

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
            conn = await aiosqlite.connect(self._target, isolation_level=None,
                                           timeout=self.lock_timeout)
        except Exception as exc:
            raise DatabaseError(f"cannot open {self.url.display}: {exc}") from exc
        try:
            for pragma in (*first, "foreign_keys=ON", "synchronous=NORMAL",
                           f"busy_timeout={int(self.lock_timeout * 1000)}"):
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

    async def _held_by_another_program(self) -> bool:
        """Whether another connection holds the file's write lock right now."""
        conn = await aiosqlite.connect(self._target, isolation_level=None, timeout=0)
        try:
            await _run(conn, "PRAGMA busy_timeout=0")
            await _run(conn, "BEGIN IMMEDIATE")
            await _run(conn, "ROLLBACK")
        except sqlite3.OperationalError as exc:
            return "locked" in str(exc) or "busy" in str(exc)
        finally:
            await conn.close()
        return False

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
            if await self._held_by_another_program():
                # said once, up front: SQLite itself waits without a word
                print(f"waiting up to {self.lock_timeout:g} s for another program to release "
                      f"{self.url.sqlite_path} (--lock-timeout changes how long)",
                      file=sys.stderr, flush=True)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    tx_class: type[SqliteTx] = SqliteTx

    async def _tx_conn(self) -> Any:
        """The connection a new transaction runs on (its own; the memory backend shares one)."""
        return await self._new_conn()

    async def _release(self, conn: Any) -> None:
        await conn.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        conn = await self._tx_conn()
        tx = self.tx_class(self, conn)
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
                await self._release(conn)

    async def foreign_key_violations(self, table: str
                                     ) -> tuple[str, list[tuple[Any, ...]]] | None:
        # SQLite enforces keys only while foreign_keys is on: rows loaded otherwise
        return "PRAGMA foreign_key_check", await self.query(
            f"PRAGMA foreign_key_check({quote(table)})")

    async def changed_rows(self, table: str, markers: Sequence[str]) -> int | None:
        # replaced or added rows; an UPDATE keeps its rowid, so SQLite cannot see edits
        try:
            rows = await self.query(f"SELECT COUNT(*) FROM {quote(table)} WHERE rowid > ?",
                                    (max(int(m) for m in markers),))
        except (sqlite3.OperationalError, ValueError):
            return None
        return int(rows[0][0])

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._reader.execute(sql, tuple(map(_param, params))) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    async def unique_indexes(self) -> list[UniqueIndex]:
        # SQLAlchemy finds UNIQUE constraints by parsing the CREATE TABLE text, and misses
        # some (an inline UNIQUE after VARCHAR(8)); SQLite's own list is complete. The
        # PRAGMAs as table-valued functions take every name as a value, never as SQL.
        rows = await self.query(
            "SELECT m.name, il.name, il.origin, il.partial, ii.name, x.sql "
            "FROM main.sqlite_master m "
            "JOIN pragma_index_list(m.name, 'main') il "
            "JOIN pragma_index_info(il.name, 'main') ii "
            "LEFT JOIN main.sqlite_master x ON x.type = 'index' AND x.name = il.name "
            "WHERE m.type = 'table' AND il.\"unique\" = 1 AND il.origin IN ('u', 'c') "
            "ORDER BY m.name, il.name, ii.seqno")
        found: dict[tuple[str, str], list[Any]] = {}
        for table, index, origin, partial, column, sql in rows:
            entry = found.setdefault((table, index), [origin, partial, sql, []])
            entry[3].append(column)
        out = []
        for (table, index), (origin, partial, sql, columns) in found.items():
            where = _partial_where(str(sql or "")) if partial else None
            # an expression (NULL name) or a predicate it cannot read: not a column set
            if None in columns or (partial and where is None):
                continue
            out.append(UniqueIndex(table, index, tuple(columns), origin == "u", where))
        return out

    async def _row_batches(self, sql: str, size: int
                           ) -> AsyncIterator[Sequence[Sequence[Any]]]:
        async with self._reader.execute(sql) as cur:
            while batch := await cur.fetchmany(size):
                yield list(batch)

