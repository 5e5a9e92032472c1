"""Execute a plan with anyio: a task starts as soon as its upstream is done.

Each task runs in its own transaction: the rows it writes and its ``done``
checkpoint commit together, so a crash leaves every table either fully seeded
and marked done, or untouched. A failure skips the failed task's descendants
while independent branches go on; ``fail_fast`` cancels everything instead.
Cancellation (Ctrl-C, SIGTERM) rolls back in-flight tasks and marks them
interrupted.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any

import anyio
import networkx as nx
from anyio.abc import TaskGroup

from seedgraph import checkpoints, detach, partitions
from seedgraph.backends import Database, Tx
from seedgraph.body import first_error, load_table
from seedgraph.context import Reader
from seedgraph.cycles import CycleKey, fill_in
from seedgraph.errors import TaskFailed
from seedgraph.events import (
    Listener,
    RunFinished,
    RunStatus,
    TaskOutcome,
    TaskProgress,
    TaskStarted,
    TaskStatus,
)
from seedgraph.executors import Executor, LocalExecutor, PartitionJob, TableJob
from seedgraph.graph import unit_of
from seedgraph.plan import Plan, Schedule
from seedgraph.readcache import ReadCache
from seedgraph.task import TaskDef

__all__ = ["RunResult", "TaskOutcome", "execute"]

SIGNAL_GRACE = 3.0  # seconds the event loop has to take Ctrl-C before it is forced


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: int
    status: RunStatus
    seconds: float
    outcomes: tuple[TaskOutcome, ...]

    @property
    def rows(self) -> int:
        return sum(o.rows for o in self.outcomes if o.status == TaskStatus.DONE)


@dataclass(slots=True)
class _Settings:
    run_id: int
    seed: int
    as_of: datetime
    append: bool
    chunk_rows: int
    fail_fast: bool
    force: bool = False  # upserted tables update existing rows to the written values


class _Execution:
    def __init__(self, db: Database, graph: nx.DiGraph, plan: Plan,
                 params: Mapping[str, Mapping[str, Any]], settings: _Settings,
                 listener: Listener, concurrency: int, cycle_keys: Sequence[CycleKey],
                 executor: Executor | None = None, locate: tuple[str, str, str] = ("", "", ""),
                 data: Mapping[str, str] | None = None) -> None:
        self.db = db
        self.graph = graph
        self.plan = plan
        self.params = params
        self.s = settings
        self.emit = listener
        self.cycle_keys = cycle_keys
        self.executor = executor or LocalExecutor(db, max(1, concurrency))
        self.locate = locate  # (pack, base dir, url): where a worker finds the task
        self.data = data or {}
        # tasks start only into a free slot, so the schedule, not the order they became
        # ready in, decides which start first
        self.slots = max(1, concurrency)
        self.running = 0
        # a cycle's tables load as one unit, scheduled under its first table's name
        self.members = {unit_of(graph, t)[0]: [m for m in unit_of(graph, t) if m in plan.to_run]
                        for t in plan.to_run}
        costs = {head: sum(graph.nodes[m]["task"].cost for m in members)
                 for head, members in self.members.items()}
        self.schedule = Schedule(_units_graph(graph), self.members, costs)
        self.outcomes: dict[str, TaskOutcome] = {}
        to_run = set(plan.to_run)
        self.cache = ReadCache({t: set(graph.successors(t)) & to_run for t in graph})
        self.interrupted = False
        self.failed = False

    def start_ready(self, tg: TaskGroup) -> None:
        if tg.cancel_scope.cancel_called:
            return
        for name in self.schedule.ready(self.slots - self.running):
            self.running += 1
            tg.start_soon(self.run_task, name, tg, name=f"seedgraph:{name}")

    async def run_task(self, name: str, tg: TaskGroup) -> None:
        try:
            # a run cancelled (interrupted) before this task took its first step: it has
            # not started, so it stays pending (a new task is not cancelled until it
            # awaits, and the cancel may not have reached this task group yet)
            await anyio.lowlevel.checkpoint_if_cancelled()
            await self._run_unit(self.members[name], tg)
        finally:
            self.running -= 1
        self.start_ready(tg)

    def end(self, outcome: TaskOutcome) -> None:
        """Record how a task ended and tell the listener."""
        self.outcomes[outcome.table] = outcome
        self.cache.ended(outcome.table)
        self.emit(outcome)

    async def _mark(self, tables: Sequence[str], status: TaskStatus, error: str | None = None,
                    started_at: str | None = None, seconds: float | None = None) -> None:
        for t in tables:
            await checkpoints.mark_status(self.db, run_id=self.s.run_id, table=t,
                                          status=status, error=error, started_at=started_at,
                                          seconds=seconds)

    async def _run_unit(self, names: list[str], tg: TaskGroup) -> None:
        """Run one table's task, or the tasks of a cycle's tables in one transaction."""
        head = names[0]
        started_at = checkpoints.now()
        t0 = time.perf_counter()
        for name in names:
            self.emit(TaskStarted(name))
        if self.db.concurrent_writers:  # else it would wait for the other tasks' commits
            await self._mark(names, TaskStatus.RUNNING, started_at=started_at)
        try:
            try:
                task: TaskDef = self.graph.nodes[head]["task"]
                if len(names) == 1 and task.partitions is not None and not self.s.append:
                    loaded = {head: await self._load_partitioned(task, started_at, t0)}
                elif len(names) == 1 and task.partitions is None and self.executor.remote \
                        and self.db.concurrent_writers:
                    loaded = {head: await self.executor.load_table(self._job(task, started_at))}
                else:
                    loaded = await self._load(names, started_at, t0)
            except BaseExceptionGroup as group:
                exc = first_error(group)
                if isinstance(exc, TaskFailed | anyio.get_cancelled_exc_class()):
                    raise exc from None
                raise TaskFailed(head, exc) from exc
            except (TaskFailed, anyio.get_cancelled_exc_class()):
                raise
            except Exception as exc:  # e.g. the commit itself failed
                raise TaskFailed(head, exc) from exc
        except anyio.get_cancelled_exc_class():
            seconds = time.perf_counter() - t0
            with anyio.CancelScope(shield=True):
                await self._mark(names, TaskStatus.INTERRUPTED, "cancelled; rolled back",
                                 started_at, seconds)
            for name in names:
                self.end(TaskOutcome(name, TaskStatus.INTERRUPTED, 0, seconds, "cancelled"))
            raise
        except TaskFailed as exc:
            seconds = time.perf_counter() - t0
            self.failed = True
            for name in names:  # a unit fails whole: its transaction rolled back
                message = str(exc) if name == exc.table else \
                    f"rolled back with {exc.table} (their keys form a cycle): {exc}"
                await self._mark([name], TaskStatus.FAILED, message, started_at, seconds)
                self.end(TaskOutcome(name, TaskStatus.FAILED, 0, seconds, message))
            for d in self.schedule.mark_failed(head):
                why = f"upstream {exc.table} failed"
                for member in self.members[d]:
                    await self._mark([member], TaskStatus.SKIPPED, why)
                    self.end(TaskOutcome(member, TaskStatus.SKIPPED, 0, 0.0, why))
            if self.s.fail_fast:
                tg.cancel_scope.cancel()
            return
        seconds = time.perf_counter() - t0
        for name in names:
            rows, note = loaded[name]
            self.end(TaskOutcome(name, TaskStatus.DONE, rows, seconds, note=note))
        self.schedule.mark_done(head)

    async def _load(self, names: list[str], started_at: str, t0: float
                    ) -> dict[str, tuple[int, str | None]]:
        """Run the task bodies and commit their rows with their checkpoints in one
        transaction; return the rows each wrote (and, for an upsert, what became of them).
        Several names are a cycle's tables: the keys closing it are filled in last."""
        keys = [k for k in self.cycle_keys if k.child in names and k.parent in names]
        out: dict[str, tuple[int, str | None]] = {}
        current = names[0]
        # reflected now, with the tables they read: a unit's transaction locks its tables,
        # and reflection reads the catalog on another connection
        for name in sorted({*names, *(u for n in names for u in self.graph.predecessors(n))}):
            await self.db.spec(name)
        async with detach.detached(self.db, current, self.s.run_id,
                                   enabled=len(names) == 1 and not self.s.append) as away, \
                self.db.transaction() as tx:
            try:
                if len(names) > 1:
                    await tx.open_unit([(k.child, k.column) for k in keys])
                for current in names:
                    # a cycle's tables read their partners' rows through the transaction
                    reader = tx if len(names) > 1 else self.cache.reader(self.db, current)
                    out[current] = await self._load_table(tx, current, t0, reader=reader)
                if len(names) > 1:
                    for key in keys:
                        current = key.child
                        await fill_in(tx, key, await self.db.spec(key.child), self.s.seed)
                    await tx.close_unit(names)
                await detach.attach(tx, away)
                for name in names:
                    await checkpoints.mark_done(
                        tx, run_id=self.s.run_id, table=name, rows=out[name][0],
                        fingerprint=self.plan.fingerprints[name], started_at=started_at,
                        seconds=time.perf_counter() - t0, append=self.s.append)
            except anyio.get_cancelled_exc_class():
                raise
            except (TaskFailed, BaseExceptionGroup):
                raise
            except Exception as exc:
                raise TaskFailed(current, exc) from exc
        return out

    async def _load_partitioned(self, task: TaskDef, started_at: str,
                                t0: float) -> tuple[int, str | None]:
        """Load the partitions that have not committed (each in its own transaction,
        wherever the executor runs them), then the table-level finish step."""
        name, fp = task.table, self.plan.fingerprints[task.table]
        keys = await partitions.partition_keys(self.db, task)
        done = await partitions.done_partitions(self.db, name, fp)
        await partitions.prepare(self.db, name, self.s.run_id)
        todo = [k for k in keys if str(k) not in done]
        loaded = {k: rows for k, rows in done.items()}

        def progress(key: Any) -> Callable[[int], None]:
            def on_rows(rows: int) -> None:
                loaded[str(key)] = rows
                self.emit(TaskProgress(name, sum(loaded.values()), time.perf_counter() - t0))
            return on_rows

        limiter = anyio.CapacityLimiter(max(1, self.executor.workers))

        async def one(key: Any) -> None:
            async with limiter:
                job = PartitionJob(**self._job_fields(task, key, len(keys)))
                await self.executor.load(task, job, progress(key),
                                         self.cache.reader(self.db, name))

        async with anyio.create_task_group() as tg:
            for key in todo:
                tg.start_soon(one, key)
        rows = await partitions.finish(self.db, task, run_id=self.s.run_id, fingerprint=fp,
                                       started_at=started_at, t0=t0,
                                       mark_done=checkpoints.mark_done)
        return rows, (f"{len(keys)} partitions" if not done else
                      f"{len(keys)} partitions, {len(todo)} run now")

    def _job(self, task: TaskDef, started_at: str) -> TableJob:
        """*task*'s whole table as a job for a worker (which commits its checkpoint)."""
        return TableJob(**self._job_fields(task, None, 0), append=self.s.append,
                        force=self.s.force, started_at=started_at)

    def _job_fields(self, task: TaskDef, key: Any, count: int) -> dict[str, Any]:
        """What a worker needs for a job of *task* (a :class:`PartitionJob`'s fields)."""
        pack, base, url = self.locate
        return {"pack": pack, "base_dir": base, "url": url, "table": task.table, "key": key,
                "count": count, "run_id": self.s.run_id, "seed": self.s.seed,
                "as_of": self.s.as_of, "fingerprint": self.plan.fingerprints[task.table],
                "chunk_rows": self.s.chunk_rows, "params": dict(self.params.get(task.table, {})),
                "data": self.data}

    async def _load_table(self, tx: Tx, name: str, t0: float,
                          reader: Reader) -> tuple[int, str | None]:
        def progress(rows: int) -> None:
            self.emit(TaskProgress(name, rows, time.perf_counter() - t0))

        task: TaskDef = self.graph.nodes[name]["task"]
        # a partitioned table appended to: every partition, in order, in this transaction
        # (the contexts and random streams of a partitioned run), so it is all or nothing
        parts = [None] if task.partitions is None else \
            await partitions.partition_keys(reader, task)
        return await load_table(
            tx, task, await self.db.spec(name), reader=reader, dialect=self.db.dialect,
            seed=self.s.seed, as_of=self.s.as_of, params=self.params.get(name, {}),
            chunk_rows=self.s.chunk_rows, on_rows=progress, append=self.s.append,
            update=self.s.force, parts=parts)

    async def watch_signals(self, tg: TaskGroup) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            restore = _unblock_on_signal(lambda: self.interrupted)
            try:
                async for _ in signals:
                    self.interrupted = True
                    tg.cancel_scope.cancel()
                    return
            finally:
                restore()


