"""End-to-end engine behaviour on SQLite and PostgreSQL with the small test pack."""

from __future__ import annotations

import threading

import anyio
import asyncpg
import pytest

from seedgraph import NothingToResumeError, RunLockedError, SafetyError, SchemaMismatchError
from seedgraph.backends import Database, parse_url
from seedgraph.events import Event, TaskFinished, TaskStarted
from tests.conftest import PgDatabases
from tests.helpers import MINI_TABLES, checksums, execute, query, run_engine


def test_full_run_seeds_every_table(db_url: str) -> None:
    result = run_engine(db_url)
    assert result.status == "done"
    assert {o.table for o in result.outcomes if o.status == "done"} == set(MINI_TABLES)
    for o in result.outcomes:
        assert query(db_url, f'SELECT COUNT(*) FROM "{o.table}"')[0][0] == o.rows > 0
    runs = query(db_url, "SELECT id, status, seed, as_of FROM seedgraph_runs")
    assert runs == [(1, "done", 7, "2026-01-15T00:00:00+00:00")]
    statuses = query(db_url, "SELECT table_name, status, rows FROM seedgraph_tasks ORDER BY 1")
    assert all(s == "done" for _, s, _ in statuses) and len(statuses) == len(MINI_TABLES)


def test_same_seed_same_database_whatever_the_concurrency(db_url: str, another_db) -> None:  # type: ignore[no-untyped-def]
    run_engine(db_url, concurrency=1)
    other = another_db()
    run_engine(other, concurrency=8)
    assert checksums(db_url, MINI_TABLES) == checksums(other, MINI_TABLES)
    third = another_db()
    run_engine(third, seed=8)
    assert checksums(third, ["customers"]) != checksums(db_url, ["customers"])


def test_second_run_skips_up_to_date_tables(db_url: str) -> None:
    run_engine(db_url)
    before = checksums(db_url, MINI_TABLES)
    again = run_engine(db_url)
    assert {o.status for o in again.outcomes} == {"up-to-date"}
    assert checksums(db_url, MINI_TABLES) == before


def test_partial_rerun_rebuilds_exactly_what_a_full_run_would(db_url: str) -> None:
    run_engine(db_url)
    before = checksums(db_url, MINI_TABLES)
    result = run_engine(db_url, only="orders+", force=True)
    ran = {o.table for o in result.outcomes if o.status == "done"}
    assert ran == {"orders", "order_items", "shipments"}
    assert checksums(db_url, MINI_TABLES) == before


def test_changed_parameter_reruns_the_task_and_its_descendants(db_url: str) -> None:
    run_engine(db_url)
    result = run_engine(db_url, sets={"orders_per_customer": 2})
    ran = {o.table for o in result.outcomes if o.status == "done"}
    assert ran == {"orders", "order_items", "shipments"}
    assert {o.table for o in result.outcomes if o.status == "up-to-date"} == {
        "regions", "customers", "products", "audit_notes"}


