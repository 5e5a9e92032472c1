"""Database URLs: parsing, the default, hiding passwords, quoting identifiers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from seedgraph.errors import UsageError

__all__ = ["DEFAULT_URL", "DbUrl", "config_url", "mask_url", "parse_url", "quote"]

DEFAULT_URL = "sqlite+aiosqlite:///seedgraph.db"


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
    """Accept ``postgresql://``, ``postgresql+asyncpg://``, ``sqlite:///`` and ``sqlite+aiosqlite:///``
    (and ``memory://``, the in-memory database unit tests use)."""
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
    if backend == "memory":  # a private in-memory database for tests (backends/memory.py)
        return DbUrl("memory://", "memory", "memory://")
    raise UsageError(
        f"database '{backend}' is not supported; use sqlite:///FILE or postgresql://HOST/DB"
    )


def config_url(url: DbUrl) -> str | None:
    """*url* as the config file should hold it: SQLite by absolute path, PostgreSQL
    only when it holds no password (a password never lands in a file we write)."""
    if url.sqlite_path is not None:
        return f"sqlite:///{url.sqlite_path}"
    parsed = make_url(url.url)
    if parsed.password is not None or mask_url(url.url) != url.url:
        return None
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)