def _units_graph(graph: nx.DiGraph) -> nx.DiGraph:
    """*graph* with each cycle's tables merged into its first table (a DAG)."""
    head = {t: unit_of(graph, t)[0] for t in graph}
    out = nx.DiGraph()
    out.add_nodes_from(set(head.values()))
    out.add_edges_from((head[u], head[v]) for u, v in graph.edges if head[u] != head[v])
    return out


def _unblock_on_signal(taken: Callable[[], bool], grace: float = SIGNAL_GRACE
                       ) -> Callable[[], None]:
    """The event loop sees a signal only when it runs: a task body busy in synchronous
    code would keep it waiting forever. Python runs signal handlers in the main thread
    between bytecodes (and a blocking call such as ``time.sleep`` returns early for
    them), so a handler wrapped around the loop's own starts a timer; if the loop has
    not *taken* the signal after *grace* seconds, the timer sends the signal again and
    the handler raises KeyboardInterrupt inside the busy code. The process then exits
    (130), the database rolls back the open transactions, and the run row, left
    ``running``, is closed as interrupted by the next run (``status`` already shows it
    so). Returns the function that restores the handlers."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    forced = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if forced.is_set():
            raise KeyboardInterrupt
        prev = previous[signal.Signals(signum)]
        if callable(prev):
            prev(signum, frame)  # the loop's own (its wakeup fd carries the signal)

        def check() -> None:
            if not taken():
                forced.set()
                os.kill(os.getpid(), signum)

        timer = threading.Timer(grace, check)
        timer.daemon = True
        timer.start()

    for sig in previous:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, prev in previous.items():
            signal.signal(sig, prev)

    return restore


async def execute(db: Database, graph: nx.DiGraph, plan: Plan, *, run_id: int,
                  params: Mapping[str, Mapping[str, Any]], seed: int, as_of: datetime,
                  append: bool = False, concurrency: int = 4, fail_fast: bool = False,
                  force: bool = False, cycle_keys: Sequence[CycleKey] = (),
                  executor: Executor | None = None, locate: tuple[str, str, str] = ("", "", ""),
                  data: Mapping[str, str] | None = None,
                  chunk_rows: int = 50_000, listener: Listener = lambda e: None,
                  handle_signals: bool = True) -> RunResult:
    """Run the plan's tasks; return per-task outcomes and the run's status."""
    t0 = time.perf_counter()
    settings = _Settings(run_id, seed, as_of, append, chunk_rows, fail_fast, force)
    ex = _Execution(db, graph, plan, params, settings, listener, concurrency, cycle_keys,
                    executor, locate, data)
    async with anyio.create_task_group() as outer:
        if handle_signals:
            outer.start_soon(ex.watch_signals, outer)
        async with anyio.create_task_group() as tg:
            ex.start_ready(tg)
        outer.cancel_scope.cancel()
    cancelled = ex.interrupted or (fail_fast and ex.failed)
    status = RunStatus.INTERRUPTED if ex.interrupted else (
        RunStatus.FAILED if ex.failed else RunStatus.DONE)
    for step in plan.steps:
        if step.table in ex.outcomes:
            continue
        if step.action == "skip":
            ex.outcomes[step.table] = TaskOutcome(step.table, TaskStatus.UP_TO_DATE, 0, 0.0,
                                                  step.reason)
        elif cancelled:
            ex.outcomes[step.table] = TaskOutcome(step.table, TaskStatus.PENDING, 0, 0.0,
                                                  "not started")
    seconds = time.perf_counter() - t0
    with anyio.CancelScope(shield=True):
        await checkpoints.finish_run(db, run_id, status)
    listener(RunFinished(run_id, status, seconds))
    ordered = tuple(ex.outcomes[s.table] for s in plan.steps if s.table in ex.outcomes)
    return RunResult(run_id, status, seconds, ordered)
