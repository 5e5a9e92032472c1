"""Graph building and validation: unknown upstream, duplicates, cycles, FK cross-check, levels."""

from __future__ import annotations

import pytest

from seedgraph import GraphError, TaskContext, task
from seedgraph.graph import build_graph, children_first, levels, parents_first
from seedgraph.task import TaskDef


def t(name: str, *upstream: str, tags: tuple[str, ...] = ()) -> TaskDef:
    async def body(ctx: TaskContext) -> None:
        return None

    return task(name, upstream=list(upstream), tags=list(tags))(body)


def test_levels_are_topological_generations() -> None:
    g = build_graph([t("a"), t("b", "a"), t("c", "a"), t("d", "b", "c"), t("x")])
    assert levels(g) == [["a", "x"], ["b", "c"], ["d"]]
    order = parents_first(g, g.nodes)
    assert order.index("a") < order.index("b") < order.index("d")
    assert children_first(g, ["a", "d", "b"]) == ["d", "b", "a"]


def test_unknown_upstream_suggests_a_name() -> None:
    with pytest.raises(GraphError) as exc:
        build_graph([t("camera_zones"), t("zone_anomalies", "camera_zone")])
    assert "unknown upstream 'camera_zone'" in str(exc.value)
    assert "Did you mean 'camera_zones'" in str(exc.value)


def test_duplicate_table_is_refused() -> None:
    with pytest.raises(GraphError, match="two tasks fill table 'a'"):
        build_graph([t("a"), t("a")])


def test_cycle_prints_the_path() -> None:
    with pytest.raises(GraphError) as exc:
        build_graph([t("a", "c"), t("b", "a"), t("c", "b"), t("d")])
    message = str(exc.value)
    assert "cycle" in message
    path = message.split("cycle: ")[1].split(";")[0].split(" -> ")
    assert path[0] == path[-1] and set(path) == {"a", "b", "c"} and len(path) == 4


def test_self_upstream_is_refused() -> None:
    with pytest.raises(GraphError, match="itself"):
        build_graph([t("a", "a")])


def test_fk_must_point_at_a_declared_upstream() -> None:
    tasks = [t("cameras"), t("events"), t("alerts", "events")]
    build_graph(tasks, [("alerts", "event_id", "events")])
    with pytest.raises(GraphError) as exc:
        build_graph(tasks, [("events", "camera_id", "cameras")])
    assert "events.camera_id" in str(exc.value) and "upstream" in str(exc.value)


def test_transitive_fk_upstream_is_enough() -> None:
    """c -> a is satisfied through b: accepted, and c still runs after a."""
    g = build_graph([t("a"), t("b", "a"), t("c", "b")], [("c", "a_id", "a")])
    assert set(g.edges) == {("a", "b"), ("b", "c")}  # no extra edge is added for the FK
    assert levels(g) == [["a"], ["b"], ["c"]]
    # without the path through b the same foreign key is refused
    with pytest.raises(GraphError, match="not upstream of 'c'"):
        build_graph([t("a"), t("b", "a"), t("c")], [("c", "a_id", "a")])


def test_fk_to_a_table_without_task_is_refused() -> None:
    with pytest.raises(GraphError, match="no task fills"):
        build_graph([t("b")], [("b", "a_id", "a")])


def test_decorator_returns_a_value_and_registers_nothing() -> None:
    async def body(ctx: TaskContext) -> None:
        """Seeds things."""

    d = task("things", upstream="other", tags="x", params=["n"])(body)
    assert isinstance(d, TaskDef)
    assert d.upstream == ("other",) and d.tags == ("x",) and d.params == {"n": None}
    assert d.description == "Seeds things."

    bare = task(body)
    assert bare.table == "body"


def test_sync_function_is_refused() -> None:
    from seedgraph import PackError

    def body(ctx: TaskContext) -> None:
        return None

    with pytest.raises(PackError, match="async"):
        task("x")(body)  # type: ignore[arg-type]


async def first(ctx: TaskContext) -> None:
    """Seeds a."""


async def second(ctx: TaskContext) -> None:
    return None


def test_duplicate_table_names_both_definitions() -> None:
    with pytest.raises(GraphError) as exc:
        build_graph([task("a")(first), t("b"), task("a")(second)])
    assert str(exc.value) == (
        "two tasks fill table 'a' (tests.test_graph.first and tests.test_graph.second); "
        "keep one task per table"
    )


def test_duplicate_of_a_nameless_callable_is_still_reported() -> None:
    nameless = TaskDef(table="a", fn=object())  # type: ignore[arg-type]
    with pytest.raises(GraphError, match=r"^two tasks fill table 'a' \(\?\.\? and \?\.\?\)"):
        build_graph([nameless, nameless])


def test_nodes_carry_the_task_its_tags_and_description() -> None:
    a = task("a", tags=["dims", "core"])(first)
    b = task("b", upstream="a")(second)
    g = build_graph([a, b])
    assert dict(g.nodes["a"]) == {"task": a, "tags": ("dims", "core"), "description": "Seeds a."}
    assert dict(g.nodes["b"]) == {"task": b, "tags": (), "description": ""}
    assert list(g.edges) == [("a", "b")]


def test_unknown_upstream_says_what_to_do() -> None:
    with pytest.raises(GraphError) as exc:
        build_graph([t("a", "zzz")])
    assert str(exc.value) == (
        "task 'a' has unknown upstream 'zzz'. Declare a task for it or fix the name.")


def test_cycle_message_says_what_to_do() -> None:
    with pytest.raises(GraphError) as exc:
        build_graph([t("a", "b"), t("b", "a")])
    assert str(exc.value).endswith("; remove one of these upstream declarations")


def test_fks_of_tables_without_a_task_and_self_references_are_ignored() -> None:
    g = build_graph([t("a"), t("b", "a")],
                    [("legacy", "x_id", "nowhere"), ("a", "parent_id", "a"), ("b", "a_id", "a")])
    assert set(g.nodes) == {"a", "b"}


def test_an_ignored_fk_does_not_stop_checking_the_others() -> None:
    with pytest.raises(GraphError, match=r"foreign key b\.a_id references 'a', but 'a' is not"):
        build_graph([t("a"), t("b")], [("a", "parent_id", "a"), ("b", "a_id", "a")])
    with pytest.raises(GraphError, match=r"foreign key b\.c_id references 'c', which no task"):
        build_graph([t("b")], [("a", "x_id", "zzz"), ("b", "c_id", "c")])
