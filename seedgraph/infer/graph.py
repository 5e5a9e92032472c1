"""The graph between inferred tables: parents, cycles broken at nullable keys, row counts.

A parent → child graph of the reflected foreign keys, without self-references (a
self-reference becomes a tree inside one table). A cycle is broken at one of its keys
(a nullable one when there is one, else the easiest to fill in): the child's module
writes a placeholder there (NULL, negative ids, text or uuids no real key takes), and
the engine fills it in once the cycle's tables, loaded together in one transaction,
are all there (:mod:`seedgraph.cycles`). :func:`_factors` sizes each table as a
multiple of the ``rows`` parameter.
"""

from __future__ import annotations

import networkx as nx
import sqlalchemy as sa

from seedgraph.backends.kinds import kind_for
from seedgraph.checks import Length, NotNull
from seedgraph.columns import ColumnKind
from seedgraph.cycles import CycleKey
from seedgraph.infer.schema import INTS, _base, _unique_sets
from seedgraph.infer.table import column_rules, length_bounds, not_understood

__all__ = ["_break_cycles", "_factors", "_fk_edges"]

_RULES = {"OneOf": "a list of values", "Range": "a range", "Order": "an order between columns"}


def _fk_edges(table: sa.Table) -> list[tuple[sa.ForeignKeyConstraint, str]]:
    return [(fk, fk.referred_table.name) for fk in sorted(
        table.foreign_key_constraints, key=lambda f: [c.name for c in f.columns])]


def _break_cycles(tables: dict[str, sa.Table], dialect: str = "postgresql"
                  ) -> tuple[nx.DiGraph, dict[str, list[str]], dict[str, str], list[CycleKey],
                             list[tuple[str, ...]]]:
    """Parent → child graph without self-references. A cycle is broken at one of its
    foreign keys, the easiest to fill in: a nullable one, then an integer one, then
    one needing text or uuid placeholders, then a composite one. Its columns are written
    as placeholders and filled in once the tables of the cycle (a *unit*, loaded in one
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

    def cost(edge: tuple[str, str]) -> tuple[int, int, int, int]:
        return max(_cost(tables, fk, edge[1], dialect) for fk, _, _ in g.edges[edge]["fks"])

    while True:
        try:
            cycle = nx.find_cycle(g)
        except nx.NetworkXNoCycle:
            break
        edges = [(p, c) for p, c in cycle]
        soft = [(p, c) for p, c in edges if all(n for _, _, n in g.edges[p, c]["fks"])]
        p, c = sorted(soft or edges, key=lambda e: (cost(e), e[1], e[0]))[0]
        for fk, cols, _ in g.edges[p, c]["fks"]:
            nulled.setdefault(c, []).extend(cols)
            key = _cycle_key(tables, fk, c, p, dialect)
            if isinstance(key, str):
                path = " → ".join([c for _, c in cycle] + [cycle[0][1]])
                for _, member in cycle:
                    problems.setdefault(member, f"its foreign keys form a cycle ({path}) "
                                                f"closed by {key}")
            else:
                keys.append(key)
        g.remove_edge(p, c)
    return g, nulled, problems, keys, units


def _placeholder_problem(t: sa.Table, col: sa.Column[object], dialect: str) -> str:
    """Why NOT NULL column *col* (a foreign key closing a cycle) can hold no placeholder
    until it is filled in, or "": integers, text and uuids can (NULL is not allowed)."""
    kind = kind_for(col.type, dialect)
    if kind in INTS or kind is ColumnKind.UUID:
        return ""
    if kind is not ColumnKind.TEXT or getattr(_base(col.type), "enums", None):
        return (f"the NOT NULL key {t.name}.{col.name} of type {col.type}, for which "
                "seedgraph has no placeholder")
    rules = column_rules(t)
    check = not_understood(rules, col.name) or next(
        (_RULES.get(type(r).__name__, "a rule") for r in rules.get(col.name, [])
         if not isinstance(r, Length | NotNull)), "")
    if check:
        return (f"the NOT NULL key {t.name}.{col.name}, whose CHECK ({check}) no "
                "placeholder is sure to pass")
    low, high = length_bounds(t, rules, col.name)
    if high is not None and (high < 2 or (low is not None and low > high)):
        return (f"the NOT NULL key {t.name}.{col.name}, too short ({high} characters) "
                "for a placeholder")
    return ""


def _cost(tables: dict[str, sa.Table], fk: sa.ForeignKeyConstraint, child: str,
          dialect: str) -> tuple[int, int, int, int]:
    """How hard *fk* is to fill in, lowest first: (cannot be, composite, needs text or
    uuid placeholders, rows found by a composite primary key)."""
    t = tables[child]
    cols = list(fk.columns)
    names = {c.name for c in cols}
    pk = [c.name for c in t.primary_key.columns]
    strict = [c for c in cols if c.nullable is False]
    if any(_placeholder_problem(t, c, dialect) for c in strict) or not pk or names & set(pk):
        return (1, 0, 0, 0)
    typed = any(kind_for(c.type, dialect) not in INTS for c in strict)
    return (0, int(len(cols) > 1), int(typed), int(len(pk) > 1))


def _cycle_key(tables: dict[str, sa.Table], fk: sa.ForeignKeyConstraint, child: str,
               parent: str, dialect: str = "postgresql") -> CycleKey | str:
    """How to fill in *fk* once its cycle is loaded, or why seedgraph cannot."""
    t = tables[child]
    cols = list(fk.columns)
    targets = [e.column.name for e in fk.elements]
    for col in cols:
        if col.nullable is False and (why := _placeholder_problem(t, col, dialect)):
            return f"{why}; write a task for these tables (--pack P --auto)"
    pk = [c.name for c in t.primary_key.columns]
    names = [c.name for c in cols]
    if not pk or set(names) & set(pk):
        what = names[0] if len(names) == 1 else f"({', '.join(names)})"
        return (f"{child}.{what}, whose table has no primary key apart from it to fill its "
                "rows in by; write a task for these tables (--pack P --auto)")
    back = None
    if len(cols) == 1 and len(pk) == 1:
        for other in tables[parent].foreign_key_constraints:
            if other.referred_table.name == child and len(other.columns) == 1 \
                    and other.elements[0].column.name == pk[0]:
                back = next(iter(other.columns)).name
    unique = any(set(s) == set(names) for s in _unique_sets(t))
    return CycleKey(child, names[0], parent, targets[0], unique, back,
                    tuple(zip(names[1:], targets[1:], strict=True)))


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
