"""Metadata tables inside the target database: runs, per-task checkpoints, table state.

``seedgraph_runs``   one row per run: settings needed to resume it exactly
``seedgraph_tasks``  one row per task per run: status, rows, timings, error, fingerprint
``seedgraph_state``  one row per table seedgraph filled: the fingerprint and row count it
                     wrote. It is updated in the same transaction as the table's rows, so
                     "done" and "loaded" can never disagree.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from seedgraph.backends import Database, Tx, quote
from seedgraph.errors import DatabaseError, SeedgraphError
from seedgraph.events import RunStatus, TaskStatus
from seedgraph.plan import TableState

__all__ = [
    "META",
    "RunRecord",
    "TaskRecord",
    "changed_rows",
    "clear_tables",
    "close_stale_runs",
    "ensure_tables",
    "finish_run",
    "forget_tables",
    "latest_run",
    "load_states",
    "mark_done",
    "mark_status",
    "recent_runs",
    "start_run",
    "task_records",
]

META = sa.MetaData()
RUNS = sa.Table(
    "seedgraph_runs", META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("finished_at", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("as_of", sa.Text, nullable=False),
    sa.Column("selection", sa.Text, nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("pack", sa.Text, nullable=False),
    sa.Column("pack_fingerprint", sa.Text, nullable=False),
    sa.Column("version", sa.Text, nullable=False),
)
TASKS = sa.Table(
    "seedgraph_tasks", META,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("seedgraph_runs.id"), primary_key=True),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("rows", sa.BigInteger),
    sa.Column("started_at", sa.Text),
    sa.Column("finished_at", sa.Text),
    sa.Column("seconds", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("fingerprint", sa.Text),
)
STATE = sa.Table(
    "seedgraph_state", META,
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    # JSON list of the marks of the transactions that wrote the rows (PostgreSQL: their
    # xids; SQLite: the largest rowid after each load), to find rows written or changed
    # by anyone else; NULL when unknown (recorded by an older version)
    sa.Column("writers", sa.Text),
)

PARTITIONS = sa.Table(
    "seedgraph_partitions", META,
    sa.Column("table_name", sa.Text, primary_key=True),
    # a partition's name; "" is the table-level prepare step (its fingerprint column
    # then holds the JSON list of statements that rebuild what it dropped)
    sa.Column("part", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Column("writer", sa.Text),  # the partition's transaction mark (see STATE.writers)
)

DETACHED = sa.Table(
    "seedgraph_detached", META,
    sa.Column("table_name", sa.Text, primary_key=True),
    # JSON: {"parents": [...], "statements": [...]}, the foreign keys dropped for the
    # table's load and what re-adds them (see seedgraph.detach)
    sa.Column("keys", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)

STATUSES = tuple(s.value for s in TaskStatus if s != TaskStatus.UP_TO_DATE)  # recorded


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    started_at: str
    finished_at: str | None
    status: RunStatus
    mode: str
    seed: int
    as_of: str
    selection: Mapping[str, Any]
    params: Mapping[str, Any]
    pack: str
    pack_fingerprint: str
    version: str


@dataclass(frozen=True, slots=True)
class TaskRecord:
    run_id: int
    table: str
    status: TaskStatus
    rows: int | None
    started_at: str | None
    finished_at: str | None
    seconds: float | None
    error: str | None
    fingerprint: str | None


async def ensure_tables(db: Database) -> None:
    await db.ensure_bookkeeping(META)
    if not await _records_writers(db):  # bookkeeping from before 0.2
        await db.execute("ALTER TABLE seedgraph_state ADD COLUMN writers TEXT")


async def _records_writers(db: Database) -> bool:
    """Whether seedgraph_state exists and has the writers column."""
    if "seedgraph_state" not in await db.existing_tables():
        return False
    try:
        await db.query("SELECT writers FROM seedgraph_state WHERE 1 = 0")
    except Exception:  # the driver's "no such column"
        return False
    return True


async def changed_rows(db: Database, tables: Sequence[str]) -> dict[str, int | None]:
    """Per table, how many rows seedgraph's recorded loads did not write (None: unknown)."""
    if not await _records_writers(db):
        return dict.fromkeys(tables)
    with _reading("seedgraph_state"):
        writers = {r[0]: json.loads(r[1]) for r in await db.query(
            "SELECT table_name, writers FROM seedgraph_state WHERE writers IS NOT NULL")}
    return {t: (await db.changed_rows(t, writers[t]) if t in writers else None)
            for t in tables}