def test_failure_skips_descendants_only_then_resume_matches_full_run(
        db_url: str, another_db, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MINI_FAIL", "orders")
    result = run_engine(db_url)
    by = {o.table: o for o in result.outcomes}
    assert result.status == "failed"
    assert by["orders"].status == "failed" and "injected failure" in (by["orders"].error or "")
    assert by["order_items"].status == "skipped" and by["shipments"].status == "skipped"
    assert "upstream orders failed" in (by["shipments"].error or "")
    for t in ("regions", "customers", "products", "audit_notes"):
        assert by[t].status == "done"
    assert query(db_url, "SELECT COUNT(*) FROM orders")[0][0] == 0
    assert query(db_url, "SELECT status FROM seedgraph_tasks WHERE table_name = 'orders'") == [
        ("failed",)]

    monkeypatch.delenv("MINI_FAIL")
    resumed = run_engine(db_url, resume=True)
    assert resumed.status == "done" and resumed.run_id == result.run_id
    assert {o.table for o in resumed.outcomes if o.status == "done"} == {
        "orders", "order_items", "shipments"}
    clean = another_db()
    run_engine(clean)
    assert checksums(db_url, MINI_TABLES) == checksums(clean, MINI_TABLES)


def test_resume_with_nothing_to_resume_fails(db_url: str) -> None:
    with pytest.raises(NothingToResumeError, match="no seedgraph run"):
        run_engine(db_url, resume=True)
    run_engine(db_url)
    with pytest.raises(NothingToResumeError, match="finished successfully"):
        run_engine(db_url, resume=True)


def test_slow_task_does_not_block_unrelated_ones(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINI_SLEEP", "audit_notes:1.5")
    events: list[Event] = []
    run_engine(db_url, events=events, concurrency=4)
    finished = [e.table for e in events if isinstance(e, TaskFinished)]
    assert finished.index("shipments") < finished.index("audit_notes")
    assert finished.index("order_items") < finished.index("audit_notes")


def test_fail_fast_cancels_in_flight_tasks(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sleep = 30.0  # audit_notes sleeps this long before writing anything
    monkeypatch.setenv("MINI_FAIL", "customers")
    monkeypatch.setenv("MINI_SLEEP", f"audit_notes:{sleep}")
    events: list[Event] = []
    result = run_engine(db_url, fail_fast=True, events=events)
    by = {o.table: o.status for o in result.outcomes}
    assert result.status == "failed"
    assert by["customers"] == "failed" and by["audit_notes"] == "interrupted"
    assert by["orders"] == "skipped"  # customers' descendants never start
    finished = [(e.table, e.status) for e in events if isinstance(e, TaskFinished)]
    started = [e.table for e in events if isinstance(e, TaskStarted)]
    # audit_notes was in flight when customers failed, and was cut off by that failure:
    # it ends after customers' failure, during its sleep, instead of waiting the sleep out
    assert "audit_notes" in started
    assert finished.index(("customers", "failed")) < finished.index(
        ("audit_notes", "interrupted"))
    cut = next(e for e in events if isinstance(e, TaskFinished) and e.table == "audit_notes")
    assert cut.seconds < sleep
    assert not {"orders", "order_items", "shipments"} & set(started)
    assert query(db_url, "SELECT COUNT(*) FROM audit_notes")[0][0] == 0
    assert query(db_url, "SELECT status FROM seedgraph_tasks WHERE table_name='audit_notes'") == [
        ("interrupted",)]


def test_rows_seedgraph_did_not_write_need_confirm(db_url: str) -> None:
    run_engine(db_url, only="audit_notes")
    execute(db_url, "INSERT INTO audit_notes (id, note) VALUES (999, 'hand-written')")
    with pytest.raises(SafetyError, match=r"did not write.*--confirm"):
        run_engine(db_url, only="audit_notes", force=True)
    assert query(db_url, "SELECT note FROM audit_notes WHERE id = 999") == [("hand-written",)]
    run_engine(db_url, only="audit_notes", force=True, confirm=True)
    assert query(db_url, "SELECT COUNT(*) FROM audit_notes WHERE id = 999")[0][0] == 0


def test_refuses_to_empty_a_table_whose_unselected_children_have_rows(db_url: str) -> None:
    run_engine(db_url)
    with pytest.raises(SafetyError, match=r"depends on 'customers'.*--only 'customers\+'"):
        run_engine(db_url, only="customers", force=True)
    with pytest.raises(SafetyError, match=r"needs upstream 'regions'.*\+customers"):
        fresh = db_url  # regions emptied below
        execute(fresh, "DELETE FROM shipments")
        execute(fresh, "DELETE FROM order_items")
        execute(fresh, "DELETE FROM orders")
        execute(fresh, "DELETE FROM customers")
        execute(fresh, "DELETE FROM regions")
        run_engine(fresh, only="customers")


def test_two_runs_cannot_interleave(db_url: str) -> None:
    async def hold_and_run() -> None:
        db = await Database.open(parse_url(db_url))
        try:
            async with db.run_lock():
                with pytest.raises(RunLockedError, match="another seedgraph run"):
                    await anyio.to_thread.run_sync(lambda: run_engine(db_url))
        finally:
            await db.close()

    anyio.run(hold_and_run)


def test_mismatched_existing_table_is_reported(db_url: str) -> None:
    execute(db_url, "CREATE TABLE audit_notes (id INTEGER PRIMARY KEY, body TEXT)")
    with pytest.raises(SchemaMismatchError, match=r"audit_notes.*missing column.*note.*body"):
        run_engine(db_url)


def test_events_report_every_started_task(db_url: str) -> None:
    events: list[Event] = []
    run_engine(db_url, events=events)
    started = {e.table for e in events if isinstance(e, TaskStarted)}
    assert started == set(MINI_TABLES)


def test_postgres_sequences_are_advanced_past_seeded_keys(pg_url: str) -> None:
    run_engine(pg_url)
    new_id = query(pg_url, "INSERT INTO regions (name) VALUES ('Far North') RETURNING id")[0][0]
    assert new_id == 6


def test_append_skips_rows_already_present(db_url: str) -> None:
    run_engine(db_url)
    before = checksums(db_url, MINI_TABLES)
    appended = run_engine(db_url, append=True)
    assert appended.status == "done"
    assert {o.table: o.rows for o in appended.outcomes} == dict.fromkeys(MINI_TABLES, 0)
    assert checksums(db_url, MINI_TABLES) == before
    assert query(db_url, "SELECT mode FROM seedgraph_runs ORDER BY id") == [("build",), ("append",)]
    # the append did not disturb what seedgraph recorded: a normal run is still a no-op
    again = run_engine(db_url)
    assert {o.status for o in again.outcomes} == {"up-to-date"}


def test_a_dangling_foreign_key_fails_the_task_and_loads_nothing(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINI_DANGLE", "orders")
    result = run_engine(db_url, chunk_rows=100)  # many chunks: the bulk path on both databases
    by = {o.table: o for o in result.outcomes}
    assert by["orders"].status == "failed"
    assert "customers" in (by["orders"].error or "")
    assert query(db_url, "SELECT COUNT(*) FROM orders")[0][0] == 0
    assert by["customers"].status == "done"


def test_a_column_left_to_a_clock_default_fails_the_task(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A default of now() would make two runs of the same seed differ: the task fails,
    names the column and says what to write instead, and loads nothing."""
    monkeypatch.setenv("MINI_LEAVE_OUT", "audit_notes")
    result = run_engine(db_url)
    by = {o.table: o for o in result.outcomes}
    assert by["audit_notes"].status == "failed"
    assert "'noted_at'" in (by["audit_notes"].error or "")
    assert "ctx.as_of" in (by["audit_notes"].error or "")
    assert query(db_url, "SELECT COUNT(*) FROM audit_notes")[0][0] == 0
    assert by["orders"].status == "done"


def test_a_bulk_load_whose_parent_is_busy_keeps_its_keys(pg: PgDatabases) -> None:
    """Another session holds a lock on a parent table: the bulk load does not wait for it
    (waiting could deadlock), keeps the foreign keys and checks rows one by one instead;
    the result is the same, and a dangling key still fails the task."""
    pg_url, reference = pg.new(), pg.new()
    run_engine(reference, chunk_rows=100)
    run_engine(pg_url, only="+customers", chunk_rows=100)
    locked, release = threading.Event(), threading.Event()

    async def hold() -> None:
        conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
        async with conn.transaction():
            await conn.execute("LOCK TABLE customers IN ACCESS SHARE MODE")
            locked.set()
            # let go only when told (or after 120 s, so a load that waits cannot hang)
            await anyio.to_thread.run_sync(release.wait, 120)
        await conn.close()

    holder = threading.Thread(target=anyio.run, args=(hold,))
    holder.start()
    try:
        assert locked.wait(30)
        result = run_engine(pg_url, chunk_rows=100)
        assert result.status == "done"
        # the run finished while the other session still held its lock: it did not wait
        assert holder.is_alive() and not release.is_set()
        held = query(pg_url, "SELECT COUNT(*) FROM pg_locks WHERE granted AND "
                             "relation = 'customers'::regclass AND mode = 'AccessShareLock' "
                             "AND pid <> pg_backend_pid()")
        assert held[0][0] >= 1
        keys = query(pg_url, "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' "
                             "AND conrelid = 'orders'::regclass")
        assert keys[0][0] == 1
        assert checksums(pg_url, MINI_TABLES) == checksums(reference, MINI_TABLES)
    finally:
        release.set()
        holder.join()


def test_reads_in_small_batches_give_the_same_columns(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """ctx.read decodes a batch of rows at a time; joining the batches must give what
    one read of all rows gives, NULLs (customers without an email) included."""
    from seedgraph.backends import base

    run_engine(db_url)

    async def read_all() -> dict[str, dict[str, list[object]]]:
        database = await Database.open(parse_url(db_url))
        try:
            out = {}
            for table in ("customers", "shipments", "orders"):
                cols = await database.read_columns(table)
                out[table] = {c: [str(v) for v in values] for c, values in cols.items()}
            return out
        finally:
            await database.close()

    whole = anyio.run(read_all)
    monkeypatch.setattr(base, "READ_ROWS", 7)
    assert anyio.run(read_all) == whole
    assert len(whole["customers"]["id"]) > 7 * 3
