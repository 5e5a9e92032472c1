"""The ``--only`` / ``--exclude`` grammar (dbt-compatible): parse, then evaluate.

    name          the table             name+      it and all descendants
    +name         ancestors and it      +name+     both
    2+name        ancestors 2 deep      name+1     children 1 deep
    @name         its descendants and all of their ancestors
    tag:x         every task tagged x (operators apply: tag:x+)
    job*          shell-style wildcard on names

Terms separated by spaces are a union; terms joined by commas an intersection.
Pure: parsing gives frozen values; evaluation takes a graph and returns names.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from seedgraph.errors import SelectorError, did_you_mean

__all__ = ["SelectionCriteria", "SelectionSpec", "evaluate", "parse", "select"]

_TERM = re.compile(
    r"^(?P<at>@)?"
    r"(?:(?P<pdepth>\d*)(?P<parents>\+))?"
    r"(?:(?P<method>[a-z_]+):)?"
    r"(?P<value>[A-Za-z0-9_.*?\[\]-]+)"
    r"(?:(?P<children>\+)(?P<cdepth>\d*))?$"
)


@dataclass(frozen=True, slots=True)
class SelectionCriteria:
    """One term such as ``2+tag:jobs+1`` or ``@events``."""

    method: str  # "name" | "tag"
    value: str
    parents: bool = False
    parents_depth: int | None = None
    children: bool = False
    children_depth: int | None = None
    childrens_parents: bool = False
    raw: str = ""


@dataclass(frozen=True, slots=True)
class SelectionSpec:
    """A union of intersections of criteria, with the text it came from."""

    union: tuple[tuple[SelectionCriteria, ...], ...]
    raw: str


def _criteria(text: str, expr: str) -> SelectionCriteria:
    m = _TERM.match(text)
    if m is None:
        raise SelectorError(
            f"cannot parse '{text}' in selector '{expr}'; write e.g. 'events', 'events+', "
            "'+events', '2+events', 'events+1', '@events' or 'tag:jobs'"
        )
    method = m["method"] or "name"
    if method not in {"name", "tag"}:
        raise SelectorError(
            f"unknown selector method '{method}:' in '{expr}'; use a plain name or 'tag:NAME'"
        )
    if m["at"] and m["parents"]:
        raise SelectorError(f"'{text}': '@' already includes ancestors; drop the leading '+'")
    return SelectionCriteria(
        method=method,
        value=m["value"],
        parents=bool(m["parents"]),
        parents_depth=int(m["pdepth"]) if m["pdepth"] else None,
        children=bool(m["children"]),
        children_depth=int(m["cdepth"]) if m["cdepth"] else None,
        childrens_parents=bool(m["at"]),
        raw=text,
    )


def parse(expr: str) -> SelectionSpec:
    """Parse a selector expression; raise :class:`SelectorError` when malformed."""
    terms = expr.split()
    if not terms:
        raise SelectorError("empty selector; give a table name, 'name+', '+name' or 'tag:x'")
    union = []
    for term in terms:
        parts = term.split(",")
        if any(not p for p in parts):
            raise SelectorError(
                f"empty part in '{term}'; join intersections with single commas: 'tag:a,tag:b'"
            )
        union.append(tuple(_criteria(p, expr) for p in parts))
    return SelectionSpec(union=tuple(union), raw=expr)


def _within(graph: nx.DiGraph, start: Iterable[str], depth: int | None, up: bool) -> set[str]:
    """Ancestors (up) or descendants of *start*, at most *depth* generations away."""
    found: set[str] = set()
    frontier = set(start)
    step = 0
    while frontier and (depth is None or step < depth):
        nxt: set[str] = set()
        for node in frontier:
            nxt.update(graph.predecessors(node) if up else graph.successors(node))
        frontier = nxt - found
        found |= nxt
        step += 1
    return found


def _base(graph: nx.DiGraph, c: SelectionCriteria) -> set[str]:
    if c.method == "tag":
        hits = {n for n in graph if c.value in graph.nodes[n].get("tags", ())}
        if not hits:
            tags = sorted({t for n in graph for t in graph.nodes[n].get("tags", ())})
            raise SelectorError(
                f"unknown tag '{c.value}'.{did_you_mean(c.value, tags)} "
                f"Known tags: {', '.join(tags) or 'none'}"
            )
        return hits
    if any(ch in c.value for ch in "*?["):
        hits = {n for n in graph if fnmatch.fnmatchcase(n, c.value)}
        if not hits:
            raise SelectorError(f"'{c.value}' matches no table; see `seedgraph list`")
        return hits
    if c.value not in graph:
        raise SelectorError(
            f"unknown table '{c.value}' in selector '{c.raw}'.{did_you_mean(c.value, graph.nodes)}"
            " See `seedgraph list` for the tables."
        )
    return {c.value}


def _apply(graph: nx.DiGraph, c: SelectionCriteria) -> set[str]:
    base = _base(graph, c)
    out = set(base)
    if c.childrens_parents:
        down = base | _within(graph, base, None, up=False)
        return down | _within(graph, down, None, up=True)
    if c.parents:
        out |= _within(graph, base, c.parents_depth, up=True)
    if c.children:
        out |= _within(graph, base, c.children_depth, up=False)
    return out


def evaluate(spec: SelectionSpec, graph: nx.DiGraph) -> frozenset[str]:
    """The set of table names *spec* selects in *graph*."""
    chosen: set[str] = set()
    for intersection in spec.union:
        part: set[str] | None = None
        for c in intersection:
            hits = _apply(graph, c)
            part = hits if part is None else part & hits
        chosen |= part or set()
    return frozenset(chosen)


def select(graph: nx.DiGraph, only: str | None = None,
           exclude: str | None = None) -> frozenset[str]:
    """``--only`` minus ``--exclude``; ``only=None`` means every task."""
    chosen = evaluate(parse(only), graph) if only is not None else frozenset(graph.nodes)
    if exclude is not None:
        chosen = chosen - evaluate(parse(exclude), graph)
    return chosen
