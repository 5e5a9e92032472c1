"""Real crashes: SIGKILL a `seedgraph run` mid-table, then --resume; SIGTERM cancels cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.helpers import AS_OF, MINI, MINI_TABLES, REPO, checksums, cli, query, run_engine


def _spawn(db_url: str, env: dict[str, str]) -> subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SEEDGRAPH_", "MINI_"))}
    full_env.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "seedgraph", "run", "--pack", MINI, "--db", db_url,
         "--seed", "7", "--as-of", AS_OF, "--quiet", "--concurrency", "2"],
        cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_rows_in_flight(db_url: str, proc: subprocess.Popen[str], timeout: float) -> None:
    """Wait until 'orders' has started (customers done) so the kill lands mid-table."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            done = query(db_url, "SELECT COUNT(*) FROM seedgraph_tasks "
                                 "WHERE table_name = 'customers' AND status = 'done'")[0][0]
        except Exception:
            done = 0
        if done:
            time.sleep(1.0)  # orders is now writing its chunks, sleeping between them
            return
        time.sleep(0.1)
    raise AssertionError("orders never started")


def test_sigkill_mid_run_then_resume_gives_the_same_database(db_url: str, another_db) -> None:  # type: ignore[no-untyped-def]
    proc = _spawn(db_url, {"MINI_SLEEP": "orders:0.8"})
    _wait_for_rows_in_flight(db_url, proc, timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    # never half-loaded: orders wrote chunks before the kill, none are visible
    assert query(db_url, "SELECT COUNT(*) FROM orders")[0][0] == 0
    assert query(db_url, "SELECT status FROM seedgraph_runs") == [("running",)]
    done = {r[0] for r in query(db_url, "SELECT table_name FROM seedgraph_tasks "
                                        "WHERE status = 'done'")}
    assert {"regions", "customers"} <= done and "orders" not in done
    for table in done:
        assert query(db_url, f'SELECT COUNT(*) FROM "{table}"')[0][0] > 0

    plan = cli("plan", "--pack", MINI, "--db", db_url, "--resume", "--json")
    assert plan.returncode == 0, plan.stderr
    doc = json.loads(plan.stdout)
    assert doc["resume_run"] == 1 and doc["seed"] == 7 and doc["as_of"].startswith(AS_OF)
    actions = {s["table"]: s["action"] for s in doc["steps"]}
    assert set(actions) == set(MINI_TABLES)
    # what finished before the kill is kept; orders (killed mid-table) and everything
    # below it runs again
    assert {t for t, a in actions.items() if a == "skip"} == done
    assert actions["regions"] == actions["customers"] == "skip"
    assert actions["orders"] == actions["order_items"] == actions["shipments"] == "run"
    assert doc["clear"] == [] or set(doc["clear"]) <= {"orders", "order_items", "shipments"}

    resumed = cli("run", "--pack", MINI, "--db", db_url, "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    tasks = {t["table"]: t["status"] for t in json.loads(resumed.stdout)["tasks"]}
    assert {t for t, st in tasks.items() if st == "done"} == set(MINI_TABLES) - done
    assert query(db_url, "SELECT status FROM seedgraph_runs") == [("done",)]

    reference = another_db()
    run_engine(reference)
    assert checksums(db_url, MINI_TABLES) == checksums(reference, MINI_TABLES)


def test_sigterm_rolls_back_in_flight_tasks_and_marks_them_interrupted(db_url: str) -> None:
    proc = _spawn(db_url, {"MINI_SLEEP": "orders:0.8"})
    _wait_for_rows_in_flight(db_url, proc, timeout=60)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    assert query(db_url, "SELECT status FROM seedgraph_runs") == [("interrupted",)]
    assert query(db_url, "SELECT status FROM seedgraph_tasks WHERE table_name = 'orders'") == [
        ("interrupted",)]
    assert query(db_url, "SELECT COUNT(*) FROM orders")[0][0] == 0
    resumed = cli("run", "--pack", MINI, "--db", db_url, "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert query(db_url, "SELECT COUNT(*) FROM shipments")[0][0] > 0


def test_twenty_sigkills_at_random_moments_then_resume_give_the_same_database(
        pg_url: str, pg) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL a PostgreSQL run at 20 random moments, each time continuing with --resume
    (or starting over when nothing was recorded yet): the database that comes out equals
    an uninterrupted run's, table by table."""
    import random

    moments = random.Random(20261126)
    slow = {"MINI_SLEEP": "regions:0.2,customers:0.3,products:0.3,orders:0.4,"
                          "order_items:0.3,shipments:0.2,audit_notes:0.2"}
    kills = 0
    while kills < 20:
        latest = query(pg_url, "SELECT status FROM seedgraph_runs ORDER BY id DESC LIMIT 1") \
            if _exists(pg_url, "seedgraph_runs") else []
        # continue the killed run; after one that finished, rebuild everything again
        mode = "resume" if latest and latest[0][0] != "done" else (
            "force" if latest else "fresh")
        proc = _spawn_args(pg_url, slow, mode)
        time.sleep(moments.uniform(0.3, 2.5))
        if proc.poll() is not None:  # it finished before the moment came
            assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
            continue
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
        # never half-loaded: every table holds all of its rows or none (a kill before the
        # bookkeeping existed leaves nothing to check)
        tasks = query(pg_url, "SELECT table_name, status FROM seedgraph_tasks WHERE run_id = "
                              "(SELECT MAX(id) FROM seedgraph_runs)") \
            if _exists(pg_url, "seedgraph_tasks") else []
        for table, status in tasks:
            if status != "done":
                assert query(pg_url, f'SELECT COUNT(*) FROM "{table}"')[0][0] == 0, table
    final = cli("run", "--pack", MINI, "--db", pg_url, "--resume", "--json")
    assert final.returncode == 0, final.stderr
    reference = pg.new()
    run_engine(reference)
    assert checksums(pg_url, MINI_TABLES) == checksums(reference, MINI_TABLES)
    # every foreign key a killed load had detached is back (seedgraph.detach)
    keys = ("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM "
            "pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace "
            "ORDER BY 1, 2")
    assert query(pg_url, keys) == query(reference, keys)
    assert query(pg_url, "SELECT COUNT(*) FROM seedgraph_detached") == [(0,)]


def _exists(db_url: str, table: str) -> bool:
    try:
        query(db_url, f"SELECT 1 FROM {table} LIMIT 1")
    except Exception:
        return False
    return True


def _spawn_args(db_url: str, env: dict[str, str], mode: str) -> subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SEEDGRAPH_", "MINI_"))}
    full_env.update(env)
    settings = ["--resume"] if mode == "resume" else ["--seed", "7", "--as-of", AS_OF] + (
        ["--force"] if mode == "force" else [])
    return subprocess.Popen(
        [sys.executable, "-m", "seedgraph", "run", "--pack", MINI, "--db", db_url, *settings,
         "--quiet", "--concurrency", "2"],
        cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
