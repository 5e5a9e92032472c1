"""The runner's guarantees on small graphs defined here, on the in-memory database
(``memory://``): each test takes milliseconds and needs no server and no file.

* a task starts only once all its upstream tasks are done; independent tasks overlap;
  no more than ``concurrency`` task bodies run at once;
* a failure marks the task failed and its descendants skipped while independent
  branches finish; with ``fail_fast`` the rest is interrupted or left pending;
* cancelling the run while a task awaits rolls its table back and marks it interrupted;
* a table's rows and its ``done`` checkpoint commit together: a task that raises after
  writing leaves no rows and no recorded state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
import numpy as np
import pytest
import sqlalchemy as sa

from seedgraph import checkpoints
from seedgraph.backends import Database, parse_url
from seedgraph.backends.sqlite import SqliteTx
from seedgraph.context import TaskContext
from seedgraph.graph import build_graph, unit_of
from seedgraph.plan import make_plan
from seedgraph.runner import RunResult, execute
from seedgraph.task import TaskDef, task

AS_OF = datetime(2024, 1, 1, tzinfo=UTC)
LIMIT = 5.0  # seconds: a run that should take milliseconds and hangs fails instead

Body = Callable[[TaskContext], Awaitable[None]]


class Log:
    """What the task bodies did, in order: ("start" | "end", table)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.running: set[str] = set()
        self.most = 0

    def start(self, table: str) -> None:
        self.events.append(("start", table))
        self.running.add(table)
        self.most = max(self.most, len(self.running))

    def end(self, table: str) -> None:
        self.events.append(("end", table))
        self.running.discard(table)

    def index(self, what: str, table: str) -> int:
        return self.events.index((what, table))


def body(log: Log, *, rows: int = 3, before: Body | None = None,
         after: Body | None = None) -> Body:
    """A task body: log the start, *before*, write *rows* ids, *after*, log the end."""
    async def fn(ctx: TaskContext) -> None:
        log.start(ctx.table)
        if before is not None:
            await before(ctx)
        await ctx.write({"id": np.arange(1, rows + 1)})
        await ctx.flush()
        if after is not None:
            await after(ctx)
        log.end(ctx.table)

    return fn


def sleep(seconds: float) -> Body:
    async def fn(ctx: TaskContext) -> None:
        await anyio.sleep(seconds)

    return fn


async def fail(ctx: TaskContext) -> None:
    raise RuntimeError(f"boom in {ctx.table}")


async def open_db(tasks: Sequence[TaskDef]) -> tuple[Database, Any, int]:
    """A fresh in-memory database holding one table per task, the run's graph and plan,
    and the run's bookkeeping rows (as ``api.run`` writes them before executing)."""
    db = await Database.open(parse_url("memory://"))
    meta = sa.MetaData()
    for t in tasks:
        sa.Table(t.table, meta, sa.Column("id", sa.Integer, primary_key=True))
    await checkpoints.ensure_tables(db)
    await db.create_missing(meta, [t.table for t in tasks])
    db.register(meta)
    graph = build_graph(tasks)
    names = [t.table for t in tasks]
    plan = make_plan(graph, names, await checkpoints.load_states(db, names),
                     {n: f"fp-{n}" for n in names})
    async with db.transaction() as tx:
        run_id = await checkpoints.start_run(
            tx, mode="test", seed=1, as_of=AS_OF, selection={}, params={}, pack="units",
            pack_fingerprint="-", version="-", tables=plan.to_run)
    return db, (graph, plan), run_id


async def run(tasks: Sequence[TaskDef], *, concurrency: int = 4, fail_fast: bool = False
              ) -> tuple[RunResult, dict[str, tuple[str, int]]]:
    """Run *tasks*; return the result and, per table, (recorded status, rows it holds)."""
    db, (graph, plan), run_id = await open_db(tasks)
    try:
        with anyio.fail_after(LIMIT):
            result = await execute(db, graph, plan, run_id=run_id, params={}, seed=1,
                                   as_of=AS_OF, concurrency=concurrency, fail_fast=fail_fast,
                                   handle_signals=False)
        return result, await recorded(db, run_id, [t.table for t in tasks])
    finally:
        await db.close()


async def cancelled_when(tasks: Sequence[TaskDef], moment: Callable[[Database], Awaitable[None]]
                         ) -> dict[str, tuple[str, int]]:
    """Run *tasks*, cancel the run from outside once *moment* returns; per table,
    (recorded status, rows it holds)."""
    db, (graph, plan), run_id = await open_db(tasks)
    try:
        with anyio.fail_after(LIMIT):
            async with anyio.create_task_group() as outer:
                outer.start_soon(lambda: execute(db, graph, plan, run_id=run_id, params={},
                                                 seed=1, as_of=AS_OF, handle_signals=False))
                await moment(db)
                outer.cancel_scope.cancel()
        return await recorded(db, run_id, [t.table for t in tasks])
    finally:
        await db.close()


