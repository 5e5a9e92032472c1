"""Partitioned tasks: the same bytes however the partitions run (concurrency, worker
processes, a Dask cluster), a worker killed mid-partition resumed to the identical
database, and an interrupted table-level step repeated safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from seedgraph.events import TaskProgress
from tests.helpers import REPO, checksums, cli, query, run_engine

PARTS = str(REPO / "tests" / "packs" / "parts")
TABLES = ["sensor", "readings", "ticks", "daily"]


def test_partitions_give_the_same_bytes_at_any_concurrency(db_url: str, tmp_path: Path,
                                                            pg: object) -> None:
    one = run_engine(db_url, pack=PARTS, concurrency=1)
    assert one.status == "done", one.outcomes
    rows = {o.table: o.rows for o in one.outcomes}
    assert rows == {"sensor": 6, "readings": 18_000, "ticks": 20_000, "daily": 6}
    reference = checksums(db_url, TABLES)
    # a partition's rows come from (seed, table, partition): different per partition
    (distinct,) = query(db_url, "SELECT COUNT(DISTINCT value) FROM readings")[0]
    assert distinct == 18_000
    again = run_engine(db_url, pack=PARTS, concurrency=4, force=True)
    assert again.status == "done"
    assert checksums(db_url, TABLES) == reference
    recorded = query(db_url, "SELECT table_name, COUNT(*), SUM(rows) FROM seedgraph_partitions "
                             "GROUP BY table_name ORDER BY 1")
    assert recorded == [("readings", 6, 18_000), ("ticks", 4, 20_000)]


def test_processes_give_the_same_bytes(pg_url: str, tmp_path: Path) -> None:
    """The partitions and, on PostgreSQL, the whole tables (sensor, daily) run in the
    worker processes."""
    out = cli("run", "--pack", PARTS, "--db", pg_url, "--seed", "7", "--as-of", "2026-01-15",
              "-q", "--executor", "processes", "-j", "2")
    assert out.returncode == 0, out.stderr
    processes = checksums(pg_url, TABLES)
    local = cli("run", "--pack", PARTS, "--db", pg_url, "--seed", "7", "--as-of",
                "2026-01-15", "-q", "--force")
    assert local.returncode == 0, local.stderr
    assert checksums(pg_url, TABLES) == processes


def test_a_killed_worker_is_resumed_to_the_identical_database(pg_url: str, pg: object,
                                                              tmp_path: Path) -> None:
    mark = tmp_path / "killed"
    env = {"PARTS_KILL": "readings:3", "PARTS_KILL_MARK": str(mark)}
    first = cli("run", "--pack", PARTS, "--db", pg_url, "--seed", "7", "--as-of", "2026-01-15",
                "-q", "--executor", "processes", "-j", "2", env=env)
    assert first.returncode != 0 and mark.exists(), first.stderr
    assert "Traceback" not in first.stderr
    committed = {r[0] for r in query(pg_url, "SELECT part FROM seedgraph_partitions WHERE "
                                             "table_name = 'readings' AND part <> ''")}
    assert "3" not in committed  # the killed partition rolled back
    status = cli("status", "--pack", PARTS, "--db", pg_url)
    assert "partitions" in status.stdout, status.stdout
    resumed = cli("run", "--pack", PARTS, "--db", pg_url, "--resume", "-q", "--executor",
                  "processes", "-j", "2", env=env)
    assert resumed.returncode == 0, resumed.stderr
    again = {r[0] for r in query(pg_url, "SELECT part FROM seedgraph_partitions WHERE "
                                         "table_name = 'readings' AND part <> ''")}
    assert again == {str(i) for i in range(1, 7)}
    # only the missing partitions ran: the committed ones kept their run id
    runs = dict(query(pg_url, "SELECT part, run_id FROM seedgraph_partitions "
                              "WHERE table_name = 'readings' AND part <> ''"))
    assert {runs[p] for p in committed} == {1}
    resumed_db = checksums(pg_url, TABLES)
    fresh = cli("run", "--pack", PARTS, "--db", pg_url, "--seed", "7", "--as-of",
                "2026-01-15", "-q", "--force")
    assert fresh.returncode == 0, fresh.stderr
    assert checksums(pg_url, TABLES) == resumed_db
    # the indexes dropped for the bulk load are back, once
    (indexes,) = query(pg_url, "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'readings'")[0]
    assert indexes == 2


def test_a_worker_killed_loading_a_whole_table_is_resumed_to_the_identical_database(
        pg_url: str, pg: object, tmp_path: Path) -> None:
    mark = tmp_path / "killed"
    env = {"PARTS_KILL": "daily", "PARTS_KILL_MARK": str(mark)}
    first = cli("run", "--pack", PARTS, "--db", pg_url, "--seed", "7", "--as-of", "2026-01-15",
                "-q", "--executor", "processes", "-j", "2", env=env)
    assert first.returncode != 0 and mark.exists(), first.stderr
    assert "Traceback" not in first.stderr
    assert "a worker process died while loading table 'daily'" in first.stderr
    # the table rolled back with its checkpoint; the tables the workers committed stay
    assert query(pg_url, "SELECT COUNT(*) FROM daily") == [(0,)]
    states = dict(query(pg_url, "SELECT table_name, status FROM seedgraph_tasks"))
    assert states["daily"] == "failed" and states["sensor"] == "done", states
    resumed = cli("run", "--pack", PARTS, "--db", pg_url, "--resume", "-q", "--executor",
                  "processes", "-j", "2", env=env)
    assert resumed.returncode == 0, resumed.stderr
    resumed_db = checksums(pg_url, TABLES)
    fresh = cli("run", "--pack", PARTS, "--db", pg_url, "--seed", "7", "--as-of",
                "2026-01-15", "-q", "--force")
    assert fresh.returncode == 0, fresh.stderr
    assert checksums(pg_url, TABLES) == resumed_db  # ids the database numbered included
    assert query(pg_url, "SELECT MIN(id), MAX(id) FROM daily") == [(1, 6)]


def test_a_task_failing_in_a_worker_reports_its_own_error(pg_url: str) -> None:
    """The failure crosses back from the worker process whole (not as "a worker died"),
    and the other tables the workers committed stay done."""
    out = cli("run", "--pack", PARTS, "--db", pg_url, "--seed", "7", "--as-of", "2026-01-15",
              "-q", "--executor", "processes", "-j", "2", env={"PARTS_FAIL": "daily"})
    assert out.returncode != 0
    assert "task 'daily' failed: RuntimeError: partition None of daily failed" in out.stderr
    assert "worker process died" not in out.stderr and "Traceback" not in out.stderr
    states = dict(query(pg_url, "SELECT table_name, status FROM seedgraph_tasks"))
    assert states["daily"] == "failed" and states["readings"] == "done", states


@pytest.mark.parametrize("where", ["partition", "finish"])
def test_an_interrupted_partition_or_table_step_is_resumed_safely(
        db_url: str, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A partition that fails, or the table-level finish step dying before it commits
    (its transaction rolls back, as when the process is killed there), then --resume:
    the database is the one a clean run gives."""
    from seedgraph import partitions

    if where == "partition":
        monkeypatch.setenv("PARTS_FAIL", "ticks:2")
    else:
        real = partitions.finish

        async def dies(*args: object, **kwargs: object) -> int:
            raise RuntimeError("the process died in the finish step")

        monkeypatch.setattr(partitions, "finish", dies)
    failed = run_engine(db_url, pack=PARTS)
    assert failed.status == "failed"
    assert {o.table: o.status for o in failed.outcomes}["ticks"] == "failed"
    monkeypatch.delenv("PARTS_FAIL", raising=False)
    if where == "finish":
        monkeypatch.setattr(partitions, "finish", real)
    parts_before = query(db_url, "SELECT part, run_id FROM seedgraph_partitions "
                                 "WHERE table_name = 'ticks' AND part <> '' ORDER BY 1")
    resumed = run_engine(db_url, pack=PARTS, resume=True)
    assert resumed.status == "done", resumed.outcomes
    parts_after = query(db_url, "SELECT part, run_id FROM seedgraph_partitions "
                                "WHERE table_name = 'ticks' AND part <> '' ORDER BY 1")
    assert set(parts_before) <= set(parts_after)  # committed partitions did not rerun
    assert len(parts_after) == 4
    done = checksums(db_url, TABLES)
    fresh = run_engine(db_url, pack=PARTS, force=True)
    assert fresh.status == "done"
    assert checksums(db_url, TABLES) == done


