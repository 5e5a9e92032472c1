"""A command's session: its options, the pack and graph they name, the database URL,
and the one way to open that database (:func:`connect`).

Every command starts here; :mod:`seedgraph.api` holds the operations themselves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from seedgraph.auto import auto_pack
from seedgraph.backends import DEFAULT_URL, Database, DbUrl, parse_url
from seedgraph.backends.base import LOCK_TIMEOUT
from seedgraph.config import Config, Settings, load_config
from seedgraph.errors import DatabaseError, SafetyError, UsageError, did_you_mean
from seedgraph.graph import build_graph
from seedgraph.pack import Pack, load_pack
from seedgraph.selector import select
from seedgraph.task import Profile

__all__ = [
    "DEFAULT_SEED",
    "PRODUCTION_NAMES",
    "Options",
    "Session",
    "check_production",
    "connect",
    "ensure_schema",
    "open_db",
    "open_session",
    "production_env",
    "profile_for",
    "select_tables",
]

DEFAULT_SEED = 42
# values of SEEDGRAPH_ENV / APP_ENV that mean production (compared trimmed, case-folded)
PRODUCTION_NAMES = frozenset({"production", "prod", "prd", "live"})


@dataclass(frozen=True, slots=True)
class Options(Settings):
    """Everything a command may be told: the shared settings, plus what only a command
    says; None means "not given"."""

    config: Path | None = None
    sets: Mapping[str, Any] = field(default_factory=dict)
    only: str | None = None
    exclude: str | None = None
    resume: bool = False
    force: bool = False
    append: bool = False
    fail_fast: bool = False
    confirm: bool = False
    allow_production: bool = False
    lock_timeout: float | None = None  # seconds to wait for another program's lock
    executor: str | None = None  # where partitions run: local, processes, dask://host:port
    config_auto: bool = True  # False: ignore `auto = true` in the config (schema create/drop)


@dataclass(frozen=True, slots=True)
class Session:
    """A loaded pack, its graph, the config and the database URL."""

    config: Config
    pack: Pack
    graph: nx.DiGraph
    url: DbUrl
    lock_timeout: float = LOCK_TIMEOUT


def open_session(options: Options) -> Session:
    config = load_config(options.config)
    pack_ref = options.pack or config.pack
    auto = options.auto or (config.auto and options.config_auto)
    if pack_ref is None and not auto:
        raise UsageError(
            "no pack given; pass --pack PATH (e.g. --pack tasks/home_security), or --auto "
            "to seed the database's own tables with no code, or set pack = \"...\" in "
            "seedgraph.toml or [tool.seedgraph] in pyproject.toml"
        )
    raw = options.db or os.environ.get("SEEDGRAPH_DATABASE_URL") or config.db or DEFAULT_URL
    url = parse_url(raw)
    base = Path.cwd() if options.pack else config.base_dir
    pack = load_pack(pack_ref, base) if pack_ref is not None else None
    if config.columns and not auto:
        raise UsageError(f"config {config.source}: [columns] overrides what --auto infers; "
                         "add --auto (or auto = true in the config)")
    if auto:
        pack = auto_pack(url, pack, config.columns)
    assert pack is not None
    if config.data:
        pack = with_data_files(pack, config.data, config.source)
    graph = build_graph(list(pack.tasks.values()), pack.foreign_keys(),
                        [(k.child, k.parent) for k in pack.cycle_keys])
    lock_timeout = LOCK_TIMEOUT if options.lock_timeout is None else options.lock_timeout
    if not 0 <= lock_timeout <= 86_400:
        raise UsageError(f"--lock-timeout must be from 0 to 86400 seconds, got {lock_timeout}")
    return Session(config=config, pack=pack, graph=graph, url=url, lock_timeout=lock_timeout)


def with_data_files(pack: Pack, files: Mapping[str, str], source: Path | None) -> Pack:
    """*pack* with its data files replaced as the config's ``data`` says (a name the
    pack does not use is an error, so a typo never seeds the pack's own rows)."""
    used = sorted({Path(t.data).name for t in pack.tasks.values() if t.data is not None})
    if not used:
        raise UsageError(f"config {source}: 'data' replaces a pack's data files, but pack "
                         f"'{pack.name}' reads none")
    if "" in files:
        if len(used) > 1:
            raise UsageError(f"config {source}: pack '{pack.name}' reads several data files "
                             f"({', '.join(used)}); name the one to replace, e.g. "
                             f"data = {{\"{used[0]}\" = \"my_{used[0]}\"}}")
        files = {used[0]: files[""]}
    for name in files:
        if name not in used:
            raise UsageError(f"config {source}: pack '{pack.name}' has no data file "
                             f"'{name}'.{did_you_mean(name, used)} Its data files: "
                             f"{', '.join(used)}")
    tasks = {n: (dataclasses.replace(t, data=files[Path(t.data).name])
                 if t.data is not None and Path(t.data).name in files else t)
             for n, t in pack.tasks.items()}
    return dataclasses.replace(pack, tasks=tasks)