async def recorded(db: Database, run_id: int, tables: Sequence[str]
                   ) -> dict[str, tuple[str, int]]:
    status = {r.table: r.status.value for r in await checkpoints.task_records(db, run_id)}
    return {t: (status[t], await db.count_rows(t)) for t in tables}


def outcomes(result: RunResult) -> dict[str, str]:
    return {o.table: o.status.value for o in result.outcomes}


# -- (a) scheduling -------------------------------------------------------------


def test_a_task_starts_only_after_all_its_upstream_tasks_finished() -> None:
    log = Log()
    c_started = anyio.Event()

    async def start_c(ctx: TaskContext) -> None:
        c_started.set()

    async def wait_for_c(ctx: TaskContext) -> None:
        await c_started.wait()

    # a and b feed c (b slower than a), c feeds d; e stands alone and ends only once c
    # started: a runner going level by level would wait for e before starting c
    tasks = [TaskDef("a", body(log, before=sleep(0.002))),
             TaskDef("b", body(log, before=sleep(0.01))),
             TaskDef("c", body(log, before=start_c), upstream=("a", "b")),
             TaskDef("d", body(log), upstream=("c",)),
             TaskDef("e", body(log, before=wait_for_c))]
    result, db = anyio.run(run, tasks)
    assert result.status == "done" and db == {t.table: ("done", 3) for t in tasks}
    for child, parent in [("c", "a"), ("c", "b"), ("d", "c")]:
        assert log.index("end", parent) < log.index("start", child), log.events


def test_independent_tasks_overlap() -> None:
    # each body waits for the other to have started: only running at once ends it
    started = {"x": anyio.Event(), "y": anyio.Event()}

    def wait_for(other: str) -> Body:
        async def fn(ctx: TaskContext) -> None:
            started[ctx.table].set()
            await started[other].wait()

        return fn

    log = Log()
    tasks = [TaskDef("x", body(log, before=wait_for("y"))),
             TaskDef("y", body(log, before=wait_for("x")))]
    result, _ = anyio.run(run, tasks)
    assert result.status == "done" and log.most == 2


def test_no_more_than_concurrency_task_bodies_run_at_once() -> None:
    for limit in (1, 2, 3):
        log = Log()
        tasks = [TaskDef(f"t{i}", body(log, before=sleep(0.003))) for i in range(5)]
        result, _ = anyio.run(lambda: run(tasks, concurrency=limit))  # noqa: B023
        assert result.status == "done"
        assert log.most == limit, (limit, log.events)


def test_a_free_slot_goes_to_the_costliest_chain_not_to_the_task_that_waited_longest(
        ) -> None:
    # one slot: s1 and s2 are ready from the start, h (cost 20) only once a ends. A slot
    # handed out first come, first served would run s1 and s2 before h, which bounds the
    # run; the schedule gives it to h
    log = Log()
    tasks = [TaskDef("a", body(log)), TaskDef("s1", body(log)), TaskDef("s2", body(log)),
             TaskDef("h", body(log), upstream=("a",), cost=20)]
    result, _ = anyio.run(lambda: run(tasks, concurrency=1))
    assert result.status == "done"
    assert [t for what, t in log.events if what == "start"] == ["a", "h", "s1", "s2"]


def test_after_a_failure_the_freed_slot_still_runs_the_independent_tasks() -> None:
    log = Log()
    tasks = [TaskDef("a", fail, cost=5), TaskDef("b", body(log), upstream=("a",)),
             TaskDef("c", body(log)), TaskDef("d", body(log))]
    result, db = anyio.run(lambda: run(tasks, concurrency=1))
    assert outcomes(result) == {"a": "failed", "b": "skipped", "c": "done", "d": "done"}
    assert db["c"] == db["d"] == ("done", 3)


# -- (b) failures -----------------------------------------------------------------


def test_a_failure_skips_its_descendants_and_the_other_branch_finishes() -> None:
    log = Log()
    tasks = [TaskDef("a", body(log)),
             TaskDef("b", body(log, after=fail), upstream=("a",)),
             TaskDef("c", body(log), upstream=("b",)),
             TaskDef("d", body(log), upstream=("c", "a")),
             TaskDef("x", body(log, before=sleep(0.005))),
             TaskDef("y", body(log), upstream=("x",))]
    result, db = anyio.run(run, tasks)
    assert result.status == "failed"
    assert outcomes(result) == {"a": "done", "b": "failed", "c": "skipped", "d": "skipped",
                                "x": "done", "y": "done"}
    assert db == {"a": ("done", 3), "b": ("failed", 0), "c": ("skipped", 0),
                  "d": ("skipped", 0), "x": ("done", 3), "y": ("done", 3)}
    error = {o.table: o.error for o in result.outcomes}
    assert error["b"] == "task 'b' failed: RuntimeError: boom in b"
    assert error["c"] == error["d"] == "upstream b failed"
    assert ("start", "c") not in log.events and ("start", "d") not in log.events


