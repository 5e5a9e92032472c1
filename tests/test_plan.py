"""Planning (pure): parameters, fingerprints, run/skip/clear decisions, refusals, scheduling."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from seedgraph import PackError, TaskContext, UsageError, task
from seedgraph.graph import build_graph
from seedgraph.pack import load_pack
from seedgraph.plan import Schedule, TableState, make_plan, resolve_params, task_fingerprints
from seedgraph.task import TaskDef

AS_OF = datetime(2026, 1, 15, tzinfo=UTC)


def t(name: str, *upstream: str, params: dict[str, object] | None = None) -> TaskDef:
    async def body(ctx: TaskContext) -> None:
        return None

    return task(name, upstream=list(upstream), params=params)(body)


TASKS = [t("a", params={"n": 5}), t("b", "a", params={"m": 1}), t("c", "b"), t("x")]
GRAPH = build_graph(TASKS)
BY = {d.table: d for d in TASKS}


def fps(**params: object) -> dict[str, str]:
    _, per = resolve_params(BY, [{}, params])
    return task_fingerprints(GRAPH, per, 42, AS_OF)


def test_params_precedence_and_declared_only() -> None:
    merged, per = resolve_params(BY, [{"n": 10}, {"n": 20}, {"m": 3}])
    assert merged["n"] == 20 and per["a"] == {"n": 20} and per["b"] == {"m": 3}
    assert per["c"] == {}


def test_unknown_param_is_a_usage_error_with_suggestion() -> None:
    with pytest.raises(UsageError, match="Did you mean 'n'"):
        resolve_params(BY, [{}, {"nn": 1}])


def test_param_without_value_is_a_pack_error() -> None:
    lone = t("lone", params=["k"])
    with pytest.raises(PackError, match="'k'"):
        resolve_params({"lone": lone}, [{}])


def test_fingerprint_changes_follow_params_and_descendants() -> None:
    base, changed = fps(), fps(m=2)
    assert base["a"] == changed["a"] and base["x"] == changed["x"]
    assert base["b"] != changed["b"] and base["c"] != changed["c"]
    _, per = resolve_params(BY, [{}])
    assert task_fingerprints(GRAPH, per, 43, AS_OF)["a"] != base["a"]


def done(fp: dict[str, str], rows: int = 10) -> dict[str, TableState]:
    return {n: TableState(rows, fp[n], rows) for n in fp}


def test_fresh_database_runs_everything_and_clears_nothing() -> None:
    plan = make_plan(GRAPH, GRAPH.nodes, {}, fps())
    assert set(plan.to_run) == {"a", "b", "c", "x"} and plan.clear == ()
    assert plan.step("a").reason == "never seeded"


def test_up_to_date_tables_are_skipped() -> None:
    fp = fps()
    plan = make_plan(GRAPH, GRAPH.nodes, done(fp), fp)
    assert plan.to_run == ()
    assert all(s.reason == "up to date" for s in plan.steps)


def test_changed_param_reruns_task_and_descendants_children_cleared_first() -> None:
    old, new = fps(), fps(m=7)
    plan = make_plan(GRAPH, GRAPH.nodes, done(old), new)
    assert set(plan.to_run) == {"b", "c"}
    assert plan.clear == ("c", "b")
    assert "changed" in plan.step("b").reason


def test_row_count_drift_reruns() -> None:
    fp = fps()
    states = done(fp)
    states["a"] = TableState(7, fp["a"], 10)
    plan = make_plan(GRAPH, GRAPH.nodes, states, fp)
    assert "a" in plan.to_run and "b" in plan.to_run and "upstream a" in plan.step("b").reason


def test_foreign_rows_need_confirm() -> None:
    fp = fps()
    states = done(fp)
    states["x"] = TableState(5, None, None)
    plan = make_plan(GRAPH, GRAPH.nodes, states, fp)
    assert plan.needs_confirm == ("x",)
    states["x"] = TableState(12, fp["x"], 10)  # someone inserted two rows
    plan = make_plan(GRAPH, GRAPH.nodes, states, fp, force=True)
    assert "x" in plan.needs_confirm and "a" not in plan.needs_confirm


def test_refuses_to_empty_a_parent_of_unselected_children() -> None:
    fp = fps()
    plan = make_plan(GRAPH, {"b"}, done(fp), fp, force=True)
    assert any("'c'" in p and "--only 'b+'" in p for p in plan.problems)


def test_refuses_when_unselected_upstream_is_empty() -> None:
    plan = make_plan(GRAPH, {"b", "c"}, {}, fps())
    assert any("needs upstream 'a'" in p and "--only '+b'" in p for p in plan.problems)


def test_append_clears_nothing() -> None:
    fp = fps()
    plan = make_plan(GRAPH, GRAPH.nodes, done(fp), fp, append=True)
    assert set(plan.to_run) == set(GRAPH.nodes) and plan.clear == ()


def test_schedule_hands_out_ready_tasks_and_skips_descendants_of_failures() -> None:
    s = Schedule(GRAPH, ["a", "b", "c", "x"])
    assert s.ready() == ["a", "x"]
    assert s.ready() == []
    s.mark_done("x")
    assert s.mark_failed("a") == ["b", "c"]
    assert s.ready() == [] and s.finished


def test_schedule_does_not_wait_for_unrelated_tasks() -> None:
    s = Schedule(GRAPH, ["a", "b", "c", "x"])
    s.ready()
    s.mark_done("a")
    assert s.ready() == ["b"]  # x still running; b starts anyway


def test_code_digest_covers_the_pack_modules_a_task_uses(tmp_path: Path) -> None:
    """Editing a helper module the task imports changes its digest; an unrelated module of
    the same pack does not."""
    body = ("from seedgraph import task\nfrom . import helper\n\n"
            "@task('t')\nasync def t(ctx):\n    await ctx.write({'v': helper.values()})\n")

    def digest(name: str, helper: str, other: str) -> str:
        pack = tmp_path / name
        pack.mkdir()
        (pack / "__init__.py").write_text("from . import tasks, other  # noqa: F401\n")
        (pack / "tasks.py").write_text(body)
        (pack / "helper.py").write_text(helper)
        (pack / "other.py").write_text(other)
        return load_pack(str(pack)).tasks["t"].source_digest()

    base = digest("a", "def values():\n    return [1]\n", "X = 1\n")
    assert digest("b", "def values():\n    return [1]\n", "X = 2\n") == base
    assert digest("c", "def values():\n    return [2]\n", "X = 1\n") != base
