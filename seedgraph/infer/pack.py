"""The inferred pack: one module per table, named so it lands as a plain file in the pack folder.

:func:`infer_pack` is the whole pipeline: order the tables and break their cycles
(:mod:`seedgraph.infer.graph`), then write each table's module
(:mod:`seedgraph.infer.table`). :class:`Inferred` carries the texts, the tables that
need a hand-written task, and the cycle keys written NULL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from seedgraph.backends.reflect import LiveSchema
from seedgraph.cycles import CycleKey
from seedgraph.infer.graph import _break_cycles, _factors
from seedgraph.infer.overrides import check_overrides
from seedgraph.infer.table import _TableCode

__all__ = ["Inferred", "infer_pack", "module_name"]


@dataclass(frozen=True, slots=True)
class Inferred:
    """The pack inferred from a schema: module file name → source, and the tables
    that cannot be seeded without a hand-written task (table → why)."""

    modules: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)
    nulled: dict[str, tuple[str, ...]] = field(default_factory=dict)  # cycle keys, placeholders
    cycle_keys: tuple[CycleKey, ...] = ()  # filled in once their unit is loaded
    units: tuple[tuple[str, ...], ...] = ()  # tables whose keys form a cycle: loaded together


def module_name(table: str, taken: set[str]) -> str:
    """A file name for *table*'s module: ASCII, not hidden from the pack loader
    (``_x``/``test*``), unique even on case-insensitive file systems."""
    base = re.sub(r"[^0-9a-zA-Z]+", "_", table).strip("_").lower() or "table"
    if base[0].isdigit() or base.startswith("test") or base in {"init", "main"}:
        base = "table_" + base
    name, i = base, 2
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name + ".py"


def infer_pack(schema: LiveSchema, *, skip: Iterable[str] = (),
               columns: Mapping[str, Any] | None = None) -> Inferred:
    """One module per table of *schema* except those in *skip* (a pack fills them);
    *columns* is the config's ``[columns]`` table of per-column overrides."""
    tables = {t.name: t for t in schema.tables}
    overrides = check_overrides(columns or {}, tables)
    graph, nulled, problems, keys, units = _break_cycles(tables, schema.dialect)
    factors = _factors(graph, tables)
    modules: dict[str, str] = {}
    taken: set[str] = set()
    skipped = set(skip)
    for name in sorted(tables):
        if name in skipped:
            continue
        builder = _TableCode(tables[name], schema, graph, nulled.get(name, ()), factors[name],
                             overrides.get(name, {}))
        builder.problem = problems.get(name, "")
        text = builder.render()
        if builder.problem:
            problems[name] = builder.problem
        modules[module_name(name, taken)] = text
    skip_units = [u for u in units if not set(u) & skipped]
    return Inferred(modules, problems, {k: tuple(v) for k, v in nulled.items()},
                    tuple(k for k in keys if k.child not in skipped and k.parent not in skipped),
                    tuple(skip_units))
