"""A whole table's foreign keys, detached for its bulk load in a transaction of their own.

Dropping a foreign key locks its parent table exclusively until commit (PostgreSQL).
Inside the load's transaction that lock would last the whole load, and every other task
reading the parent, or loading another of its children, would wait for it: the children
of one big table would load one after another, whatever the concurrency. So the keys
are dropped in a short transaction before the load, which records them in
``seedgraph_detached``, and the load's own transaction re-adds them (validating every
row in one pass) and deletes the record: the rows, the checkpoint and the keys commit
together. A load that fails has its keys re-added at once; a run that dies in between
leaves the record, and the next run re-adds the keys before it plans
(:func:`reattach_left`).

While the keys are away another session could write rows that break them: re-adding
them then fails the load, and the error says which key.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio

from seedgraph.backends import Database, Tx
from seedgraph.checkpoints import now
from seedgraph.errors import DatabaseError

__all__ = ["Detached", "attach", "detached", "reattach_left"]


@dataclass(frozen=True, slots=True)
class Detached:
    table: str
    parents: tuple[str, ...]
    statements: tuple[str, ...]


@contextlib.asynccontextmanager
async def detached(db: Database, table: str, run_id: int, *, enabled: bool = True
                   ) -> AsyncIterator[Detached | None]:
    """The keys of *table* detached while the block loads it; the block's transaction
    must :func:`attach` them. When the block fails, they are re-added."""
    # only where loads run side by side (PostgreSQL); elsewhere a load checks its keys
    keys = await _detach(db, table, run_id) if enabled and db.concurrent_writers else None
    try:
        yield keys
    except BaseException:
        if keys is not None:
            with anyio.CancelScope(shield=True):
                await _reattach(db, table)
        raise


async def attach(tx: Tx, keys: Detached | None) -> None:
    """Re-add the detached keys in the load's transaction, and forget the record."""
    if keys is None:
        return
    await tx.attach_foreign_keys(keys.parents, keys.statements)
    await tx.execute("DELETE FROM seedgraph_detached WHERE table_name = ?", (keys.table,))


async def reattach_left(db: Database) -> list[str]:
    """Re-add the keys of loads a dead run left detached; the tables concerned."""
    if "seedgraph_detached" not in await db.existing_tables():
        return []
    tables = [str(r[0]) for r in await db.query(
        "SELECT table_name FROM seedgraph_detached ORDER BY table_name")]
    for table in tables:
        await _reattach(db, table)
    return tables


async def _detach(db: Database, table: str, run_id: int) -> Detached | None:
    async with db.transaction() as tx:
        parents, statements = await tx.detach_foreign_keys(table)
        if not statements:
            return None
        await tx.execute(
            "INSERT INTO seedgraph_detached (table_name, keys, run_id, updated_at) "
            "VALUES (?, ?, ?, ?)",
            (table, json.dumps({"parents": parents, "statements": statements}), run_id,
             now()))
    return Detached(table, tuple(parents), tuple(statements))


async def _reattach(db: Database, table: str) -> None:
    async with db.transaction() as tx:
        rows = await tx.fetch("SELECT keys FROM seedgraph_detached WHERE table_name = ?",
                              (table,))
        if not rows:
            return
        keys = json.loads(rows[0][0])
        try:
            await attach(tx, Detached(table, tuple(keys["parents"]),
                                      tuple(keys["statements"])))
        except Exception as exc:
            raise DatabaseError(
                f"table '{table}' lost its foreign keys for a load that did not finish, and "
                f"they cannot be re-added: {exc}. Fix or delete the rows that break them, "
                f"then run seedgraph again (it re-adds them first)") from exc
