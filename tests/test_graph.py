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
    build_graph([t("a"), t("b", "a"), t("c", "b")], [("c", "a_id", "a")])


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
