"""Database access: URLs, connections, the run lock, schema creation and checks, raw reads.

Two backends share one small interface (:mod:`seedgraph.backends.base`): PostgreSQL
through asyncpg (bulk loads with binary COPY, :mod:`~seedgraph.backends.postgres`) and
SQLite through aiosqlite (WAL, foreign keys on for every connection,
:mod:`~seedgraph.backends.sqlite`). SQLAlchemy is used for DDL and reflection only.
Importing this package registers both backends with :meth:`Database.open`.
"""

from __future__ import annotations

from seedgraph.backends import memory, postgres, sqlite  # noqa: F401  (they register themselves)
from seedgraph.backends.base import Database, Tx
from seedgraph.backends.errors import explain_driver_error
from seedgraph.backends.url import DEFAULT_URL, DbUrl, mask_url, parse_url, quote

__all__ = [
    "DEFAULT_URL",
    "Database",
    "DbUrl",
    "Tx",
    "explain_driver_error",
    "mask_url",
    "parse_url",
    "quote",
]