def test_fail_fast_interrupts_the_running_tasks_and_leaves_the_rest_pending() -> None:
    log = Log()
    tasks = [TaskDef("a", body(log, before=sleep(0.002), after=fail)),
             TaskDef("b", body(log), upstream=("a",)),
             TaskDef("x", body(log, before=sleep(LIMIT * 2))),  # still running
             TaskDef("y", body(log), upstream=("x",))]
    result, db = anyio.run(lambda: run(tasks, fail_fast=True))
    assert result.status == "failed"
    assert outcomes(result) == {"a": "failed", "b": "skipped", "x": "interrupted",
                                "y": "pending"}
    assert db == {"a": ("failed", 0), "b": ("skipped", 0), "x": ("interrupted", 0),
                  "y": ("pending", 0)}
    assert ("end", "x") not in log.events and ("start", "y") not in log.events


# -- (c) cancellation ---------------------------------------------------------------


def test_cancelling_the_run_while_a_task_awaits_rolls_its_table_back() -> None:
    log = Log()
    holding = anyio.Event()

    async def hold(ctx: TaskContext) -> None:
        holding.set()
        await anyio.sleep_forever()

    tasks = [TaskDef("base", body(log)),
             TaskDef("slow", body(log, rows=5, after=hold), upstream=("base",)),
             TaskDef("after", body(log), upstream=("slow",))]

    async def rows_in(db: Database) -> None:
        await holding.wait()
        # the rows are in, not committed (one connection: this read sees them)
        while await db.count_rows("slow") < 5:
            await anyio.sleep(0)

    db = anyio.run(cancelled_when, tasks, rows_in)
    assert db == {"base": ("done", 3), "slow": ("interrupted", 0), "after": ("pending", 0)}
    assert ("end", "slow") not in log.events and ("start", "after") not in log.events


