"""The graph between inferred tables: parents, cycles broken at nullable keys, row counts.

A parent → child graph of the reflected foreign keys, without self-references (a
self-reference becomes a tree inside one table). A cycle is broken at a nullable key,
which the child's module writes NULL; a cycle of NOT NULL keys is reported as a
problem. :func:`_factors` sizes each table as a multiple of the ``rows`` parameter.
"""

from __future__ import annotations

import networkx as nx
import sqlalchemy as sa

__all__ = ["_break_cycles", "_factors", "_fk_edges"]


def _fk_edges(table: sa.Table) -> list[tuple[sa.ForeignKeyConstraint, str]]:
    return [(fk, fk.referred_table.name) for fk in sorted(
        table.foreign_key_constraints, key=lambda f: [c.name for c in f.columns])]


def _break_cycles(tables: dict[str, sa.Table]
                  ) -> tuple[nx.DiGraph, dict[str, list[str]], dict[str, str]]:
    """Parent → child graph without self-references. A cycle is broken at a nullable
    foreign key (written NULL); a cycle of NOT NULL keys is a problem for its tables."""
    g = nx.DiGraph()
    g.add_nodes_from(tables)
    for name, t in tables.items():
        for fk, parent in _fk_edges(t):
            if parent != name and parent in tables:
                cols = [c.name for c in fk.columns]
                nullable = all(t.c[c].nullable for c in cols)
                g.add_edge(parent, name)
                g.edges[parent, name].setdefault("fks", []).append((cols, nullable))
    nulled: dict[str, list[str]] = {}
    problems: dict[str, str] = {}
    while True:
        try:
            cycle = nx.find_cycle(g)
        except nx.NetworkXNoCycle:
            break
        breakable = [(p, c) for p, c in cycle[:] if all(n for _, n in g.edges[p, c]["fks"])]
        if not breakable:
            path = " → ".join([c for _, c in cycle] + [cycle[0][1]])
            why = (f"its foreign keys form a cycle of NOT NULL columns ({path} by key); "
                   "seedgraph cannot order it yet: make one key nullable, or seed these "
                   "tables with a task of your own (--pack P --auto)")
            for _, c in cycle:
                problems.setdefault(c, why)
            p, c = cycle[0]
            for cols, _ in g.edges[p, c]["fks"]:
                nulled.setdefault(c, []).extend(cols)  # never written: the table is refused
            g.remove_edge(p, c)
            continue
        p, c = sorted(breakable, key=lambda e: (e[1], e[0]))[0]
        for cols, _ in g.edges[p, c]["fks"]:
            nulled.setdefault(c, []).extend(cols)
        g.remove_edge(p, c)
    return g, nulled, problems


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
