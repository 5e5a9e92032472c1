"""The product's guarantees, written as properties rather than spot checks.

- A table is never half-seeded: a failure while writing the checkpoint, or at the
  commit itself, leaves the table empty and the task failed (both databases).
- No value is stored differently from what was generated: every column of every
  table decodes to the same values on SQLite and PostgreSQL for the same seed.
- Resume rebuilds exactly what a clean run with the same recorded settings would
  (``--set``, ``--profile``, ``--only``, ``--append``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest

from seedgraph import api, checkpoints
from seedgraph.backends import Database, parse_url
from seedgraph.columns import ColumnKind
from tests.conftest import PgDatabases
from tests.helpers import MINI, MINI_TABLES, REPO, checksums, execute, query, run_engine

HOME = str(REPO / "tasks" / "home_security")
RETAIL = str(REPO / "tasks" / "retail")

# -- a table is never half-seeded ------------------------------------------------------

_FAIL_FN = ("CREATE FUNCTION sg_injected_failure() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected checkpoint failure'; END $$")


def _make_checkpoint_tables(url: str) -> None:
    async def go() -> None:
        db = await Database.open(parse_url(url))
        try:
            await checkpoints.ensure_tables(db)
        finally:
            await db.close()

    anyio.run(go)


def _inject(url: str, table: str, event: str, when: str) -> None:
    """A trigger that fails the given write to the bookkeeping tables."""
    if url.startswith("sqlite"):
        execute(url, f"CREATE TRIGGER sg_fail BEFORE {event} ON {table} WHEN {when} "
                     "BEGIN SELECT RAISE(ABORT, 'injected checkpoint failure'); END")
    else:
        execute(url, _FAIL_FN)
        execute(url, f"CREATE TRIGGER sg_fail BEFORE {event} ON {table} FOR EACH ROW "
                     f"WHEN ({when}) EXECUTE FUNCTION sg_injected_failure()")


def _drop_injected(url: str, table: str) -> None:
    execute(url, "DROP TRIGGER sg_fail" + ("" if url.startswith("sqlite") else f" ON {table}"))


def _assert_orders_failed_cleanly(url: str) -> None:
    statuses = dict(query(url, "SELECT table_name, status FROM seedgraph_tasks"))
    assert statuses["orders"] == "failed"
    assert statuses["order_items"] == "skipped" and statuses["shipments"] == "skipped"
    for done in ("regions", "customers", "products", "audit_notes"):
        assert statuses[done] == "done", done
    # nothing of orders (nor of its skipped descendants) is visible, not a single row
    for table in ("orders", "order_items", "shipments"):
        assert query(url, f"SELECT COUNT(*) FROM {table}")[0][0] == 0, table
    # and seedgraph does not believe it loaded them
    recorded = {r[0] for r in query(url, "SELECT table_name FROM seedgraph_state")}
    assert recorded == {"regions", "customers", "products", "audit_notes"}
    error = query(url, "SELECT error FROM seedgraph_tasks WHERE table_name = 'orders'")[0][0]
    assert error.startswith("task 'orders' failed: ") and "injected checkpoint failure" in error


@pytest.mark.parametrize(("table", "event", "when"), [
    ("seedgraph_tasks", "UPDATE", "NEW.status = 'done' AND NEW.table_name = 'orders'"),
    ("seedgraph_state", "INSERT", "NEW.table_name = 'orders'"),
], ids=["task-row", "state-row"])
def test_a_failed_checkpoint_write_leaves_the_table_empty_and_the_task_failed(
        db_url: str, table: str, event: str, when: str) -> None:
    _make_checkpoint_tables(db_url)
    _inject(db_url, table, event, when)
    result = run_engine(db_url)
    assert result.status == "failed"
    _assert_orders_failed_cleanly(db_url)


def test_a_failed_commit_leaves_the_table_empty_and_the_task_failed(pg_url: str) -> None:
    """A deferred constraint trigger fails at COMMIT, after the rows and checkpoint were
    written: the commit is the unit, so neither may stay."""
    _make_checkpoint_tables(pg_url)
    execute(pg_url, _FAIL_FN)
    execute(pg_url, "CREATE CONSTRAINT TRIGGER sg_fail AFTER INSERT ON seedgraph_state "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    "WHEN (NEW.table_name = 'orders') EXECUTE FUNCTION sg_injected_failure()")
    result = run_engine(pg_url)
    assert result.status == "failed"
    _assert_orders_failed_cleanly(pg_url)
    (orders,) = [o for o in result.outcomes if o.table == "orders"]
    assert (orders.error or "").startswith("task 'orders' failed: ")

    # the failed attempt is repaired by --resume once the fault is gone
    _drop_injected(pg_url, "seedgraph_state")
    resumed = run_engine(pg_url, resume=True)
    assert resumed.status == "done"
    assert {o.table for o in resumed.outcomes if o.status == "done"} == {
        "orders", "order_items", "shipments"}


# -- no value stored differently ---------------------------------------------------------

def _canon(v: Any, float32: bool) -> Any:
    """A value as plain Python, comparable across databases."""
    if v is None:
        return None
    if isinstance(v, np.ndarray):
        return [_canon(x, float32) for x in v.tolist()]
    if isinstance(v, list | tuple):
        return [_canon(x, float32) for x in v]
    if isinstance(v, dict):
        return {str(k): _canon(x, float32) for k, x in sorted(v.items())}
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else str(v)
    if isinstance(v, np.timedelta64):
        return None if np.isnat(v) else int(v.astype("timedelta64[us]").astype(np.int64))
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isnan(f):
            return None
        return float(np.float32(f)) if float32 else f
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).hex()
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


# columns seedgraph does not write: a PostgreSQL trigger fills them
_FILLED_BY_THE_DATABASE = {("events", "search_vector")}
_FLOAT32 = {ColumnKind.FLOAT4, ColumnKind.FLOAT4_ARRAY}


def _decoded(url: str, pack: str, tables: list[str]) -> dict[str, dict[str, list[Any]]]:
    """Every column of every table, as a task reads it back (``ctx.read``), canonicalised."""

    async def go() -> dict[str, dict[str, list[Any]]]:
        db = await api.open_db(api.open_session(api.Options(pack=pack, db=url)))
        try:
            out: dict[str, dict[str, list[Any]]] = {}
            for t in tables:
                spec = await db.spec(t)
                cols = await db.read_columns(t)
                out[t] = {}
                for c in spec.columns:
                    if c.computed or (t, c.name) in _FILLED_BY_THE_DATABASE:
                        continue
                    f32 = c.kind in _FLOAT32
                    out[t][c.name] = [_canon(v, f32) for v in cols[c.name]]
            return out
        finally:
            await db.close()

    return anyio.run(go)


def _assert_same_values(a: dict[str, dict[str, list[Any]]],
                        b: dict[str, dict[str, list[Any]]]) -> None:
    assert a.keys() == b.keys()
    for t in a:
        assert a[t].keys() == b[t].keys(), t
        for c in a[t]:
            left, right = a[t][c], b[t][c]
            assert len(left) == len(right), f"{t}.{c}: {len(left)} vs {len(right)} rows"
            diff = [i for i, (x, y) in enumerate(zip(left, right, strict=True)) if x != y]
            assert not diff, (f"{t}.{c}: {len(diff)} value(s) differ, first at row {diff[0]}: "
                              f"sqlite {left[diff[0]]!r} vs postgresql {right[diff[0]]!r}")


@pytest.mark.parametrize(("pack", "sets"), [
    (MINI, {}),
    (HOME, {"images": 400, "days": 7, "jobs": 80}),
    (RETAIL, {"stores": 3, "products": 8, "start_date": "2024-01-01",
              "end_date": "2024-02-29"}),
], ids=["mini", "home_security", "retail"])
def test_every_value_decodes_the_same_on_sqlite_and_postgresql(
        pack: str, sets: dict[str, Any], pg: PgDatabases, tmp_path: Path) -> None:
    lite = f"sqlite+aiosqlite:///{tmp_path / 'same.db'}"
    pgu = pg.new()
    for url in (lite, pgu):
        result = run_engine(url, pack=pack, sets=sets, seed=13)
        assert result.status == "done", [o for o in result.outcomes if o.status != "done"]
    tables = [o.table for o in result.outcomes]
    a, b = _decoded(lite, pack, tables), _decoded(pgu, pack, tables)
    assert sum(len(next(iter(cols.values()), [])) for cols in a.values()) > 100
    _assert_same_values(a, b)


# -- resume is a clean run with the recorded settings ---------------------------------

def _fail_then_resume(url: str, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> None:
    monkeypatch.setenv("MINI_FAIL", "orders")
    failed = run_engine(url, **kwargs)
    assert failed.status == "failed"
    monkeypatch.delenv("MINI_FAIL")
    resumed = run_engine(url, resume=True)
    assert resumed.status == "done"
    assert any(o.table == "orders" and o.status == "done" for o in resumed.outcomes)


@pytest.mark.parametrize("settings", [
    {"sets": {"customers": 37, "orders_per_customer": 2}},
    {"profile": "tiny"},
    {"only": "+shipments", "sets": {"orders_per_customer": 3}},
    {"seed": 99, "as_of": "2025-06-30"},
], ids=["set", "profile", "only", "seed-as_of"])
def test_resume_rebuilds_what_a_clean_run_with_the_same_settings_builds(
        db_url: str, another_db: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
        settings: dict[str, Any]) -> None:
    _fail_then_resume(db_url, monkeypatch, **settings)
    clean = another_db()
    assert run_engine(clean, **settings).status == "done"
    assert checksums(db_url, MINI_TABLES) == checksums(clean, MINI_TABLES)
    # the resumed run is recorded with the settings it ran with
    params = json.loads(query(db_url, "SELECT params FROM seedgraph_runs")[0][0])
    for key, value in settings.get("sets", {}).items():
        assert params[key] == value


def test_resume_of_an_append_appends_what_a_clean_append_does(
        db_url: str, another_db: Callable[[], str]) -> None:
    base = {"stores": 2, "products": 4, "start_date": "2024-01-01", "end_date": "2024-01-31"}
    later = {**base, "start_date": "2024-02-01", "end_date": "2024-02-29"}
    facts = ["calendar", "price_history", "promotion", "inventory_snapshot_daily",
             "sales_daily"]
    clean = another_db()
    for url in (db_url, clean):
        assert run_engine(url, pack=RETAIL, sets=base).status == "done"
    assert run_engine(clean, pack=RETAIL, sets=later, append=True).status == "done"

    _inject(db_url, "sales_daily", "INSERT", "NEW.date >= '2024-02-01'")
    failed = run_engine(db_url, pack=RETAIL, sets=later, append=True)
    assert failed.status == "failed"
    assert query(db_url, "SELECT COUNT(*) FROM sales_daily WHERE date >= '2024-02-01'"
                 )[0][0] == 0
    _drop_injected(db_url, "sales_daily")
    assert query(db_url, "SELECT mode FROM seedgraph_runs ORDER BY id DESC")[0][0] == "append"
    resumed = run_engine(db_url, pack=RETAIL, resume=True)
    assert resumed.status == "done"
    assert checksums(db_url, facts) == checksums(clean, facts)
