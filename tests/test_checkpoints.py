"""The bookkeeping tables: what a run and each task leave behind, read back through the
checkpoints module (what `status` and `--resume` rely on)."""

from __future__ import annotations

import re
from datetime import datetime

import anyio
import pytest

from seedgraph import __version__, checkpoints
from seedgraph.backends import Database, parse_url
from seedgraph.checkpoints import RunRecord, TaskRecord
from tests.helpers import MINI, query, run_engine


def _read(url: str, limit: int = 10) -> tuple[list[RunRecord], RunRecord | None,
                                              list[TaskRecord]]:
    async def go() -> tuple[list[RunRecord], RunRecord | None, list[TaskRecord]]:
        db = await Database.open(parse_url(url))
        try:
            runs = await checkpoints.recent_runs(db, limit)
            latest = await checkpoints.latest_run(db)
            tasks = await checkpoints.task_records(db, latest.id) if latest else []
            return runs, latest, tasks
        finally:
            await db.close()

    return anyio.run(go)


def _time(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


def test_a_failed_run_is_recorded_with_its_settings_and_each_task_s_fate(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINI_FAIL", "orders")
    run_engine(db_url, sets={"customers": 30}, seed=5, as_of="2025-03-01T12:00:00")
    runs, latest, tasks = _read(db_url)
    assert runs == [latest] and latest is not None
    assert (latest.id, latest.status, latest.mode, latest.seed) == (1, "failed", "build", 5)
    assert latest.as_of == "2025-03-01T12:00:00+00:00"
    assert latest.selection == {"only": None, "exclude": None, "profile": None,
                                "force": False}
    assert latest.params["customers"] == 30 and latest.params["orders_per_customer"] == 5
    assert latest.pack == MINI and latest.version == __version__
    assert re.fullmatch(r"[0-9a-f]{8,}", latest.pack_fingerprint)
    assert _time(latest.started_at) < _time(latest.finished_at)
    assert latest.started_at.endswith("+00:00")  # times are recorded in UTC
    assert (latest.started_at, latest.finished_at) == tuple(query(
        db_url, "SELECT started_at, finished_at FROM seedgraph_runs WHERE id = 1")[0])

    by_table = {t.table: t for t in tasks}
    assert [t.table for t in tasks] == sorted(by_table)  # ordered by table name
    assert {t: r.status for t, r in by_table.items()} == {
        "regions": "done", "customers": "done", "products": "done", "audit_notes": "done",
        "orders": "failed", "order_items": "skipped", "shipments": "skipped"}
    customers = by_table["customers"]
    assert (customers.run_id, customers.rows, customers.error) == (1, 30, None)
    assert customers.seconds is not None and 0 <= customers.seconds < 60
    assert _time(customers.started_at) <= _time(customers.finished_at)
    assert (customers.started_at, customers.finished_at) == tuple(query(
        db_url, "SELECT started_at, finished_at FROM seedgraph_tasks "
                "WHERE table_name = 'customers'")[0])
    assert customers.fingerprint and re.fullmatch(r"[0-9a-f]{8,}", customers.fingerprint)
    orders = by_table["orders"]
    assert orders.rows is None and orders.fingerprint is None
    assert orders.error == "task 'orders' failed: RuntimeError: injected failure in orders"
    assert orders.started_at is not None and orders.finished_at is not None
    assert orders.seconds is not None and 0 <= orders.seconds < 60
    skipped = by_table["shipments"]
    assert (skipped.error, skipped.rows, skipped.seconds) == (
        "upstream orders failed", None, None)


def test_runs_are_listed_newest_first_and_limited(db_url: str) -> None:
    assert _read(db_url) == ([], None, [])  # nothing recorded yet: no tables either
    run_engine(db_url)
    run_engine(db_url, force=True, confirm=True, seed=8)
    runs, latest, tasks = _read(db_url)
    assert [r.id for r in runs] == [2, 1] and latest == runs[0]
    assert [r.seed for r in runs] == [8, 7] and runs[0].selection["force"] is True
    assert [r.id for r in _read(db_url, limit=1)[0]] == [2]
    assert {t.run_id for t in tasks} == {2} and len(tasks) == 7
    assert all(t.status == "done" and t.error is None for t in tasks)


def test_the_recorded_row_counts_follow_builds_and_appends(db_url: str) -> None:
    from tests.helpers import execute

    run_engine(db_url)
    execute(db_url, "DELETE FROM shipments")  # the append fills it again
    execute(db_url, "DELETE FROM seedgraph_state WHERE table_name = 'shipments'")
    assert run_engine(db_url, append=True).status == "done"
    for table, rows in query(db_url, "SELECT table_name, rows FROM seedgraph_state"):
        assert rows == query(db_url, f"SELECT COUNT(*) FROM {table}")[0][0], table


def _schemas_of_bookkeeping(url: str) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in query(
        url, "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
             "ON n.oid = c.relnamespace WHERE c.relname LIKE 'seedgraph%' AND c.relkind = 'r'")}


def test_on_postgresql_the_bookkeeping_lives_in_its_own_schema(pg_url: str) -> None:
    run_engine(pg_url)
    assert _schemas_of_bookkeeping(pg_url) == {
        ("seedgraph", "seedgraph_runs"), ("seedgraph", "seedgraph_tasks"),
        ("seedgraph", "seedgraph_state"), ("seedgraph", "seedgraph_partitions"),
        ("seedgraph", "seedgraph_detached")}
    assert run_engine(pg_url).status == "done"  # found again: everything up to date
    assert query(pg_url, "SELECT COUNT(*) FROM seedgraph.seedgraph_runs")[0][0] == 2


def test_bookkeeping_an_older_version_left_in_the_default_schema_moves_with_its_history(
        pg_url: str) -> None:
    run_engine(pg_url)
    for table in ("seedgraph_tasks", "seedgraph_runs", "seedgraph_state"):
        query(pg_url, f"ALTER TABLE seedgraph.{table} SET SCHEMA public")
    # an older version had no partitions or detached table: created where the others go
    query(pg_url, "DROP TABLE seedgraph.seedgraph_partitions")
    query(pg_url, "DROP TABLE seedgraph.seedgraph_detached")
    query(pg_url, "DROP SCHEMA seedgraph")
    assert {s for s, _ in _schemas_of_bookkeeping(pg_url)} == {"public"}

    # a read-only command reads it where it is, and moves nothing
    runs, latest, _ = _read(pg_url)
    assert latest is not None and latest.status == "done" and len(runs) == 1
    assert {s for s, _ in _schemas_of_bookkeeping(pg_url)} == {"public"}

    # the next run moves it, history and state included: nothing to rebuild
    result = run_engine(pg_url)
    assert {o.status for o in result.outcomes} == {"up-to-date"}
    assert {s for s, _ in _schemas_of_bookkeeping(pg_url)} == {"seedgraph"}
    assert query(pg_url, "SELECT id FROM seedgraph.seedgraph_runs ORDER BY id") == [(1,), (2,)]


def test_reflection_leaves_out_every_bookkeeping_table() -> None:
    """--auto must never seed seedgraph's own tables: the list reflection skips is
    exactly the bookkeeping schema."""
    from seedgraph.backends.reflect import BOOKKEEPING
    from seedgraph.checkpoints import META

    assert set(META.tables) == BOOKKEEPING
