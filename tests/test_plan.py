"""Planning (pure): parameters, fingerprints, run/skip/clear decisions, refusals, scheduling."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from seedgraph import PackError, TaskContext, UsageError, task
from seedgraph.fingerprint import canonical as _canonical
from seedgraph.fingerprint import task_fingerprints
from seedgraph.graph import build_graph
from seedgraph.pack import load_pack
from seedgraph.plan import Schedule, Step, TableState, make_plan, resolve_params
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


def test_schedule_hands_out_the_heads_of_the_longest_chains_first() -> None:
    import networkx as nx

    # z heads a chain of 3 (z -> m -> n); y holds up two tasks; a and b hold up nothing
    g = nx.DiGraph([("z", "m"), ("m", "n"), ("y", "p"), ("y", "q")])
    g.add_nodes_from(["a", "b"])
    s = Schedule(g, list(g.nodes))
    assert s.ready() == ["z", "y", "a", "b"]


def test_schedule_weighs_chains_by_the_tasks_costs() -> None:
    import networkx as nx

    # by count z heads the longest chain (z -> m -> n); by cost b does (b alone is 10)
    g = nx.DiGraph([("z", "m"), ("m", "n")])
    g.add_nodes_from(["a", "b"])
    s = Schedule(g, list(g.nodes), {"b": 10.0})
    assert s.ready() == ["b", "z", "a"]
    # only tasks still to run count: with m and n done already, z heads a chain of 1
    s = Schedule(g, ["z", "a", "b"], {"a": 1.5})
    assert s.ready() == ["a", "b", "z"]


def test_schedule_breaks_a_tie_of_chains_by_the_tasks_waiting_then_by_name() -> None:
    import networkx as nx

    # x and y head chains of 2; y holds up two tasks, x one: y first, though x < y
    g = nx.DiGraph([("y", "p"), ("y", "q"), ("x", "r")])
    assert Schedule(g, list(g.nodes)).ready() == ["y", "x"]
    # with q not to run, both hold up one: by name
    assert Schedule(g, ["x", "y", "p", "r"]).ready() == ["x", "y"]


def test_schedule_hands_out_no_more_than_the_free_slots() -> None:
    s = Schedule(GRAPH, ["a", "b", "c", "x"])
    assert s.ready(1) == ["a"]
    assert s.ready(0) == []
    assert s.ready(5) == ["x"]  # a was handed out already; b and c wait for a


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


def test_declared_defaults_apply_unless_a_layer_overrides_them() -> None:
    merged, per = resolve_params(BY, [{}])
    assert merged == {"n": 5, "m": 1} and per == {"a": {"n": 5}, "b": {"m": 1}, "c": {}, "x": {}}
    merged, per = resolve_params(BY, [{"m": 2}, {}])
    assert per["b"] == {"m": 2}


def test_pack_params_may_hold_undeclared_names_later_layers_only_known_ones() -> None:
    merged, per = resolve_params(BY, [{"extra": 1}, {"extra": 2}])
    assert merged["extra"] == 2 and per["a"] == {"n": 5}
    with pytest.raises(UsageError) as exc:
        resolve_params(BY, [{"extra": 1}, {"zzz": 1}])
    assert str(exc.value) == "unknown parameter 'zzz'. Parameters of this pack: m, n"
    with pytest.raises(UsageError) as exc:
        resolve_params({"x": BY["x"]}, [{}, {"zzz": 1}])
    assert str(exc.value) == "unknown parameter 'zzz'. Parameters of this pack: none"


def test_param_without_value_says_how_to_give_one() -> None:
    with pytest.raises(PackError) as exc:
        resolve_params({"lone": t("lone", params=["k"])}, [{}])
    assert str(exc.value) == (
        "task 'lone' reads parameter 'k' but it has no value; give it a default "
        "(@task(..., params={'k': ...}) or PARAMS) or --set k=...")


def test_canonical_parameter_text_is_stable() -> None:
    """Recorded fingerprints are built from this text: it must not depend on key order or
    spacing, and must accept values JSON cannot encode."""
    assert _canonical({"b": [1, 2], "a": {"y": 1, "x": None}}) == (
        '{"a":{"x":null,"y":1},"b":[1,2]}')
    assert _canonical({"when": date(2026, 1, 2)}) == '{"when":"2026-01-02"}'


def test_fingerprints_ignore_param_order_and_accept_any_value() -> None:
    when = {"a": {"n": 5, "when": date(2026, 1, 2)}, "b": {"m": 1}}
    fp = task_fingerprints(GRAPH, when, 42, AS_OF)
    assert set(fp) == {"a", "b", "c", "x"}
    assert all(len(v) == 16 and int(v, 16) >= 0 for v in fp.values())
    swapped = {"a": {"when": date(2026, 1, 2), "n": 5}, "b": {"m": 1}}
    assert task_fingerprints(GRAPH, swapped, 42, AS_OF) == fp
    later = {"a": {"n": 5, "when": date(2026, 1, 3)}, "b": {"m": 1}}
    assert task_fingerprints(GRAPH, later, 42, AS_OF)["a"] != fp["a"]
    # a task missing from the parameter mapping reads no parameters
    explicit = {**when, "c": {}, "x": {}}
    assert task_fingerprints(GRAPH, explicit, 42, AS_OF) == fp


def test_every_reason_is_spelled_out() -> None:
    fp = fps()
    states = {"a": TableState(0, fp["a"], 10), "b": TableState(5, None, None),
              "c": TableState(10, "0" * 16, 10), "x": TableState(10, fp["x"], 10)}
    plan = make_plan(GRAPH, GRAPH.nodes, states, fp)
    assert plan.steps == (
        Step("a", "run", "has 0 rows but seedgraph wrote 10"),
        Step("x", "skip", "up to date"),
        Step("b", "run", "holds 5 rows seedgraph did not write"),
        Step("c", "run", "code, parameters, seed or upstream changed since it was seeded"),
    )
    forced = make_plan(GRAPH, GRAPH.nodes, done(fp), fp, force=True)
    assert {s.reason for s in forced.steps} == {"--force"}
    appended = make_plan(GRAPH, GRAPH.nodes, done(fp), fp, force=True, append=True)
    assert {s.reason for s in appended.steps} == {"append"}


def test_reruns_of_several_upstreams_are_all_named() -> None:
    tasks = [t("p"), t("q"), t("r", "p", "q")]
    graph = build_graph(tasks)
    fp = {"p": "1", "q": "2", "r": "3"}
    states = {"p": TableState(10, "old", 10), "q": TableState(10, "old", 10),
              "r": TableState(10, "3", 10)}
    plan = make_plan(graph, graph.nodes, states, fp)
    assert plan.step("r") == Step("r", "run", "upstream p, q reruns")


def test_plan_records_levels_fingerprints_and_states_of_the_selection() -> None:
    fp = fps()
    states = done(fp)
    plan = make_plan(GRAPH, {"b", "c", "x"}, states, fp)
    assert plan.levels == (("b", "x"), ("c",))
    assert plan.fingerprints == fp and plan.states == states
    assert plan.problems == () and plan.needs_confirm == ()
    full = make_plan(GRAPH, GRAPH.nodes, {}, fp)
    assert full.levels == (("a", "x"), ("b",), ("c",))


def test_a_table_with_one_row_is_cleared() -> None:
    old, new = fps(), fps(m=7)
    states = done(old, rows=1)
    plan = make_plan(GRAPH, GRAPH.nodes, states, new)
    assert plan.clear == ("c", "b") and plan.problems == ()


def test_only_unselected_children_holding_rows_are_problems() -> None:
    old, new = fps(), fps(m=7)
    states = done(old)
    del states["c"]  # c was never seeded: nothing to keep consistent
    plan = make_plan(GRAPH, {"b"}, states, new)
    assert plan.clear == ("b",) and plan.problems == ()
    states["c"] = TableState(0, old["c"], 0)
    assert make_plan(GRAPH, {"b"}, states, new).problems == ()
    states["c"] = TableState(1, old["c"], 1)
    assert make_plan(GRAPH, {"b"}, states, new).problems == (
        "table 'c' is not selected but depends on 'b', which this run empties and rebuilds; "
        "include it: --only 'b+'",
    )


def test_unselected_upstream_is_fine_when_it_holds_rows() -> None:
    fp = fps()
    states = {"a": TableState(10, fp["a"], 10)}
    plan = make_plan(GRAPH, {"b", "c"}, states, fp)
    assert plan.to_run == ("b", "c") and plan.problems == ()


def test_every_empty_unselected_upstream_is_reported() -> None:
    tasks = [t("p"), t("q"), t("r", "p", "q")]
    graph = build_graph(tasks)
    fp = {"p": "1", "q": "2", "r": "3"}
    plan = make_plan(graph, {"p", "r"}, {}, fp)
    assert plan.to_run == ("p", "r")
    assert plan.problems == (
        "task 'r' needs upstream 'q', which is empty and not selected; include it: --only '+r'",
    )


def test_a_failure_skips_only_descendants_that_are_to_run_and_each_once() -> None:
    tasks = [t("p"), t("q"), t("r", "p", "q"), t("s", "r")]
    graph = build_graph(tasks)
    s = Schedule(graph, ["p", "q", "r"])
    assert s.ready() == ["p", "q"]
    assert s.mark_failed("p") == ["r"]
    assert not s.finished
    assert s.mark_failed("q") == []
    assert s.ready() == [] and s.finished
