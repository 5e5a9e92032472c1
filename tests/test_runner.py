"""The runner in-process: events, the concurrency limit, the 'running' status, a database
error inside a load, and an interrupt (a real SIGINT) rolling back what is in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from seedgraph import api
from seedgraph.events import (
    Event,
    RunFinished,
    RunStarted,
    TaskFinished,
    TaskProgress,
    TaskStarted,
)
from seedgraph.runner import TaskOutcome
from tests.helpers import AS_OF, MINI, MINI_TABLES, checksums, cli, query, run_engine


def test_events_tell_the_whole_story_in_order(db_url: str) -> None:
    events: list[Event] = []
    result = run_engine(db_url, events=events)
    assert result.status == "done" and 0 < result.seconds < 60
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert events[-1].status == "done" and events[-1].run_id == result.run_id
    assert 0 < events[-1].seconds < 60
    assert all(0 <= e.seconds < 60 for e in events if isinstance(e, TaskProgress))
    started = [e.table for e in events if isinstance(e, TaskStarted)]
    finished = {e.table: e for e in events if isinstance(e, TaskFinished)}
    assert sorted(started) == sorted(events[0].to_run) == sorted(finished)
    for outcome in result.outcomes:
        e = finished[outcome.table]
        assert (e.status, e.rows, e.error, e.seconds) == ("done", outcome.rows, None,
                                                          outcome.seconds)
        assert 0 < outcome.seconds < 60
        progress = [p.rows for p in events if isinstance(p, TaskProgress)
                    and p.table == outcome.table]
        assert progress == sorted(progress) and progress[-1] == outcome.rows
        i_start = next(i for i, x in enumerate(events)
                       if isinstance(x, TaskStarted) and x.table == outcome.table)
        i_end = events.index(e)
        assert i_start < i_end
    # a task starts only after every upstream task finished
    order = [("TaskStarted" if isinstance(x, TaskStarted) else "TaskFinished", x.table)
             for x in events if isinstance(x, TaskStarted | TaskFinished)]
    for child, parent in [("customers", "regions"), ("orders", "customers"),
                          ("order_items", "orders"), ("order_items", "products")]:
        assert order.index(("TaskFinished", parent)) < order.index(("TaskStarted", child))


def _most_at_once(events: list[Event]) -> int:
    running: set[str] = set()
    most = 0
    for e in events:
        if isinstance(e, TaskStarted):
            running.add(e.table)
            most = max(most, len(running))
        elif isinstance(e, TaskFinished):
            running.discard(e.table)
    return most


@pytest.mark.parametrize("concurrency", [1, 2])
def test_at_most_concurrency_tasks_run_at_once(
        db_url: str, monkeypatch: pytest.MonkeyPatch, concurrency: int) -> None:
    # three independent slow tasks: without a limit all three would overlap
    monkeypatch.setenv("MINI_SLEEP", "products:0.3,audit_notes:0.3,orders:0.1")
    events: list[Event] = []
    assert run_engine(db_url, events=events, concurrency=concurrency).status == "done"
    assert _most_at_once(events) == concurrency


def test_the_running_status_is_visible_while_a_task_runs(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINI_SLEEP", "orders:0.5")
    seen: list[tuple[Any, ...]] = []

    def look() -> None:
        seen.extend(query(pg_url, "SELECT status, started_at IS NOT NULL, finished_at, "
                                  "seconds FROM seedgraph_tasks WHERE table_name = 'orders'"))
        seen.extend(query(pg_url, "SELECT status, NULL, NULL, NULL FROM seedgraph_tasks "
                                  "WHERE table_name = 'order_items'"))  # not started yet
        seen.extend(query(pg_url, "SELECT status, NULL, finished_at, NULL FROM seedgraph_runs"))

    threads: list[threading.Thread] = []

    def listener(e: Event) -> None:
        if isinstance(e, TaskStarted) and e.table == "orders":
            t = threading.Timer(0.6, look)
            t.start()
            threads.append(t)

    assert run_engine(pg_url, events=_Recorder(listener)).status == "done"
    for t in threads:
        t.join()
    assert seen == [("running", True, None, None), ("pending", None, None, None),
                    ("running", None, None, None)]
    done = query(pg_url, "SELECT status, started_at <= finished_at, seconds > 0.5 "
                         "FROM seedgraph_tasks WHERE table_name = 'orders'")
    assert done == [("done", True, True)]


class _Recorder(list[Event]):
    """An event list that also calls a function on each event."""

    def __init__(self, on_event: Any) -> None:
        super().__init__()
        self._on_event = on_event

    def append(self, e: Event) -> None:
        super().append(e)
        self._on_event(e)


def test_a_database_error_inside_the_load_fails_the_task_with_its_cause(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINI_BAD", "products")
    events: list[Event] = []
    result = run_engine(db_url, events=events)
    assert result.status == "failed"
    outcome = {o.table: o for o in result.outcomes}
    error = outcome["products"].error or ""
    assert outcome["products"].status == "failed" and outcome["products"].rows == 0
    assert error.startswith("task 'products' failed: ")
    assert "ck_products_price" in error or "CHECK constraint failed" in error
    assert outcome["order_items"].status == "skipped"
    assert outcome["order_items"].error == "upstream products failed"
    assert outcome["orders"].status == "done"  # the other branch goes on
    finished = {e.table: e for e in events if isinstance(e, TaskFinished)}
    failed = finished["products"]
    assert (failed.status, failed.rows, failed.error) == ("failed", 0, error)
    assert 0 < failed.seconds < 60 and 0 < outcome["products"].seconds < 60
    assert finished["order_items"] == TaskFinished("order_items", "skipped", 0, 0.0,
                                                   "upstream products failed")
    assert (outcome["order_items"].rows, outcome["order_items"].seconds) == (0, 0.0)
    assert query(db_url, "SELECT COUNT(*) FROM products")[0][0] == 0
    recorded = query(db_url, "SELECT status, error FROM seedgraph_tasks "
                             "WHERE table_name = 'products'")
    assert recorded == [("failed", error)]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_rolls_back_in_flight_tasks_and_records_them(
        db_url: str, monkeypatch: pytest.MonkeyPatch, sig: signal.Signals) -> None:
    monkeypatch.setenv("MINI_SLEEP", "orders:0.5")
    events: list[Event] = []

    def listener(e: Event) -> None:
        events.append(e)
        if isinstance(e, TaskStarted) and e.table == "orders":
            threading.Timer(0.3, os.kill, (os.getpid(), sig)).start()

    options = api.Options(pack=MINI, db=db_url, seed=7, as_of=AS_OF)
    result = anyio.run(lambda: api.run(options, listener, handle_signals=True))
    assert result.status == "interrupted"
    outcome = {o.table: o for o in result.outcomes}
    assert outcome["orders"].status == "interrupted" and outcome["orders"].rows == 0
    assert outcome["orders"].error == "cancelled" and 0.2 < outcome["orders"].seconds < 60
    assert outcome["order_items"] == TaskOutcome("order_items", "pending", 0, 0.0, "not started")
    assert outcome["customers"].status == "done"
    assert query(db_url, "SELECT COUNT(*) FROM orders")[0][0] == 0
    row = query(db_url, "SELECT status, error, started_at IS NOT NULL, finished_at IS NOT "
                        "NULL, seconds > 0.2 FROM seedgraph_tasks WHERE table_name = 'orders'")
    assert row == [("interrupted", "cancelled; rolled back", True, True, True)]
    assert query(db_url, "SELECT status FROM seedgraph_runs") == [("interrupted",)]
    last = events[-1]
    assert isinstance(last, RunFinished) and last.status == "interrupted"
    (stopped,) = [e for e in events if isinstance(e, TaskFinished) and e.table == "orders"]
    assert (stopped.status, stopped.rows, stopped.error) == ("interrupted", 0, "cancelled")
    assert 0.2 < stopped.seconds < 60


def test_the_error_that_matters_is_found_in_nested_groups() -> None:
    from seedgraph.body import first_error as _first

    async def go() -> None:  # the cancellation class is the running event loop's
        cancelled = anyio.get_cancelled_exc_class()
        real = ValueError("the cause")
        nested = BaseExceptionGroup("outer", [
            cancelled(), BaseExceptionGroup("inner", [cancelled(), real]), KeyError("later")])
        assert _first(nested) is real
        only = cancelled()
        assert _first(BaseExceptionGroup("g", [BaseExceptionGroup("h", [only])])) is only
        first, second = RuntimeError("a"), RuntimeError("b")
        assert _first(BaseExceptionGroup("g", [first, second])) is first

    anyio.run(go)


def test_an_up_to_date_table_is_an_outcome_and_a_record(db_url: str) -> None:
    run_engine(db_url)
    again = run_engine(db_url)
    assert again.status == "done" and again.rows == 0
    assert {o.table: o for o in again.outcomes} == {
        t: TaskOutcome(t, "up-to-date", 0, 0.0, "up to date") for t in MINI_TABLES}
    records = query(db_url, "SELECT table_name, status, error FROM seedgraph_tasks "
                            "WHERE run_id = 2 ORDER BY table_name")
    assert records == [(t, "done", "up to date (skipped)") for t in sorted(MINI_TABLES)]


def test_the_seed_reaches_every_task(db_url: str, another_db: Any) -> None:
    other = another_db()
    run_engine(db_url, seed=1)
    run_engine(other, seed=2)
    mine, theirs = checksums(db_url, MINI_TABLES), checksums(other, MINI_TABLES)
    # regions is a fixed list; every table drawn from the seed differs
    assert [t for t in MINI_TABLES if mine[t] == theirs[t]] == ["regions", "audit_notes"]


BUSY_PACK = '''
import os
import time

import sqlalchemy as sa

from seedgraph import task

METADATA = sa.MetaData()
sa.Table("busy", METADATA, sa.Column("id", sa.Integer, primary_key=True))


@task("busy")
async def busy(ctx):
    await ctx.write({"id": list(range(1, 1001))})
    await ctx.flush()
    if os.environ.get("BUSY_MARKER"):
        open(os.environ["BUSY_MARKER"], "w").close()
        time.sleep(120)  # synchronous: the event loop cannot run until it returns
'''


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_task_busy_in_synchronous_code(
        tmp_path: Path, sig: signal.Signals) -> None:
    (tmp_path / "busy_pack.py").write_text(BUSY_PACK)
    db = f"sqlite:///{tmp_path / 'busy.db'}"
    marker = tmp_path / "started"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDGRAPH_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "seedgraph", "run", "--pack", "busy_pack.py", "--db", db, "-q"],
        cwd=tmp_path, env={**env, "BUSY_MARKER": str(marker)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not marker.exists():
            assert proc.poll() is None and time.time() < deadline, proc.communicate()
            time.sleep(0.05)
        sent = time.time()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()  # never leave it behind when the test fails
    assert proc.returncode == 130, stderr
    assert time.time() - sent < 15  # SIGNAL_GRACE (3 s) plus start-up slack, not 120 s
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert query(db, "SELECT COUNT(*) FROM busy")[0][0] == 0  # rolled back

    status = cli("status", "--pack", "busy_pack.py", "--db", db, "--json", cwd=tmp_path)
    doc = json.loads(status.stdout)
    assert doc["runs"][0]["status"] == "interrupted"  # the process is gone
    assert doc["tasks"] == [{"table": "busy", "status": "pending", "rows": None,
                             "seconds": None, "error": None}]
    resumed = cli("run", "--pack", "busy_pack.py", "--db", db, "--resume", "--json",
                  cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["tasks"][0]["status"] == "done"
    assert query(db, "SELECT status FROM seedgraph_runs") == [("done",)]
    assert query(db, "SELECT COUNT(*) FROM busy")[0][0] == 1000
