"""The task graph: build it from task definitions, validate it, and cut it into levels.

Pure: takes values, returns values. Edges point upstream -> downstream.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx

from seedgraph.errors import GraphError, did_you_mean
from seedgraph.task import TaskDef

__all__ = ["ForeignKey", "build_graph", "children_first", "levels", "parents_first", "unit_of"]

# (table, column, referenced table) as extracted from the pack's schema
ForeignKey = tuple[str, str, str]


def build_graph(tasks: Sequence[TaskDef], foreign_keys: Iterable[ForeignKey] = (),
                cycle_keys: Iterable[tuple[str, str]] = ()) -> nx.DiGraph:
    """Build and validate the graph; raise :class:`GraphError` with an actionable message.

    *cycle_keys* are (child, parent) foreign keys left out of the graph because they
    close a cycle: the tables of each such cycle form a *unit* (node attribute
    ``unit``, parents first), seeded together in one transaction."""
    graph = nx.DiGraph()
    seen: dict[str, TaskDef] = {}
    for t in tasks:
        if t.table in seen:
            raise GraphError(
                f"two tasks fill table '{t.table}' ({_where(seen[t.table])} and {_where(t)}); "
                "keep one task per table"
            )
        seen[t.table] = t
        graph.add_node(t.table, task=t, tags=t.tags, description=t.description)

    for t in tasks:
        for up in t.upstream:
            if up == t.table:
                raise GraphError(f"task '{t.table}' lists itself as upstream; remove it")
            if up not in seen:
                raise GraphError(
                    f"task '{t.table}' has unknown upstream '{up}'.{did_you_mean(up, seen)}"
                    " Declare a task for it or fix the name."
                )
            graph.add_edge(up, t.table)

    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        path = [edge[0] for edge in cycle] + [cycle[0][0]]
        raise GraphError(
            "the task graph has a cycle: " + " -> ".join(path)
            + "; remove one of these upstream declarations"
        )

    _check_foreign_keys(graph, foreign_keys)
    _mark_units(graph, cycle_keys)
    return graph


def _mark_units(graph: nx.DiGraph, cycle_keys: Iterable[tuple[str, str]]) -> None:
    closed = graph.copy()
    for child, parent in cycle_keys:
        if child in graph and parent in graph:
            closed.add_edge(parent, child)
    for members in nx.strongly_connected_components(closed):
        if len(members) > 1:
            unit = tuple(parents_first(graph, members))
            for m in members:
                graph.nodes[m]["unit"] = unit


def unit_of(graph: nx.DiGraph, table: str) -> tuple[str, ...]:
    """The tables seeded together with *table* (itself alone when it is in no cycle)."""
    unit: tuple[str, ...] = graph.nodes[table].get("unit", (table,))
    return unit


def _where(t: TaskDef) -> str:
    return f"{getattr(t.fn, '__module__', '?')}.{getattr(t.fn, '__qualname__', '?')}"


def _check_foreign_keys(graph: nx.DiGraph, foreign_keys: Iterable[ForeignKey]) -> None:
    for table, column, ref in sorted(foreign_keys):
        if table not in graph or ref == table:
            continue
        if ref not in graph:
            raise GraphError(
                f"foreign key {table}.{column} references '{ref}', which no task fills; "
                f"add a task for '{ref}' or drop the foreign key"
            )
        if ref not in nx.ancestors(graph, table):
            raise GraphError(
                f"foreign key {table}.{column} references '{ref}', but '{ref}' is not upstream "
                f"of '{table}'; add it: @task('{table}', upstream=[..., '{ref}'])"
            )


def levels(graph: nx.DiGraph, nodes: Iterable[str] | None = None) -> list[list[str]]:
    """Topological generations (sorted within a level), optionally restricted to *nodes*."""
    g = graph if nodes is None else graph.subgraph(nodes)
    return [sorted(gen) for gen in nx.topological_generations(g)]


def parents_first(graph: nx.DiGraph, nodes: Iterable[str]) -> list[str]:
    """*nodes* in a deterministic topological order (parents before children)."""
    return [n for level in levels(graph, nodes) for n in level]


def children_first(graph: nx.DiGraph, nodes: Iterable[str]) -> list[str]:
    """*nodes* children before parents: the order to empty tables in."""
    return list(reversed(parents_first(graph, nodes)))

