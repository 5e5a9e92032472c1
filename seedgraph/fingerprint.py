"""Fingerprints: what "up to date" means, computed in one place.

A task's fingerprint digests its code (:func:`code_digest`: the function, its module
and the modules of its own package it reaches), its parameters, the seed, ``as_of``
and its upstream tasks' fingerprints, so a change anywhere above a table reruns it. A
pack's fingerprint digests its tasks' code. The database records the fingerprint a
table was built with next to its rows; ``plan`` compares.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import networkx as nx

from seedgraph.errors import DataFileError
from seedgraph.graph import parents_first

if TYPE_CHECKING:
    from seedgraph.task import TaskDef

__all__ = ["canonical", "code_digest", "data_digest", "pack_fingerprint", "task_fingerprints"]


@functools.cache
def code_digest(fn: Callable[..., Any]) -> str:
    """Computed once per function and process: reading and tokenising the sources is
    the costly part of planning, and the code that runs cannot change under it."""
    h = hashlib.sha256()
    try:
        h.update(inspect.getsource(fn).encode())
        module = inspect.getmodule(fn)
        for mod in _package_closure(module) if module is not None else []:
            h.update(inspect.getsource(mod).encode())
    except (OSError, TypeError):
        h.update(getattr(fn, "__qualname__", repr(fn)).encode())
    return h.hexdigest()


def _package_closure(module: ModuleType) -> list[ModuleType]:
    """*module* and the modules of its top-level package it reaches through its globals
    (imported modules, and the modules of imported functions and classes)."""
    root = module.__name__.split(".")[0]
    found: dict[str, ModuleType] = {}
    todo = [module]
    while todo:
        mod = todo.pop()
        if mod.__name__ in found:
            continue
        found[mod.__name__] = mod
        for value in vars(mod).values():
            home = value if isinstance(value, ModuleType) else sys.modules.get(
                getattr(value, "__module__", None) or "")
            if (home is not None and home.__name__ not in found
                    and home.__name__.split(".")[0] == root and hasattr(home, "__file__")):
                todo.append(home)
    return [found[k] for k in sorted(found)]


def data_digest(path: str, table: str) -> str:
    """A digest of *table*'s rows in a data file (of the whole file where it holds one
    table, or does not parse: the run then reports why), so editing one table's rows
    reruns that table and what is below it, not every table of the file."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataFileError(f"cannot read data file {path}: {exc.strerror}") from None
    if Path(path).suffix.lower() in (".yaml", ".yml", ".json"):
        try:
            import yaml

            doc = yaml.safe_load(raw)
            if isinstance(doc, dict) and table in doc:
                raw = canonical(doc[table]).encode()
        except yaml.YAMLError:
            pass
    return hashlib.sha256(raw).hexdigest()


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def task_fingerprints(
    graph: nx.DiGraph,
    params: Mapping[str, Mapping[str, Any]],
    seed: int,
    as_of: datetime,
) -> dict[str, str]:
    """A digest per task of its code, parameters, seed, as_of and upstream digests."""
    out: dict[str, str] = {}
    for name in parents_first(graph, graph.nodes):
        t: TaskDef = graph.nodes[name]["task"]
        h = hashlib.sha256()
        h.update(t.source_digest().encode())
        if t.data is not None:  # edit the data file: rerun the table and what is below it
            h.update(data_digest(t.data, t.table).encode())
        h.update(canonical(params.get(name, {})).encode())
        h.update(f"{seed}|{as_of.isoformat()}".encode())
        for up in sorted(graph.predecessors(name)):
            h.update(out[up].encode())
        out[name] = h.hexdigest()[:16]
    return out


def pack_fingerprint(tasks: Mapping[str, TaskDef]) -> str:
    """A digest of every task's code: recorded with each run."""
    h = hashlib.sha256()
    for name in sorted(tasks):
        h.update(name.encode() + tasks[name].source_digest().encode())
    return h.hexdigest()[:16]
