"""Driver errors that reach the top, translated in one place into one actionable line."""

from __future__ import annotations

import sqlite3

import asyncpg

__all__ = ["explain_driver_error"]


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
            return (f"the SQLite database is locked by another program ({text}) and stayed "
                    "locked for --lock-timeout seconds; close that program, or wait longer "
                    "with --lock-timeout SECONDS")
    return None
