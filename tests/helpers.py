"""Test helpers: run the engine in-process or the CLI in a subprocess; checksum tables."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from seedgraph import api
from seedgraph.backends import Database, parse_url, quote
from seedgraph.events import Event
from seedgraph.runner import RunResult

REPO = Path(__file__).resolve().parent.parent
MINI = str(REPO / "tests" / "packs" / "mini")
AS_OF = "2026-01-15"


def run_engine(db_url: str, *, pack: str = MINI, events: list[Event] | None = None,
               **kwargs: Any) -> RunResult:
    sets = kwargs.pop("sets", {})
    kwargs.setdefault("seed", 7)
    kwargs.setdefault("as_of", AS_OF)
    if kwargs.get("resume"):
        kwargs.pop("seed")
        kwargs.pop("as_of")
    options = api.Options(pack=pack, db=db_url, sets=sets, **kwargs)
    sink = events.append if events is not None else (lambda e: None)
    return anyio.run(lambda: api.run(options, sink, handle_signals=False))


def cli(*args: str, env: Mapping[str, str] | None = None, cwd: Path = REPO,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SEEDGRAPH_", "MINI_"))}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "seedgraph", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=timeout)


async def _query(db_url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    db = await Database.open(parse_url(db_url))
    try:
        return await db.query(sql, params)
    finally:
        await db.close()


def query(db_url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return anyio.run(_query, db_url, sql, params)


def execute(db_url: str, sql: str, params: Sequence[Any] = ()) -> None:
    async def go() -> None:
        db = await Database.open(parse_url(db_url))
        try:
            await db.execute(sql, params)
        finally:
            await db.close()

    anyio.run(go)


def checksums(db_url: str, tables: Sequence[str]) -> dict[str, str]:
    """A digest of each table's full contents, ordered by every column."""

    async def go() -> dict[str, str]:
        db = await Database.open(parse_url(db_url))
        try:
            out = {}
            for t in tables:
                rows = await db.query(f"SELECT * FROM {quote(t)}")
                h = hashlib.sha256()
                for r in sorted(repr(x) for x in rows):
                    h.update(r.encode())
                out[t] = f"{len(rows)}:{h.hexdigest()[:16]}"
            return out
        finally:
            await db.close()

    return anyio.run(go)


MINI_TABLES = ["regions", "customers", "products", "orders", "order_items", "shipments",
               "audit_notes"]


def naive(t: Any) -> datetime:
    """A timestamp as read back (aware on PostgreSQL, naive on SQLite) as naive UTC."""
    t = datetime.fromisoformat(t) if isinstance(t, str) else t
    assert isinstance(t, datetime)
    return t.replace(tzinfo=None)


def seeded_once(request: Any, tmp_path_factory: Any, name: str, **run: Any) -> str:
    """A database of the fixture's kind (``request.param``: sqlite or postgresql) seeded
    with *run* (``run_engine``'s arguments), for a module-scoped fixture to share."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp(name) / f'{name}.db'}"
    else:
        url = request.getfixturevalue("pg").new()
    result = run_engine(url, **run)
    assert result.status == "done", [o for o in result.outcomes if o.status != "done"]
    return url