def test_a_task_made_ready_as_the_run_is_cancelled_stays_pending(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the run is cancelled from outside while base commits; base's end then readies
    # after, which must not start (its body must not run, its state stays pending)
    log = Log()
    committed = anyio.Event()
    armed = [False]
    finish = SqliteTx.finish

    async def finish_then_signal(self: SqliteTx, ok: bool) -> None:
        await finish(self, ok)
        if ok and armed[0]:
            armed[0] = False
            committed.set()

    async def arm(ctx: TaskContext) -> None:
        armed[0] = True

    monkeypatch.setattr(SqliteTx, "finish", finish_then_signal)
    tasks = [TaskDef("base", body(log, after=arm)),
             TaskDef("after", body(log), upstream=("base",))]

    async def base_committed(db: Database) -> None:
        await committed.wait()

    assert anyio.run(cancelled_when, tasks, base_committed) == {
        "base": ("done", 3), "after": ("pending", 0)}
    assert ("start", "after") not in log.events


# -- (d) rows and the checkpoint commit together --------------------------------------


def test_a_task_that_raises_after_writing_leaves_no_rows_and_no_state() -> None:
    log = Log()
    seen: list[int] = []
    opened: list[Database] = []

    async def rows_in(ctx: TaskContext) -> None:
        # the rows are in the table, not committed (one connection: this read sees them)
        while await opened[0].count_rows(ctx.table) < 1000:
            await anyio.sleep(0)
        seen.append(await opened[0].count_rows(ctx.table))

    tasks = [TaskDef("kept", body(log)),
             TaskDef("lost", body(log, rows=1000, after=_then(rows_in, fail)))]

    async def go() -> tuple[RunResult, dict[str, tuple[str, int]], list[tuple[Any, ...]]]:
        db, (graph, plan), run_id = await open_db(tasks)
        opened.append(db)
        try:
            with anyio.fail_after(LIMIT):
                result = await execute(db, graph, plan, run_id=run_id, params={}, seed=1,
                                       as_of=AS_OF, handle_signals=False)
            state = await db.query("SELECT table_name, rows FROM seedgraph_state "
                                   "ORDER BY table_name")
            return result, await recorded(db, run_id, ["kept", "lost"]), state
        finally:
            await db.close()

    result, db, state = anyio.run(go)
    assert seen == [1000]  # the body's rows were written before it raised
    assert outcomes(result) == {"kept": "done", "lost": "failed"}
    assert db == {"kept": ("done", 3), "lost": ("failed", 0)}
    assert state == [("kept", 3)]  # the done table's checkpoint, nothing for the failed one


def _then(*steps: Body) -> Body:
    async def fn(ctx: TaskContext) -> None:
        for step in steps:
            await step(ctx)

    return fn


# -- the in-memory database itself ----------------------------------------------------


def test_a_task_reads_a_table_not_described_yet_after_writing() -> None:
    # its transaction holds the one connection's write lock: describing the table read
    # (SQLAlchemy's reflection) must not wait for that lock, nor end the transaction
    log = Log()
    opened: list[Database] = []
    read: list[list[int]] = []

    async def read_up(ctx: TaskContext) -> None:
        opened[0].specs.pop("up")  # as when an earlier run seeded it
        read.append((await ctx.read("up", ["id"]))["id"].tolist())

    tasks = [TaskDef("up", body(log)), TaskDef("down", body(log, after=read_up),
                                               upstream=("up",))]

    async def go() -> tuple[RunResult, dict[str, tuple[str, int]]]:
        db, (graph, plan), run_id = await open_db(tasks)
        opened.append(db)
        try:
            with anyio.fail_after(LIMIT):
                result = await execute(db, graph, plan, run_id=run_id, params={}, seed=1,
                                       as_of=AS_OF, handle_signals=False)
            return result, await recorded(db, run_id, ["up", "down"])
        finally:
            await db.close()

    result, db = anyio.run(go)
    assert read == [[1, 2, 3]]
    assert result.status == "done" and db == {"up": ("done", 3), "down": ("done", 3)}


def test_a_cycle_of_not_null_keys_loads_as_one_unit_in_memory() -> None:
    """Two tables whose NOT NULL keys refer to each other: one transaction, the closing
    key filled in after both are loaded; a failure in the second rolls back both."""
    from seedgraph.cycles import CycleKey

    md = sa.MetaData()
    sa.Table("store", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("manager_id", sa.Integer, sa.ForeignKey("staff.id", use_alter=True),
                       nullable=False, unique=True))
    sa.Table("staff", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("store_id", sa.Integer, sa.ForeignKey("store.id"), nullable=False))
    fail = {"staff": False}

    @task("staff", upstream=["store"])
    async def staff(ctx: TaskContext) -> None:
        stores = await ctx.read("store", ["id"])  # the partner's rows, not yet committed
        await ctx.write({"id": np.arange(1, 7), "store_id": np.repeat(stores["id"], 2)})
        if fail["staff"]:
            raise RuntimeError("staff broke")

    @task("store")
    async def store(ctx: TaskContext) -> None:
        await ctx.write({"id": np.arange(1, 4), "manager_id": -np.arange(1, 4)})

    key_store = CycleKey("store", "manager_id", "staff", "id", unique=True, back="store_id")

    async def go(broken: bool) -> tuple[RunResult, list[tuple[Any, ...]]]:
        fail["staff"] = broken
        graph = build_graph([store, staff], cycle_keys=[("store", "staff")])
        assert unit_of(graph, "staff") == ("store", "staff")
        db = await Database.open(parse_url("memory://"))
        try:
            db.register(md)
            await db.create_missing(md, ["store", "staff"])
            await checkpoints.ensure_tables(db)
            plan = make_plan(graph, ["store", "staff"], {}, {"store": "a", "staff": "b"})
            async with db.transaction() as tx:
                run_id = await checkpoints.start_run(
                    tx, mode="build", seed=1, as_of=AS_OF, selection={}, params={}, pack="t",
                    pack_fingerprint="x", version="0", tables=plan.to_run)
            result = await execute(db, graph, plan, run_id=run_id, params={}, seed=1,
                                   as_of=AS_OF, handle_signals=False, cycle_keys=[key_store])
            rows = await db.query("SELECT s.id, s.manager_id, f.store_id FROM store s "
                                  "JOIN staff f ON f.id = s.manager_id ORDER BY s.id")
            return result, rows
        finally:
            await db.close()

    result, rows = anyio.run(go, False)
    assert {o.table: o.status for o in result.outcomes} == {"store": "done", "staff": "done"}
    assert [r[0] for r in rows] == [1, 2, 3]
    assert all(manager > 0 and works_at == s for s, manager, works_at in rows)
    assert len({r[1] for r in rows}) == 3  # unique managers
    result, rows = anyio.run(go, True)
    assert {o.table: o.status for o in result.outcomes} == {"store": "failed",
                                                            "staff": "failed"}
    assert rows == []
