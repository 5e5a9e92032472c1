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
from dataclasses import replace
from types import ModuleType

import anyio

from seedgraph.db import Database, DbUrl
from seedgraph.errors import DatabaseError, UsageError
from seedgraph.infer import Inferred, infer_pack
from seedgraph.pack import Pack
from seedgraph.reflect import LiveSchema, reflect_schema
from seedgraph.task import TaskDef

__all__ = ["auto_pack", "import_sources", "read_schema"]

AUTO_REF = "auto"


def read_schema(url: DbUrl) -> LiveSchema:
    """Reflect the database behind *url*; callable from sync code and from inside a
    running event loop (it runs on its own loop in a worker thread)."""
    if url.missing_file:
        raise DatabaseError(
            f"--auto reads the tables of an existing database, and there is none at "
            f"{url.sqlite_path}; create the schema first (your migrations), or check --db")

    async def go() -> LiveSchema:
        db = await Database.open(url, pool_size=1)
        try:
            return await reflect_schema(db)
        finally:
            await db.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, go).result()


def auto_pack(url: DbUrl, base: Pack | None) -> Pack:
    """*base*'s tasks, plus an inferred task for every other table of the database."""
    schema = read_schema(url)
    if not schema.metadata.tables:
        raise UsageError(
            f"--auto found no tables in {url.display}; create them first (run your "
            "migrations), or use a pack that ships a schema (--pack tasks/retail)")
    inferred = infer_pack(schema, skip=base.tasks if base else ())
    tasks = _tasks(inferred)
    if base is None:
        return Pack(name=AUTO_REF, ref=AUTO_REF, tasks=dict(sorted(tasks.items())),
                    metadata=schema.metadata, problems=inferred.problems, nulled=inferred.nulled)
    metadata = schema.metadata
    if base.metadata is not None:  # the pack's tables not created yet
        for t in base.metadata.sorted_tables:
            if t.name not in metadata.tables:
                t.to_metadata(metadata)
    return replace(base, tasks=dict(sorted({**tasks, **base.tasks}.items())),
                   metadata=metadata, problems=inferred.problems, nulled=inferred.nulled)


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