def select_tables(session: Session, only: str | None, exclude: str | None) -> frozenset[str]:
    """The tables a selection names; an empty selection is a usage error (exit 2)."""
    selected = select(session.graph, only, exclude)
    if not selected:
        raise UsageError(
            f"the selection (--only {only!r} --exclude {exclude!r}) is empty; "
            "see `seedgraph list` for the tasks")
    return selected


def production_env() -> str | None:
    """``VAR=value`` of the environment variable that marks this as production, if any."""
    for var in ("SEEDGRAPH_ENV", "APP_ENV"):
        env = os.environ.get(var, "").strip()
        if env.casefold() in PRODUCTION_NAMES:
            return f"{var}={env}"
    return None


def check_production(options: Options, action: str) -> None:
    """Destructive commands refuse in production unless --allow-production is given."""
    marked = production_env()
    if marked is not None and not options.allow_production:
        raise SafetyError(
            f"refusing to {action}: {marked}. This looks like "
            "production; if you really mean it, add --allow-production"
        )


def profile_for(session: Session, name: str) -> Profile:
    cfg = session.config.profiles.get(name)
    if cfg is None:
        return session.pack.profile(name)
    body = dict(cfg)
    base = session.pack.profile(str(body.pop("extends"))) if "extends" in body else Profile(name)
    params = dict(base.params)
    params.update(body.pop("params", {}) or {})
    only = body.pop("only", base.only)
    exclude = body.pop("exclude", base.exclude)
    for key, value in (("only", only), ("exclude", exclude)):
        if value is not None and not isinstance(value, str):
            raise UsageError(f"profile '{name}' in {session.config.source}: '{key}' must be a "
                             f"selector string such as \"tag:facts\", got {value!r}")
    description = str(body.pop("description", base.description))
    if body:
        if session.pack.config_params is None:
            raise UsageError(
                f"profile '{name}' in {session.config.source}: unknown key(s) "
                f"{', '.join(sorted(body))}; use only, exclude, extends, description, params"
            )
        params.update(session.pack.config_params(body))
    return Profile(name, description, only, exclude, params)


async def open_db(session: Session, concurrency: int = 4, *,
                  read_only: bool = False) -> Database:
    """Open the session's database; *read_only* commands never create an SQLite file."""
    if read_only and session.url.missing_file:
        raise DatabaseError(
            f"no database at {session.url.sqlite_path}; check --db (or "
            "SEEDGRAPH_DATABASE_URL), or seed one first with `seedgraph run`")
    db = await Database.open(session.url, pool_size=concurrency + 2,
                             lock_timeout=session.lock_timeout)
    db.register(session.pack.metadata)
    return db


async def ensure_schema(session: Session, db: Database, *, create: bool = True) -> list[str]:
    """Check the pack's tables that exist against its schema; with *create*, create the
    missing ones."""
    md = session.pack.metadata
    if md is None:
        return []
    names = sorted(md.tables)  # create_all orders them; a cycle must not warn here
    await db.check_schema(md, names)
    return await db.create_missing(md, names) if create else []


@contextlib.asynccontextmanager
async def connect(session: Session, concurrency: int = 4, *,
                  read_only: bool = False) -> AsyncIterator[Database]:
    """The session's database, open for the block and closed after it, whatever happens."""
    db = await open_db(session, concurrency, read_only=read_only)
    try:
        yield db
    finally:
        await db.close()
