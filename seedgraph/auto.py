"""``--auto``: a pack inferred from the live database, merged under the user's pack.

The inferred modules are imported from memory (their text registered with
:mod:`linecache`, so a task's code digest is computed exactly as for a pack on
disk, and ``seedgraph init`` writing the same text gives the same fingerprints).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import linecache
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
from sqlalchemy.engine import make_url

from seedgraph.backends import Database, DbUrl
from seedgraph.backends.reflect import LiveSchema, reflect_schema
from seedgraph.backends.url import config_url
from seedgraph.errors import DatabaseError, UsageError
from seedgraph.infer import Inferred, infer_pack
from seedgraph.pack import Pack
from seedgraph.task import TaskDef

__all__ = ["InitResult", "auto_pack", "import_sources", "read_schema", "write_pack"]

AUTO_REF = "auto"


def read_schema(url: DbUrl, command: str = "--auto") -> LiveSchema:
    """Reflect the database behind *url*, which must hold tables (*command* names who
    asks, in the error); callable from sync code and from inside a running event loop
    (it runs on its own loop in a worker thread)."""
    if url.missing_file:
        raise DatabaseError(
            f"{command} reads the tables of an existing database, and there is none at "
            f"{url.sqlite_path}; create the schema first (your migrations), or check --db")

    async def go() -> LiveSchema:
        db = await Database.open(url, pool_size=1)
        try:
            return await reflect_schema(db)
        finally:
            await db.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        schema = pool.submit(anyio.run, go).result()
    if not schema.metadata.tables:
        raise UsageError(
            f"{command} found no tables in {url.display}; create them first (run your "
            "migrations), or use a pack that ships a schema (--pack tasks/retail)")
    return schema


def auto_pack(url: DbUrl, base: Pack | None, columns: Mapping[str, Any] | None = None) -> Pack:
    """*base*'s tasks, plus an inferred task for every other table of the database
    (*columns*: the config's per-column overrides)."""
    schema = read_schema(url)
    inferred = infer_pack(schema, skip=base.tasks if base else (), columns=columns)
    tasks = _tasks(inferred)
    if base is None:
        return Pack(name=AUTO_REF, ref=AUTO_REF, tasks=dict(sorted(tasks.items())),
                    metadata=schema.metadata, problems=inferred.problems, nulled=inferred.nulled,
                    cycle_keys=inferred.cycle_keys)
    metadata = schema.metadata
    if base.metadata is not None:  # the pack's tables not created yet
        for t in base.metadata.sorted_tables:
            if t.name not in metadata.tables:
                t.to_metadata(metadata)
    return replace(base, tasks=dict(sorted({**tasks, **base.tasks}.items())),
                   metadata=metadata, problems=inferred.problems, nulled=inferred.nulled,
                   cycle_keys=inferred.cycle_keys)


def _tasks(inferred: Inferred) -> dict[str, TaskDef]:
    digest = hashlib.sha256("".join(inferred.modules.values()).encode()).hexdigest()[:12]
    found: dict[str, TaskDef] = {}
    for module in import_sources(inferred.modules, f"_seedgraph_auto_{digest}"):
        for value in vars(module).values():
            if isinstance(value, TaskDef):
                found[value.table] = value
    return found


def import_sources(sources: dict[str, str], package: str) -> list[ModuleType]:
    """Import ``{file name: source}`` as the modules of a package named *package*."""
    if package not in sys.modules:
        pkg = ModuleType(package)
        pkg.__path__ = []
        sys.modules[package] = pkg
    out = []
    for fname, text in sorted(sources.items()):
        name = f"{package}.{fname.removesuffix('.py')}"
        if name in sys.modules:
            out.append(sys.modules[name])
            continue
        filename = f"<seedgraph --auto>/{fname}"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        module = ModuleType(name)
        module.__file__ = filename
        sys.modules[name] = module
        exec(compile(text, filename, "exec"), module.__dict__)  # the code infer_pack wrote
        out.append(module)
    return out


@dataclass(frozen=True, slots=True)
class InitResult:
    directory: Path
    files: tuple[str, ...]
    problems: Mapping[str, str]


def write_pack(url: DbUrl, directory: Path) -> InitResult:
    """``seedgraph init``: write the pack ``--auto`` would run into *directory*, one
    module per table, plus a ``seedgraph.toml`` naming the pack and the database."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UsageError(f"{directory} already exists and is not an empty folder; choose a "
                         "new folder (init never overwrites files)")
    schema = read_schema(url, "init")
    inferred = infer_pack(schema)
    files = {"__init__.py": _package_init(url, inferred), **inferred.modules,
             "seedgraph.toml": _config(url, directory)}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the pack to {directory}: {exc.strerror or exc}; "
                         "choose another folder") from None
    return InitResult(directory, tuple(files), inferred.problems)


def _package_init(url: DbUrl, inferred: Inferred) -> str:
    lines = [f'"""A seedgraph pack written by `seedgraph init` from {url.display}.', "",
             "One module per table, each the task `seedgraph run --auto` infers for it. Edit a",
             "module and `seedgraph run` rebuilds that table and the tables below it.",
             '"""', "", f"NAME = {_database_name(url)!r}", ""]
    if inferred.cycle_keys:
        lines[-2:-2] = ["from seedgraph.cycles import CycleKey", ""]
        lines += ["# foreign keys that close a cycle between tables: each module writes a",
                  "# placeholder, filled in once the cycle's tables (seeded together) are loaded",
                  "CYCLES = [", *[f"    {k!r}," for k in inferred.cycle_keys], "]", ""]
    return "\n".join(lines)


def _config(url: DbUrl, directory: Path) -> str:
    db = config_url(url)
    lines = ["# seedgraph settings for this pack: run `seedgraph run` in this folder,",
             "# or `seedgraph run -c path/to/seedgraph.toml` from anywhere.",
             'pack = "."']
    if db is not None:
        lines.append(f"db = {_toml_string(db)}")
    else:
        lines.append("# the database URL holds a password: give it with --db or "
                     "SEEDGRAPH_DATABASE_URL rather than in this file")
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _database_name(url: DbUrl) -> str:
    if url.sqlite_path is not None:
        return url.sqlite_path.stem
    return make_url(url.url).database or "db"
