"""An in-memory database for unit tests of the runner: ``memory://``.

A private SQLite ``:memory:`` database on one :mod:`sqlite3` connection per
:class:`MemoryDatabase`, used synchronously from the event loop (no threads, no files).
It is the SQLite backend (:mod:`~seedgraph.backends.sqlite`: the same inserts, merges,
encoders and bookkeeping SQL, and the ``sqlite`` dialect for values) over that one
connection, so the runner runs unchanged. What differs from a file:

* transactions take turns on the one connection (SQLite's backend already lets one
  writer at a time in); a read outside a transaction (:meth:`Database.query`) sees the
  rows of a transaction still open, where a file's reader sees committed rows only;
* foreign keys are checked row by row (the file backend switches them off for a bulk
  load and checks the table before commit: on a shared connection that would last);
* the run lock holds within the process, which is all that can see the database;
* the data is gone when the database is closed.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import sqlalchemy as sa
from anyio.streams.memory import MemoryObjectReceiveStream
from sqlalchemy.pool import StaticPool

from seedgraph.backends.base import BACKENDS
from seedgraph.backends.sqlite import SqliteDatabase, SqliteTx
from seedgraph.errors import RunLockedError

if TYPE_CHECKING:
    import aiosqlite
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["SCHEME", "MemoryDatabase", "MemoryTx"]

SCHEME = "memory"  # the URL: memory:// (see seedgraph.backends.url.parse_url)

_T = TypeVar("_T")


# -- aiosqlite's calls, run synchronously on one sqlite3 connection ---------------


class _Cursor:
    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    async def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    async def fetchmany(self, size: int) -> list[Any]:
        return self._cur.fetchmany(size)

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cur.close()


class _Connection:
    """The part of :class:`aiosqlite.Connection` the SQLite backend calls; the database
    closes the connection itself, so ``close`` leaves it open."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        return _Cursor(self._conn.execute(sql, params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    @property
    def total_changes(self) -> int:
        return self._conn.total_changes

    async def close(self) -> None:
        return None  # shared: closed with the database


# -- SQLAlchemy's schema work on the same connection ------------------------------


class _SyncConnection:
    """What the base class calls on an async SQLAlchemy connection: ``run_sync``."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    async def run_sync(self, fn: Callable[..., _T], *args: Any) -> _T:
        return fn(self._conn, *args)


class _NoTransactionControl:
    """The sqlite3 connection as SQLAlchemy sees it, with ``commit`` and ``rollback``
    doing nothing: a read through SQLAlchemy (reflection, a schema check) while a task's
    transaction is open on the connection must not end that transaction. Statements
    outside a transaction commit on their own (``isolation_level=None``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None


class _SchemaEngine:
    """A synchronous engine on the database's connection, behind the async calls the
    base class makes (``connect``, ``begin``, ``dispose``). Reads go straight through
    (a task may read a table it has not seen yet while its transaction is open); schema
    changes wait for the write lock, or they would join a task's open transaction."""

    def __init__(self, conn: sqlite3.Connection, lock: anyio.Semaphore) -> None:
        shown = cast("DBAPIConnection", _NoTransactionControl(conn))
        self._engine = sa.create_engine("sqlite://", creator=lambda: shown,
                                        poolclass=StaticPool)
        self._lock = lock

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[_SyncConnection]:
        with self._engine.connect() as conn:
            yield _SyncConnection(conn)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[_SyncConnection]:
        async with self._lock:
            with self._engine.begin() as conn:
                yield _SyncConnection(conn)

    async def dispose(self) -> None:
        self._engine.dispose(close=False)  # the database closes its connection itself


# -- the backend -------------------------------------------------------------------


class MemoryTx(SqliteTx):
    async def consume(self, table: str, columns: Sequence[str],
                      chunks: MemoryObjectReceiveStream[Any]) -> None:
        # begun first, so the SQLite backend does not switch foreign keys off for the
        # load: on the shared connection they would stay off for the next transaction
        await self._begin()
        await super().consume(table, columns, chunks)

    async def open_unit(self, keys: Sequence[tuple[str, str]]) -> None:
        # as above: keys stay on, checked when the transaction commits, and by
        # close_unit before that
        await self.execute("PRAGMA defer_foreign_keys = ON")
        self._unit = True


class MemoryDatabase(SqliteDatabase):
    """``memory://``: a private in-memory SQLite database (see the module's notes)."""

    async def _connect(self, pool_size: int) -> None:
        self.write_lock = anyio.Semaphore(1)
        self._raw = sqlite3.connect(":memory:", isolation_level=None)
        self._raw.execute("PRAGMA foreign_keys=ON")
        # stands in for aiosqlite.Connection: the same calls, run synchronously
        self._conn = cast("aiosqlite.Connection", _Connection(self._raw))
        self._reader = self._conn
        self._schema = _SchemaEngine(self._raw, self.write_lock)
        self._locked = False

    @property
    def engine(self) -> AsyncEngine:
        # the base class's schema work (create, drop, reflect, check) through SQLAlchemy
        return cast("AsyncEngine", self._schema)

    async def close(self) -> None:
        await self._schema.dispose()
        self._raw.close()

    @contextlib.asynccontextmanager
    async def run_lock(self) -> AsyncIterator[None]:
        if self._locked:
            raise RunLockedError(self.url.display)
        self._locked = True
        try:
            yield
        finally:
            self._locked = False

    tx_class = MemoryTx

    async def _tx_conn(self) -> Any:
        return self._conn  # the one in-memory database: shared, never closed here

    async def _release(self, conn: Any) -> None:
        return None


# keyed by the URL's scheme: the class speaks SQLite's dialect (``dialect = "sqlite"``),
# which register_backend would take as the key, replacing the file backend
BACKENDS[SCHEME] = MemoryDatabase
