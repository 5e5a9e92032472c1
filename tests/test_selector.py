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


def chain() -> nx.DiGraph:
    """a -> b -> c -> d -> e; no node has a tags attribute."""
    graph = nx.DiGraph()
    graph.add_edges_from([("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")])
    return graph


@pytest.mark.parametrize(("expr", "expected"), [
    ("0+c", {"c"}),
    ("1+c", {"b", "c"}),
    ("2+d", {"b", "c", "d"}),
    ("3+e", {"b", "c", "d", "e"}),
    ("b+2", {"b", "c", "d"}),
    ("a+3", {"a", "b", "c", "d"}),
    ("2+c+2", {"a", "b", "c", "d", "e"}),
    ("10+c", {"a", "b", "c"}),
    ("?", {"a", "b", "c", "d", "e"}),
])
def test_depths_count_generations(expr: str, expected: set[str]) -> None:
    assert select(chain(), expr) == expected


def test_nodes_without_tags_are_never_tagged() -> None:
    graph = chain()
    graph.nodes["c"]["tags"] = ("mid",)
    assert select(graph, "tag:mid+") == {"c", "d", "e"}
    with pytest.raises(SelectorError) as exc:
        select(graph, "tag:midd")
    assert str(exc.value) == "unknown tag 'midd'. Did you mean 'mid'? Known tags: mid"
    with pytest.raises(SelectorError) as exc:
        select(chain(), "tag:x")
    assert str(exc.value) == "unknown tag 'x'. Known tags: none"


def test_error_messages_quote_the_term_and_the_whole_selector(g: nx.DiGraph) -> None:
    with pytest.raises(SelectorError) as exc:
        select(g, "a tag:facts,bb+")
    assert str(exc.value) == (
        "unknown table 'bb' in selector 'bb+'. Did you mean 'b'? "
        "See `seedgraph list` for the tables.")
    with pytest.raises(SelectorError) as exc:
        select(g, "a b+x")
    assert str(exc.value) == (
        "cannot parse 'b+x' in selector 'a b+x'; write e.g. 'events', 'events+', "
        "'+events', '2+events', 'events+1', '@events' or 'tag:jobs'")
    with pytest.raises(SelectorError) as exc:
        select(g, "a fqn:b")
    assert str(exc.value) == (
        "unknown selector method 'fqn:' in 'a fqn:b'; use a plain name or 'tag:NAME'")
    with pytest.raises(SelectorError) as exc:
        select(g, "")
    assert str(exc.value) == (
        "empty selector; give a table name, 'name+', '+name' or 'tag:x'")


def test_upper_case_names_are_names_not_patterns() -> None:
    graph = nx.DiGraph()
    graph.add_nodes_from(["Xa", "b"])
    assert select(graph, "Xa") == {"Xa"}
    with pytest.raises(SelectorError, match="unknown table 'Xb'"):
        select(graph, "Xb")


def test_parse_keeps_the_text_of_the_selector_and_of_each_term() -> None:
    spec = parse(" b+  tag:x,@c ")
    assert spec.raw == " b+  tag:x,@c "
    assert [[c.raw for c in inter] for inter in spec.union] == [["b+"], ["tag:x", "@c"]]
    plain = spec.union[0][0]
    assert (plain.method, plain.value, plain.parents, plain.parents_depth, plain.children,
            plain.children_depth, plain.childrens_parents) == (
        "name", "b", False, None, True, None, False)