async def load_states(db: Database, tables: Sequence[str]) -> dict[str, TableState]:
    counts = await db.row_counts(tables)
    recorded: dict[str, tuple[str, int]] = {}
    existing = await db.existing_tables()
    if "seedgraph_state" in existing:
        with _reading("seedgraph_state"):
            recorded = {r[0]: (r[1], int(r[2])) for r in await db.query(
                "SELECT table_name, fingerprint, rows FROM seedgraph_state")}
    parts: dict[str, dict[str, tuple[int, int]]] = {}
    if "seedgraph_partitions" in existing:
        with _reading("seedgraph_partitions"):
            for t, fp, n, rows in await db.query(
                    "SELECT table_name, fingerprint, COUNT(*), SUM(rows) FROM "
                    "seedgraph_partitions WHERE part <> '' GROUP BY table_name, fingerprint"):
                parts.setdefault(t, {})[fp] = (int(n), int(rows))
    out: dict[str, TableState] = {}
    for t in tables:
        fp, rows = recorded.get(t, (None, None))
        out[t] = TableState(rows=counts[t], fingerprint=fp, recorded_rows=rows,
                            partitions=parts.get(t, {}))
    return out


async def close_stale_runs(tx: Tx) -> int:
    """Runs still marked ``running`` when a new run holds the lock were stopped without
    closing their books (killed, or a task body forced out of synchronous code): mark
    them and their running tasks interrupted. Their tables rolled back already."""
    stopped = now()
    n = await tx.execute("UPDATE seedgraph_runs SET status = 'interrupted', finished_at = ? "
                         "WHERE status = 'running'", (stopped,))
    if n:
        await tx.execute(
            "UPDATE seedgraph_tasks SET status = 'interrupted', finished_at = ?, "
            "error = 'the process stopped; rolled back' WHERE status = 'running'", (stopped,))
    return n


async def start_run(tx: Tx, *, mode: str, seed: int, as_of: datetime,
                    selection: Mapping[str, Any], params: Mapping[str, Any], pack: str,
                    pack_fingerprint: str, version: str, tables: Sequence[str],
                    skipped: Sequence[str] = (), run_id: int | None = None) -> int:
    """Insert (or, resuming, reopen) the run row and its task rows as pending."""
    if run_id is None:
        rows = await tx.fetch("SELECT COALESCE(MAX(id), 0) + 1 FROM seedgraph_runs")
        run_id = int(rows[0][0])
        await tx.execute(
            "INSERT INTO seedgraph_runs (id, started_at, status, mode, seed, as_of, selection,"
            " params, pack, pack_fingerprint, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, now(), RunStatus.RUNNING, mode, seed, as_of.isoformat(),
             json.dumps(selection, sort_keys=True), json.dumps(params, sort_keys=True, default=str),
             pack, pack_fingerprint, version),
        )
    else:
        await tx.execute(
            "UPDATE seedgraph_runs SET status = 'running', finished_at = NULL WHERE id = ?",
            (run_id,),
        )
    for t in tables:
        await _upsert_task(tx, run_id, t, TaskStatus.PENDING)
    for t in skipped:
        existing = await tx.fetch(
            "SELECT status FROM seedgraph_tasks WHERE run_id = ? AND table_name = ?",
            (run_id, t))
        if not existing:
            await _upsert_task(tx, run_id, t, TaskStatus.DONE, error="up to date (skipped)")
    return run_id


async def _upsert_task(tx: Tx, run_id: int, table: str, status: TaskStatus,
                       error: str | None = None) -> None:
    n = await tx.execute(
        "UPDATE seedgraph_tasks SET status = ?, error = ?, rows = NULL, seconds = NULL "
        "WHERE run_id = ? AND table_name = ?", (status, error, run_id, table))
    if n == 0:
        await tx.execute(
            "INSERT INTO seedgraph_tasks (run_id, table_name, status, error) VALUES (?, ?, ?, ?)",
            (run_id, table, status, error))


async def forget_tables(tx: Tx, tables: Sequence[str]) -> None:
    """Forget what seedgraph recorded about *tables* (they were dropped)."""
    for table in tables:
        await tx.execute("DELETE FROM seedgraph_state WHERE table_name = ?", (table,))


async def clear_tables(tx: Tx, tables: Sequence[str]) -> None:
    """Empty *tables* (children first) and forget what seedgraph recorded for them."""
    await tx.empty(tables)
    for t in tables:
        await tx.execute("DELETE FROM seedgraph_state WHERE table_name = ?", (t,))
        # a recorded prepare step stays: the indexes it dropped are still to be rebuilt
        await tx.execute("DELETE FROM seedgraph_partitions WHERE table_name = ? AND part <> ''",
                         (t,))


