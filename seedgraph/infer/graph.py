"""The graph between inferred tables: parents, cycles broken at nullable keys, row counts.

A parent → child graph of the reflected foreign keys, without self-references (a
self-reference becomes a tree inside one table). A cycle is broken at one of its keys
(a nullable one when there is one): the child's module writes a placeholder there, and
the engine fills it in once the cycle's tables, loaded together in one transaction,
are all there (:mod:`seedgraph.cycles`). :func:`_factors` sizes each table as a
multiple of the ``rows`` parameter.
"""

from __future__ import annotations

import networkx as nx
import sqlalchemy as sa

from seedgraph.cycles import CycleKey
from seedgraph.infer.schema import _unique_sets

__all__ = ["_break_cycles", "_factors", "_fk_edges"]


def _fk_edges(table: sa.Table) -> list[tuple[sa.ForeignKeyConstraint, str]]:
    return [(fk, fk.referred_table.name) for fk in sorted(
        table.foreign_key_constraints, key=lambda f: [c.name for c in f.columns])]


def _break_cycles(tables: dict[str, sa.Table]
                  ) -> tuple[nx.DiGraph, dict[str, list[str]], dict[str, str], list[CycleKey],
                             list[tuple[str, ...]]]:
    """Parent → child graph without self-references. A cycle is broken at one of its
    foreign keys, a nullable one when there is one: its column is written as a
    placeholder and filled in once the tables of the cycle (a *unit*, loaded in one
    transaction) are loaded. Returns the graph, the placeholder columns per table, the
    tables that cannot be seeded (and why), the keys to fill in, and the units."""
    g = nx.DiGraph()
    g.add_nodes_from(tables)
    for name, t in tables.items():
        for fk, parent in _fk_edges(t):
            if parent != name and parent in tables:
                cols = [c.name for c in fk.columns]
                nullable = all(t.c[c].nullable for c in cols)
                g.add_edge(parent, name)
                g.edges[parent, name].setdefault("fks", []).append((fk, cols, nullable))
    units = sorted(tuple(sorted(c)) for c in nx.strongly_connected_components(g) if len(c) > 1)
    nulled: dict[str, list[str]] = {}
    problems: dict[str, str] = {}
    keys: list[CycleKey] = []
    while True:
        try:
            cycle = nx.find_cycle(g)
        except nx.NetworkXNoCycle:
            break
        edges = [(p, c) for p, c in cycle]
        soft = [(p, c) for p, c in edges if all(n for _, _, n in g.edges[p, c]["fks"])]
        # a nullable key first, then one seedgraph can fill in (an integer key)
        p, c = sorted(soft or edges, key=lambda e: (not all(
            isinstance(_cycle_key(tables, fk, e[1], e[0]), CycleKey)
            for fk, _, _ in g.edges[e]["fks"]), e[1], e[0]))[0]
        for fk, cols, _ in g.edges[p, c]["fks"]:
            nulled.setdefault(c, []).extend(cols)
            key = _cycle_key(tables, fk, c, p)
            if isinstance(key, str):
                path = " → ".join([c for _, c in cycle] + [cycle[0][1]])
                for _, member in cycle:
                    problems.setdefault(member, f"its foreign keys form a cycle ({path}) "
                                                f"closed by {key}")
            else:
                keys.append(key)
        g.remove_edge(p, c)
    return g, nulled, problems, keys, units


def _cycle_key(tables: dict[str, sa.Table], fk: sa.ForeignKeyConstraint, child: str,
               parent: str) -> CycleKey | str:
    """How to fill in *fk* once its cycle is loaded, or why seedgraph cannot."""
    if len(fk.columns) != 1:
        return (f"the composite key {child}({', '.join(c.name for c in fk.columns)}), which "
                "seedgraph cannot fill in yet; write a task for these tables (--pack P --auto)")
    col = next(iter(fk.columns))
    target = fk.elements[0].column
    t = tables[child]
    if col.nullable is False and not isinstance(col.type, sa.Integer):
        return (f"the NOT NULL key {child}.{col.name} of type {col.type}, for which seedgraph "
                "has no placeholder; write a task for these tables (--pack P --auto)")
    pk = [c.name for c in t.primary_key.columns]
    if len(pk) != 1:
        return (f"{child}.{col.name}, whose table has no single-column primary key to fill "
                "its rows in by; write a task for these tables (--pack P --auto)")
    back = None
    for other in tables[parent].foreign_key_constraints:
        if other.referred_table.name == child and len(other.columns) == 1 \
                and other.elements[0].column.name == pk[0]:
            back = next(iter(other.columns)).name
    unique = (col.name,) in _unique_sets(t)
    return CycleKey(child, col.name, parent, target.name, unique, back)


def _factors(graph: nx.DiGraph, tables: dict[str, sa.Table]) -> dict[str, float]:
    """Rows per table as a multiple of the ``rows`` parameter: small lookup tables
    (few columns, no parents, referenced by others), children fanning out."""
    out: dict[str, float] = {}
    for name in nx.lexicographical_topological_sort(graph):
        parents = list(graph.predecessors(name))
        if not parents:
            lookup = graph.out_degree(name) > 0 and len(tables[name].columns) <= 4
            out[name] = 0.1 if lookup else 1.0
        else:
            fan = 3.0 if len(parents) == 1 else 2.0
            out[name] = min(30.0, max(out[p] for p in parents) * fan)
    return out