def test_a_partition_referring_to_a_missing_row_is_refused(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite checks each partition's keys before it commits, row by row (a check of the
    whole table after each partition grew with the table): the bad partition rolls back
    alone. PostgreSQL loads partitions with the table's foreign keys dropped and checks
    them all when finish adds them back: the table is refused there, never marked done.
    Either way a fixed rerun completes the table."""
    monkeypatch.setenv("PARTS_ORPHAN", "readings:2")
    failed = run_engine(db_url, pack=PARTS, concurrency=1)
    outcome = {o.table: o for o in failed.outcomes}["readings"]
    assert outcome.status == "failed"
    assert "foreign key" in (outcome.error or "").lower(), outcome.error
    assert "readings" not in {r[0] for r in query(
        db_url, "SELECT table_name FROM seedgraph_state")}
    if db_url.startswith("sqlite"):
        assert query(db_url, "SELECT COUNT(*) FROM readings WHERE sensor_id = 999") == [(0,)]
        committed = query(db_url, "SELECT part FROM seedgraph_partitions WHERE "
                                  "table_name = 'readings' AND part <> ''")
        assert committed == [("1",)]  # one at a time: the first committed, the rest never ran
    monkeypatch.delenv("PARTS_ORPHAN")
    fixed = run_engine(db_url, pack=PARTS, resume=db_url.startswith("sqlite"),
                       force=not db_url.startswith("sqlite"))
    assert fixed.status == "done", fixed.outcomes
    assert query(db_url, "SELECT COUNT(*) FROM readings") == [(18_000,)]


def test_a_dask_cluster_gives_the_same_bytes(pg_url: str) -> None:
    """A Dask LocalCluster of 2 worker processes (started here); each worker connects
    to PostgreSQL and loads its partitions itself."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        out = cli("run", "--pack", PARTS, "--db", pg_url, "--seed", "7", "--as-of",
                  "2026-01-15", "-q", "--executor", address)
        assert out.returncode == 0, out.stderr
        on_dask = checksums(pg_url, TABLES)
        workers = query(pg_url, "SELECT COUNT(*) FROM seedgraph_partitions WHERE part <> ''")
        assert workers == [(10,)]
    local = cli("run", "--pack", PARTS, "--db", pg_url, "--seed", "7", "--as-of",
                "2026-01-15", "-q", "--force")
    assert local.returncode == 0, local.stderr
    assert checksums(pg_url, TABLES) == on_dask