async def mark_done(tx: Tx, *, run_id: int, table: str, rows: int, fingerprint: str,
                    started_at: str, seconds: float, append: bool,
                    writers: Sequence[str | None] | None = None) -> None:
    """Inside the task's own transaction: its checkpoint commits with its rows.
    *writers*: the marks of the transactions that wrote the rows, when others than this
    one did (a partitioned table's partitions)."""
    await tx.execute(
        "UPDATE seedgraph_tasks SET status = 'done', rows = ?, started_at = ?, finished_at = ?,"
        " seconds = ?, error = NULL, fingerprint = ? WHERE run_id = ? AND table_name = ?",
        (rows, started_at, now(), seconds, fingerprint, run_id, table),
    )
    marker = await tx.write_marker(table)
    if writers is not None:
        marker = None if None in writers else _SEVERAL + json.dumps(list(writers))
    existing = await tx.fetch("SELECT rows, writers FROM seedgraph_state WHERE table_name = ?",
                              (table,))
    if existing:
        if append:
            known = existing[0][1]
            writers = None if known is None or marker is None else json.dumps(
                [*json.loads(known), marker])
            await tx.execute(
                "UPDATE seedgraph_state SET rows = rows + ?, run_id = ?, updated_at = ?, "
                "writers = ? WHERE table_name = ?", (rows, run_id, now(), writers, table))
        else:
            await tx.execute(
                "UPDATE seedgraph_state SET rows = ?, fingerprint = ?, run_id = ?, updated_at = ?,"
                " writers = ? WHERE table_name = ?",
                (rows, fingerprint, run_id, now(), _writers(marker), table))
    else:
        total = rows
        if append:
            total = (await tx.fetch(f"SELECT COUNT(*) FROM {quote(table)}"))[0][0]
        await tx.execute(
            "INSERT INTO seedgraph_state (table_name, fingerprint, rows, run_id, updated_at, "
            "writers) VALUES (?, ?, ?, ?, ?, ?)",
            (table, fingerprint, int(total), run_id, now(),
             None if append else _writers(marker)))


_SEVERAL = "\0"  # a marker that is already the JSON list of several writers


def _writers(marker: str | None) -> str | None:
    if marker is not None and marker.startswith(_SEVERAL):
        return marker[1:]
    return None if marker is None else json.dumps([marker])


async def mark_status(db: Database, *, run_id: int, table: str, status: TaskStatus,
                      error: str | None = None, started_at: str | None = None,
                      seconds: float | None = None) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE seedgraph_tasks SET status = ?, error = ?,"
            " started_at = COALESCE(?, started_at), finished_at = ?, seconds = ?"
            " WHERE run_id = ? AND table_name = ?",
            (status, error, started_at, None if status == TaskStatus.RUNNING else now(), seconds,
             run_id, table),
        )


async def finish_run(db: Database, run_id: int, status: RunStatus) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE seedgraph_runs SET status = ?, finished_at = ? WHERE id = ?",
                         (status, now(), run_id))


def _run(row: Sequence[Any]) -> RunRecord:
    return RunRecord(
        id=int(row[0]), started_at=row[1], finished_at=row[2], status=RunStatus(row[3]),
        mode=row[4],
        seed=int(row[5]), as_of=row[6], selection=json.loads(row[7]), params=json.loads(row[8]),
        pack=row[9], pack_fingerprint=row[10], version=row[11],
    )


_RUN_COLS = ("id, started_at, finished_at, status, mode, seed, as_of, selection, params, pack,"
             " pack_fingerprint, version")


async def recent_runs(db: Database, limit: int = 10) -> list[RunRecord]:
    if "seedgraph_runs" not in await db.existing_tables():
        return []
    with _reading("seedgraph_runs"):
        rows = await db.query(
            f"SELECT {_RUN_COLS} FROM seedgraph_runs ORDER BY id DESC LIMIT ?", (limit,))
        return [_run(r) for r in rows]


async def latest_run(db: Database) -> RunRecord | None:
    runs = await recent_runs(db, 1)
    return runs[0] if runs else None


async def task_records(db: Database, run_id: int) -> list[TaskRecord]:
    with _reading("seedgraph_tasks"):
        rows = await db.query(
            "SELECT run_id, table_name, status, rows, started_at, finished_at, seconds, error,"
            " fingerprint FROM seedgraph_tasks WHERE run_id = ? ORDER BY table_name", (run_id,))
        return [TaskRecord(int(r[0]), r[1], TaskStatus(r[2]), None if r[3] is None else int(r[3]),
                           r[4],
                           r[5], None if r[6] is None else float(r[6]), r[7], r[8])
                for r in rows]


@contextlib.contextmanager
def _reading(table: str) -> Iterator[None]:
    """A bookkeeping table that cannot be read as this version wrote it is named, with
    what to do, instead of an unexpected error."""
    try:
        yield
    except SeedgraphError:
        raise
    except Exception as exc:
        raise DatabaseError(
            f"seedgraph's bookkeeping table {table} is damaged or was changed by hand "
            f"({type(exc).__name__}: {exc}); repair it, or drop seedgraph_runs, "
            "seedgraph_tasks and seedgraph_state to start the bookkeeping over (your own "
            "tables are kept, and a rebuild will then ask for --confirm)") from None
