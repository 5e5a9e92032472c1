"""Where the pytest plugin's template databases and their copies live: databases on one
PostgreSQL server (``CREATE DATABASE copy TEMPLATE template``) or files in one SQLite
directory (a file copy).

:mod:`seedgraph.pytest_plugin` imports this module the first time a test asks for a
seedgraph fixture, never when pytest loads the plugin; it imports nothing heavy itself
either (asyncpg, SQLAlchemy and seedgraph's engine load inside the methods)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pytest

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["Backend", "Loop", "Postgres", "Sqlite", "open_backend"]

_T = TypeVar("_T")


class Backend(Protocol):
    prefetch: bool  # copies are slow: make the next one while the current test runs

    def url_for(self, name: str) -> str: ...
    def create_empty(self, name: str) -> None: ...
    def after_seeding(self, name: str) -> None: ...
    def copy(self, template: str, name: str) -> None: ...
    def copy_later(self, template: str, name: str) -> Future[None]: ...
    def drop(self, name: str) -> None: ...
    def drop_later(self, name: str) -> Future[None]: ...
    def close(self) -> None: ...


class Loop:
    """An asyncio event loop on its own thread: the plugin's async work runs there, so it
    works the same whether or not the calling test thread runs a loop of its own."""

    def __init__(self) -> None:
        import asyncio

        self._asyncio = asyncio
        self._loop: asyncio.AbstractEventLoop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name="seedgraph-pytest", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return self.submit(coro).result()

    def submit(self, coro: Coroutine[Any, Any, _T]) -> Future[_T]:
        return self._asyncio.run_coroutine_threadsafe(coro, self._loop)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Postgres:
    """Templates and copies as databases on one server, through one admin connection.
    ``CREATE DATABASE`` takes a fixed ~0.1-0.3 s whatever the data (it copies the
    catalog too), so the next copy is made while the current test runs."""

    prefetch = True

    def __init__(self, url: str, loop: Loop) -> None:
        import asyncio

        from seedgraph.backends import parse_url
        from seedgraph.errors import UsageError

        try:
            parsed = parse_url(url)
        except UsageError as exc:
            raise pytest.UsageError(f"seedgraph: seedgraph_url: {exc}") from None
        assert parsed.pg_dsn is not None
        self.display = parsed.display
        self._dsn = parsed.pg_dsn
        self._async_url = parsed.url
        self._loop = loop
        self._lock = asyncio.Lock()  # one statement at a time on the one connection
        self._conn: Any = loop.run(self._connect())
        version: int = self._conn.get_server_version().major
        self._force = " WITH (FORCE)" if version >= 13 else ""

    async def _connect(self) -> Any:
        import asyncpg

        try:
            return await asyncpg.connect(self._dsn)
        except Exception as exc:
            # the message may hold the DSN; name the masked URL instead
            raise pytest.UsageError(
                f"seedgraph: cannot connect to {self.display} (seedgraph_url / "
                f"--seedgraph-url): {type(exc).__name__}") from None

    def url_for(self, name: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self._async_url).set(database=name).render_as_string(
            hide_password=False)

    async def _do(self, sql: str) -> None:
        async with self._lock:
            await self._conn.execute(sql)

    def _exec(self, sql: str) -> None:
        self._loop.run(self._do(sql))

    def create_empty(self, name: str) -> None:
        self._exec(f"DROP DATABASE IF EXISTS {_quote(name)}{self._force}")
        self._exec(f"CREATE DATABASE {_quote(name)}")

    def after_seeding(self, name: str) -> None:
        async def settle() -> None:
            import asyncio

            # the run closed its pool; the server ends those backends a moment later, and
            # CREATE DATABASE ... TEMPLATE refuses a template anyone is connected to
            deadline = time.monotonic() + 10
            while await self._conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name):
                if time.monotonic() > deadline:
                    raise pytest.UsageError(
                        f"seedgraph: template database {name} still has connections 10 s "
                        "after seeding")
                await asyncio.sleep(0.01)
            # nobody may connect to it from now on: a connection would break every copy
            await self._do(f"ALTER DATABASE {_quote(name)} ALLOW_CONNECTIONS false")

        self._loop.run(settle())

    def copy(self, template: str, name: str) -> None:
        self._exec(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(template)}")

    def copy_later(self, template: str, name: str) -> Future[None]:
        return self._loop.submit(
            self._do(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(template)}"))

    def drop(self, name: str) -> None:
        self._exec(f"DROP DATABASE IF EXISTS {_quote(name)}{self._force}")

    def drop_later(self, name: str) -> Future[None]:
        return self._loop.submit(self._do(f"DROP DATABASE IF EXISTS {_quote(name)}{self._force}"))

    def close(self) -> None:
        self._loop.run(self._conn.close())


class Sqlite:
    """Templates and copies as files in one directory."""

    prefetch = False  # a file copy takes about a millisecond

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.display = f"sqlite:///{directory}"

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.db"

    def url_for(self, name: str) -> str:
        return f"sqlite+aiosqlite:///{self._path(name)}"

    def create_empty(self, name: str) -> None:
        self.drop(name)

    def after_seeding(self, name: str) -> None:
        import sqlite3

        # fold the WAL into the file and leave WAL mode: the file alone is the database,
        # so a plain file copy is complete and opening a copy needs no -wal/-shm
        conn = sqlite3.connect(self._path(name), isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()

    def copy(self, template: str, name: str) -> None:
        import shutil

        shutil.copyfile(self._path(template), self._path(name))

    def copy_later(self, template: str, name: str) -> Future[None]:
        raise NotImplementedError

    def drop_later(self, name: str) -> Future[None]:
        raise NotImplementedError

    def drop(self, name: str) -> None:
        base = self._path(name)
        for path in (base, *(base.with_name(base.name + s) for s in ("-wal", "-shm",
                                                                     "-journal"))):
            path.unlink(missing_ok=True)

    def close(self) -> None:
        pass


def open_backend(raw: str, rootpath: Path, tmp: Callable[[], Path],
                 loop: Callable[[], Loop]) -> Backend:
    """The backend *raw* (``seedgraph_url``) names: PostgreSQL through *loop*, or SQLite in
    *tmp* (``sqlite``) or in a directory (relative to *rootpath*)."""
    if raw.startswith(("postgresql", "postgres:")):
        return Postgres(raw, loop())
    if raw in ("", "sqlite", "sqlite:", "sqlite://"):  # the default: SQLite in a tmp dir
        return Sqlite(tmp())
    if raw.startswith(("sqlite:///", "sqlite+aiosqlite:///")):
        directory = Path(raw.split(":///", 1)[1])
        if not directory.is_absolute():
            directory = rootpath / directory
        return Sqlite(directory)
    from seedgraph.backends.url import mask_url

    raise pytest.UsageError(
        f"seedgraph: seedgraph_url {mask_url(raw)!r} is neither a PostgreSQL URL "
        "(postgresql://user@host:5432/postgres) nor sqlite or sqlite:///DIRECTORY")
