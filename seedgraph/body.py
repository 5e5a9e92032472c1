"""A task body run into its table inside a transaction: the writer streaming its chunks,
the context it receives, and the foreign keys a streamed load deferred checked before
commit. The runner runs a table (or a cycle's tables) this way, and a partitioned
table each of its partitions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import anyio

from seedgraph.backends import Tx
from seedgraph.columns import TableSpec
from seedgraph.context import Reader, TaskContext
from seedgraph.errors import TaskFailed
from seedgraph.load import BULK_ROWS, TableWriter
from seedgraph.task import TaskDef

__all__ = ["first_error", "load_table", "run_body"]


async def run_body(tx: Tx, task: TaskDef, spec: TableSpec, *, reader: Reader, dialect: str,
                   seed: int, as_of: datetime, params: Mapping[str, Any], chunk_rows: int,
                   on_rows: Callable[[int], None] | None = None, append: bool = False,
                   key: Sequence[str] = (), update: bool = False,
                   bulk_rows: int = BULK_ROWS, partition: Any = None,
                   partitions: int | None = None) -> TableWriter:
    """Run *task*'s body, writing into *spec*'s table through *tx*; returns the writer
    (its rows and, for an upsert by *key*, what became of them). A failure of the body
    is a :class:`TaskFailed`; a cancellation goes through as it is."""
    try:
        async with anyio.create_task_group() as tg:
            writer = TableWriter(tx, spec, append=append, on_rows=on_rows, task_group=tg,
                                 bulk_rows=bulk_rows, key=tuple(key), update=update)
            ctx = TaskContext(
                table=task.table, seed=seed, as_of=as_of, params=params,
                upstream=task.upstream, dialect=dialect, reader=reader, writer=writer,
                spec=spec, chunk_rows=chunk_rows, append=append, data=task.data, key=key,
                fields=task.fields, partition=partition, partitions=partitions)
            await task.fn(ctx)
            await ctx.flush()
            await writer.finish()
    except BaseExceptionGroup as group:
        exc = first_error(group)
        if isinstance(exc, anyio.get_cancelled_exc_class()):
            raise exc from None
        raise TaskFailed(task.table, exc) from exc
    await tx.after_load(spec)  # SQLite checks the keys a streamed load deferred
    return writer


async def load_table(tx: Tx, task: TaskDef, spec: TableSpec, *, reader: Reader, dialect: str,
                     seed: int, as_of: datetime, params: Mapping[str, Any], chunk_rows: int,
                     on_rows: Callable[[int], None] | None = None, append: bool = False,
                     update: bool = False, parts: Sequence[Any] = (None,)
                     ) -> tuple[int, str | None]:
    """Load a whole table in *tx*: the rows written and, for an upsert, what became of
    them (the run's note). The caller commits its checkpoint with it. *parts*: the
    partitions of a partitioned table appended to, run one after another here."""
    await tx.before_load(spec)
    rows = inserted = updated = 0
    for part in parts:
        def counted(n: int, before: int = rows) -> None:
            if on_rows is not None:
                on_rows(before + n)

        writer = await run_body(
            tx, task, spec, reader=reader, dialect=dialect, seed=seed, as_of=as_of,
            params=params, chunk_rows=chunk_rows, on_rows=counted, append=append,
            key=task.key, update=update, bulk_rows=min(chunk_rows, BULK_ROWS), partition=part,
            partitions=None if part is None else len(parts))
        rows, inserted, updated = (rows + writer.rows, inserted + writer.inserted,
                                   updated + writer.updated)
    if not task.key:
        return rows, None
    kept = rows - inserted - updated
    return rows, (f"{inserted} new, {updated} updated, {kept} kept"
                  if update else f"{inserted} new, {kept} kept")


def first_error(group: BaseExceptionGroup) -> BaseException:
    """The exception that matters in a task group's group: the first that is not a
    cancellation (or the cancellation, when that is all there is)."""
    leaves: list[BaseException] = []

    def walk(g: BaseExceptionGroup) -> None:
        for e in g.exceptions:
            walk(e) if isinstance(e, BaseExceptionGroup) else leaves.append(e)

    walk(group)
    cancelled = anyio.get_cancelled_exc_class()
    for e in leaves:
        if not isinstance(e, cancelled):
            return e
    return leaves[0]
