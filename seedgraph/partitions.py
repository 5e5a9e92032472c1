"""Partitioned tasks: one table loaded in pieces, each piece committed with its checkpoint.

``@task("sales", partitions=8)`` runs the task body once per partition (``ctx.partition``
is 0..7), ``@task("sales", partitions="store.id")`` once per row of ``store`` (the
partition is that row's ``id``). A partition's randomness derives from (seed, table,
partition), so its rows do not depend on which worker runs it, or when. Each
partition's rows and its ``seedgraph_partitions`` row commit in one transaction, so
``--resume`` runs only the partitions that did not commit.

Around the partitions, two table-level steps, each its own transaction and safe to
repeat: *prepare* drops the table's indexes and foreign keys for the bulk load (on
PostgreSQL) and records the statements that rebuild them; *finish* runs them, moves
the sequences past the loaded keys and marks the table done. A table is done only when
every partition and the finish step have committed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
import numpy as np

from seedgraph.backends import Database, Tx
from seedgraph.body import run_body
from seedgraph.context import Reader
from seedgraph.errors import PackError, TaskFailed, UsageError
from seedgraph.task import TaskDef

__all__ = ["PREPARED", "Partition", "committed", "done_partitions", "finish", "forget",
           "load_partition", "partition_keys", "prepare"]

PREPARED = ""  # the part name of the table-level step's record
NO_BULK = 1 << 62  # a partition never drops indexes itself: prepare did, once


@dataclass(frozen=True, slots=True)
class Partition:
    """One piece of a partitioned table: its key (a number, or a parent row's value)
    and how many pieces the table has."""

    key: Any
    count: int

    @property
    def name(self) -> str:
        return str(self.key)


async def partition_keys(reader: Reader, task: TaskDef) -> list[Any]:
    """The partitions of *task*'s table, in a stable order."""
    spec = task.partitions
    if isinstance(spec, int):
        return list(range(spec))
    assert isinstance(spec, str)
    table, _, column = spec.partition(".")
    if table not in task.upstream:
        raise PackError(f"task '{task.table}' is partitioned by {spec}, but '{table}' is not "
                        f"in its upstream; add it: @task('{task.table}', upstream=[..., "
                        f"'{table}'])")
    values = (await reader.read_columns(table, [column]))[column]
    return sorted({v.item() if isinstance(v, np.generic) else v for v in values})


async def done_partitions(db: Database, table: str, fingerprint: str) -> dict[str, int]:
    """Partitions of *table* committed for *fingerprint*: name → rows."""
    if "seedgraph_partitions" not in await db.existing_tables():
        return {}
    rows = await db.query("SELECT part, rows FROM seedgraph_partitions WHERE table_name = ? "
                          "AND fingerprint = ? AND part <> ?", (table, fingerprint, PREPARED))
    return {str(r[0]): int(r[1]) for r in rows}


async def committed(db: Database) -> dict[str, int]:
    """Committed partitions per table (what ``status`` shows)."""
    if "seedgraph_partitions" not in await db.existing_tables():
        return {}
    rows = await db.query("SELECT table_name, COUNT(*) FROM seedgraph_partitions "
                          "WHERE part <> ? GROUP BY table_name", (PREPARED,))
    return {str(r[0]): int(r[1]) for r in rows}


async def prepare(db: Database, table: str, run_id: int) -> None:
    """Drop the (empty) table's indexes and foreign keys for the load, recording the
    statements that rebuild them; nothing to do when an earlier attempt did it."""
    async with db.transaction() as tx:
        recorded = await tx.fetch("SELECT 1 FROM seedgraph_partitions WHERE table_name = ? "
                                  "AND part = ?", (table, PREPARED))
        if recorded:
            return
        restore = await tx.defer_indexes(table)
        await tx.execute(
            "INSERT INTO seedgraph_partitions (table_name, part, fingerprint, rows, run_id, "
            "updated_at) VALUES (?, ?, ?, 0, ?, ?)",
            (table, PREPARED, json.dumps(restore), run_id, _now()))


async def load_partition(db: Database, task: TaskDef, part: Partition, *, reader: Reader,
                         run_id: int,
                         seed: int, as_of: datetime, params: Mapping[str, Any],
                         fingerprint: str, chunk_rows: int,
                         on_rows: Callable[[int], None] | None = None) -> int:
    """Run *task*'s body for one partition and commit its rows with its checkpoint."""
    spec = await db.spec(task.table)
    async with db.transaction() as tx:
        tx.check_keys_per_row()
        try:
            writer = await run_body(
                tx, task, spec, reader=reader, dialect=db.dialect, seed=seed, as_of=as_of,
                params=params, chunk_rows=chunk_rows, on_rows=on_rows, bulk_rows=NO_BULK,
                partition=part.key, partitions=part.count)
            missing = [c for c in spec.primary_key if c not in writer.written]
            if missing and writer.rows:
                raise UsageError(
                    f"partitioned table '{task.table}' must write its key ({', '.join(missing)})"
                    ": ids the database numbers would depend on the order partitions run in")
            await tx.execute(
                "INSERT INTO seedgraph_partitions (table_name, part, fingerprint, rows, run_id,"
                " updated_at, writer) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (task.table, part.name, fingerprint, writer.rows, run_id, _now(),
                 await tx.write_marker(task.table)))
        except (TaskFailed, anyio.get_cancelled_exc_class()):
            raise
        except Exception as exc:
            raise TaskFailed(task.table, exc) from exc
    return writer.rows


async def finish(db: Database, task: TaskDef, *, run_id: int, fingerprint: str,
                 started_at: str, t0: float, mark_done: Callable[..., Any]) -> int:
    """Rebuild what prepare dropped, move sequences past the keys, mark the table done;
    returns the table's rows."""
    spec = await db.spec(task.table)
    async with db.transaction() as tx:
        restore = await tx.fetch("SELECT fingerprint FROM seedgraph_partitions WHERE "
                                 "table_name = ? AND part = ?", (task.table, PREPARED))
        await tx.rebuild(json.loads(restore[0][0]) if restore else [])
        await tx.after_load(spec)
        parts = await tx.fetch(
            "SELECT rows, writer FROM seedgraph_partitions WHERE table_name = ? "
            "AND fingerprint = ? AND part <> ?", (task.table, fingerprint, PREPARED))
        rows = sum(int(r[0]) for r in parts)
        await tx.execute("DELETE FROM seedgraph_partitions WHERE table_name = ? AND part = ?",
                         (task.table, PREPARED))
        await mark_done(tx, run_id=run_id, table=task.table, rows=rows,
                        fingerprint=fingerprint, started_at=started_at,
                        seconds=time.perf_counter() - t0, append=False,
                        writers=[r[1] for r in parts])
    return rows


async def forget(tx: Tx, tables: Sequence[str]) -> None:
    """Forget the partitions of *tables* (they are being emptied), keeping a recorded
    prepare step: its indexes are still to be rebuilt."""
    for t in tables:
        await tx.execute("DELETE FROM seedgraph_partitions WHERE table_name = ? AND part <> ?",
                         (t, PREPARED))


def _now() -> str:
    from seedgraph.checkpoints import now

    return now()