def test_partial_partitions_of_an_old_setting_are_rebuilt_without_confirm(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Committed partitions are seedgraph's rows: a new run with other parameters
    empties and rebuilds them without asking for --confirm."""
    monkeypatch.setenv("PARTS_FAIL", "ticks:2")
    assert run_engine(db_url, pack=PARTS).status == "failed"
    monkeypatch.delenv("PARTS_FAIL")
    rebuilt = run_engine(db_url, pack=PARTS, sets={"ticks": 8000})
    assert rebuilt.status == "done", rebuilt.outcomes
    assert query(db_url, "SELECT COUNT(*) FROM ticks") == [(8000,)]
    assert query(db_url, "SELECT COUNT(*), SUM(rows) FROM seedgraph_partitions "
                         "WHERE table_name = 'ticks' AND part <> ''") == [(4, 8000)]


def test_an_append_runs_the_partitions_in_order_in_one_transaction(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """--append runs a partitioned task's body once per partition, in order, inside the
    table's one transaction, with the contexts and random streams of a normal run: it
    adds exactly the partitions' rows, and one failing partition rolls back them all."""
    assert run_engine(db_url, pack=PARTS).status == "done"
    before = checksums(db_url, TABLES)
    parts = query(db_url, "SELECT part, rows, run_id FROM seedgraph_partitions "
                          "WHERE part <> '' ORDER BY table_name, part")
    monkeypatch.setenv("PARTS_FAIL", "readings:4")
    failed = run_engine(db_url, pack=PARTS, append=True, only="readings")
    outcome = {o.table: o for o in failed.outcomes}["readings"]
    assert failed.status == "failed" and "partition 4 of readings" in (outcome.error or "")
    assert checksums(db_url, TABLES) == before  # partitions 1-3 rolled back with it
    monkeypatch.delenv("PARTS_FAIL")
    seen: list[Any] = []
    appended = run_engine(db_url, pack=PARTS, append=True, only="readings", events=seen)
    assert appended.status == "done", appended.outcomes
    assert {o.table: o.rows for o in appended.outcomes} == {"readings": 18_000}
    assert query(db_url, "SELECT COUNT(*) FROM readings") == [(36_000,)]
    assert checksums(db_url, ["sensor", "ticks"]) == {t: before[t] for t in ("sensor",
                                                                              "ticks")}
    # the partitions' own streams, as in a normal run: each sensor's appended readings
    # repeat its first ones; the progress counted the partitions' rows one after another
    old = query(db_url, "SELECT sensor_id, value FROM readings WHERE id % 1000000 < 3000 "
                        "ORDER BY id")
    new = query(db_url, "SELECT sensor_id, value FROM readings WHERE id % 1000000 >= 3000 "
                        "ORDER BY id")
    assert new == old
    progress = [e.rows for e in seen if isinstance(e, TaskProgress)]
    assert progress == sorted(progress) and progress[-1] == 18_000
    # the append kept the partitions' checkpoints of the run that loaded them
    assert query(db_url, "SELECT part, rows, run_id FROM seedgraph_partitions "
                         "WHERE part <> '' ORDER BY table_name, part") == parts
