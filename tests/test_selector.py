"""The dbt-style selector grammar: every operator, unions, intersections, errors."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from seedgraph import SelectorError
from seedgraph.selector import parse, select


@pytest.fixture
def g() -> nx.DiGraph:
    """a -> b -> d, a -> c -> d (a diamond), d -> e; x -> y (independent)."""
    graph = nx.DiGraph()
    tags = {"a": ("dims",), "b": ("facts",), "c": ("facts", "slow"), "d": ("facts",),
            "e": ("report",), "x": ("dims",), "y": ("misc",)}
    for n, t in tags.items():
        graph.add_node(n, tags=t)
    graph.add_edges_from([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"),
                          ("x", "y")])
    return graph


@pytest.mark.parametrize(("expr", "expected"), [
    ("b", {"b"}),
    ("b+", {"b", "d", "e"}),
    ("+d", {"a", "b", "c", "d"}),
    ("+b+", {"a", "b", "d", "e"}),
    ("1+d", {"b", "c", "d"}),
    ("a+1", {"a", "b", "c"}),
    ("1+d+1", {"b", "c", "d", "e"}),
    ("@b", {"a", "b", "c", "d", "e"}),
    ("tag:facts", {"b", "c", "d"}),
    ("tag:slow+", {"c", "d", "e"}),
    ("+tag:report", {"a", "b", "c", "d", "e"}),
    ("b x", {"b", "x"}),
    ("tag:facts,+d", {"b", "c", "d"}),
    ("tag:facts,b+", {"b", "d"}),
    ("[xy]", {"x", "y"}),
    ("*", {"a", "b", "c", "d", "e", "x", "y"}),
])
def test_operators(g: nx.DiGraph, expr: str, expected: set[str]) -> None:
    assert select(g, expr) == expected


def test_exclude_and_default(g: nx.DiGraph) -> None:
    assert select(g) == set(g.nodes)
    assert select(g, "a+", "tag:facts") == {"a", "e"}
    assert select(g, None, "x+") == {"a", "b", "c", "d", "e"}
    assert select(g, "b", "b") == set()


@pytest.mark.parametrize(("expr", "needle"), [
    ("bb", "Did you mean 'b'"),
    ("tag:fact", "Did you mean 'facts'"),
    ("tag:nope", "Known tags: dims, facts, misc, report, slow"),
    ("++b", "cannot parse"),
    ("b+x", "cannot parse"),
    ("@+b", "already includes ancestors"),
    ("z*", "matches no table"),
    ("fqn:b", "unknown selector method"),
    ("a,,b", "empty part"),
    ("   ", "empty selector"),
])
def test_errors_say_what_to_type(g: nx.DiGraph, expr: str, needle: str) -> None:
    with pytest.raises(SelectorError, match=needle.replace("+", r"\+").replace("*", r"\*")):
        select(g, expr)


def test_parse_is_a_frozen_value() -> None:
    spec = parse("2+tag:jobs+1 @events")
    first = spec.union[0][0]
    assert (first.method, first.value, first.parents_depth, first.children_depth) == (
        "tag", "jobs", 2, 1)
    assert spec.union[1][0].childrens_parents
    with pytest.raises(AttributeError):
        first.value = "x"  # type: ignore[misc]


def test_against_networkx_on_random_dags() -> None:
    rnd = random.Random(7)
    for _ in range(25):
        graph = nx.DiGraph()
        names = [f"t{i}" for i in range(15)]
        for n in names:
            graph.add_node(n, tags=())
        for i in range(15):
            for j in range(i + 1, 15):
                if rnd.random() < 0.15:
                    graph.add_edge(names[i], names[j])
        n = rnd.choice(names)
        assert select(graph, f"{n}+") == {n} | nx.descendants(graph, n)
        assert select(graph, f"+{n}") == {n} | nx.ancestors(graph, n)
        down = {n} | nx.descendants(graph, n)
        at = set(down)
        for m in down:
            at |= nx.ancestors(graph, m)
        assert select(graph, f"@{n}") == at
