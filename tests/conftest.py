"""Shared fixtures: a real PostgreSQL server for the session, a fresh database per test.

Every test that takes ``db_url`` runs twice: on an SQLite file and on a new
PostgreSQL database. Under ``CI=true`` a PostgreSQL that cannot be started is a
failure, never a skip.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.pgserver import PgServer, PgUnavailable, start_server

REPO = Path(__file__).resolve().parent.parent


class PgDatabases:
    """Hands out fresh databases on one server."""

    def __init__(self, admin_dsn: str, server: PgServer | None) -> None:
        self.admin_dsn = admin_dsn
        self.server = server
        self._n = itertools.count()

    def new(self) -> str:
        name = f"sg_test_{os.getpid()}_{next(self._n)}"

        async def create() -> None:
            conn = await asyncpg.connect(self.admin_dsn)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        base = self.admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return f"{base}/{name}"


@pytest.fixture(scope="session")
def pg() -> Iterator[PgDatabases]:
    external = os.environ.get("SEEDGRAPH_TEST_PG_URL")
    if external:
        yield PgDatabases(external.replace("postgresql+asyncpg://", "postgresql://"), None)
        return
    try:
        server = start_server()
    except PgUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        yield PgDatabases(server.admin_url, server)
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    pg: PgDatabases = request.getfixturevalue("pg")
    return pg.new()


@pytest.fixture
def pg_url(pg: PgDatabases) -> str:
    """A fresh PostgreSQL database URL (for PostgreSQL-only tests)."""
    return pg.new()


@pytest.fixture
def another_db(db_url: str, tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A factory of further fresh databases of the same kind as ``db_url``."""
    counter = itertools.count()

    def make() -> str:
        if db_url.startswith("sqlite"):
            return f"sqlite+aiosqlite:///{tmp_path / f'other{next(counter)}.db'}"
        pgdbs: PgDatabases = request.getfixturevalue("pg")
        return pgdbs.new()

    return make
