"""The run's read cache (seedgraph/readcache.py), on the in-memory database: a finished
table's columns are decoded once for all the tasks downstream of it, each reader gets
its own copy, a task's own table and mutable columns always come from the database,
and a table is forgotten once its last reader ended or the byte budget is spent."""

from __future__ import annotations

from typing import Any

import anyio
import numpy as np
import pytest
import sqlalchemy as sa

from seedgraph.backends import Database, parse_url
from seedgraph.context import TaskContext
from seedgraph.readcache import ReadCache
from seedgraph.runner import execute
from seedgraph.task import TaskDef, task
from tests.test_runner_units import AS_OF, LIMIT, open_db


async def _db() -> Database:
    db = await Database.open(parse_url("memory://"))
    meta = sa.MetaData()
    sa.Table("parent", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("name", sa.Text), sa.Column("doc", sa.JSON),
             sa.Column("rank", sa.Integer))
    sa.Table("nokey", meta, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer))
    await db.create_missing(meta, ["parent", "nokey"])
    db.register(meta)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO parent VALUES (2, 'b', '{\"k\": 2}', 20), "
                         "(1, 'a', '{\"k\": 1}', 10)")
        await tx.execute("INSERT INTO nokey VALUES (2, 1), (1, 2)")
    return db


def _counting(db: Database) -> list[tuple[str, tuple[str, ...]]]:
    """Record every read that reaches the database."""
    calls: list[tuple[str, tuple[str, ...]]] = []
    real = db.read_columns

    async def read_columns(table: str, columns: Any = None) -> dict[str, np.ndarray]:
        out = await real(table, columns)
        calls.append((table, tuple(out)))
        return out

    db.read_columns = read_columns  # type: ignore[method-assign]
    return calls


def test_a_finished_tables_columns_are_read_once_and_each_reader_gets_a_copy() -> None:
    async def main() -> None:
        db = await _db()
        calls = _counting(db)
        cache = ReadCache({"parent": {"x", "y"}})
        first = await cache.reader(db, "x").read_columns("parent", ["id", "name"])
        first["id"][0] = 99  # a reader changing its arrays changes nobody else's
        again = await cache.reader(db, "y").read_columns("parent", ["name", "id"])
        assert again["id"].tolist() == [1, 2] and again["name"].tolist() == ["a", "b"]
        assert list(again) == ["name", "id"]
        assert calls == [("parent", ("id", "name"))]
        # a column not read yet is read alone; a JSON column (mutable dicts) every time
        await cache.reader(db, "y").read_columns("parent", ["id", "doc"])
        await cache.reader(db, "y").read_columns("parent", ["doc"])
        assert calls[1:] == [("parent", ("doc",)), ("parent", ("doc",))]
        await db.close()

    anyio.run(main)


def test_own_tables_tables_without_a_key_or_readers_go_to_the_database() -> None:
    async def main() -> None:
        db = await _db()
        calls = _counting(db)
        cache = ReadCache({"parent": {"x"}, "nokey": {"x"}})
        for _ in range(2):
            await cache.reader(db, "parent").read_columns("parent", ["id"])  # its own table
            await cache.reader(db, "x").read_columns("nokey", ["a"])  # order depends on columns
        assert len(calls) == 4
        nobody = ReadCache({"parent": set()})  # no task left to read it
        for _ in range(2):
            await nobody.reader(db, "x").read_columns("parent", ["id"])
        assert len(calls) == 6 and nobody.bytes == 0
        await db.close()

    anyio.run(main)


def test_a_table_is_forgotten_when_its_last_reader_ends_or_past_the_budget() -> None:
    async def main() -> None:
        db = await _db()
        calls = _counting(db)
        cache = ReadCache({"parent": {"x", "y"}})
        await cache.reader(db, "x").read_columns("parent", ["id", "name"])
        assert cache.bytes > 0
        cache.ended("x")
        await cache.reader(db, "y").read_columns("parent", ["id"])
        assert len(calls) == 1
        cache.ended("y")
        assert cache.bytes == 0
        tiny = ReadCache({"parent": {"x"}}, budget=20)  # room for one 2-row int column
        await tiny.reader(db, "x").read_columns("parent", ["id"])
        await tiny.reader(db, "x").read_columns("parent", ["rank"])
        assert 0 < tiny.bytes <= 20
        await tiny.reader(db, "x").read_columns("parent", ["id"])
        assert len(calls) == 4  # id made room for rank, and is read again
        # a read whose new column evicts the cached one it also returns
        both = await tiny.reader(db, "x").read_columns("parent", ["id", "rank"])
        assert both["id"].tolist() == [1, 2] and both["rank"].tolist() == [10, 20]
        await db.close()

    anyio.run(main)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_run_decodes_an_upstream_table_once_for_all_its_readers(concurrency: int) -> None:
    seen: dict[str, list[int]] = {}

    async def parent(ctx: TaskContext) -> None:
        await ctx.write({"id": np.arange(1, 6)})

    def child(name: str) -> TaskDef:
        async def fn(ctx: TaskContext) -> None:
            ids = (await ctx.read("parent", ["id"]))["id"]
            seen[name] = ids.tolist()
            ids[:] = 0  # must not reach the next reader
            await ctx.write({"id": np.arange(1, 3)})

        return task(name, upstream=["parent"])(fn)

    tasks = [task("parent")(parent), child("c1"), child("c2"), child("c3")]

    async def main() -> list[tuple[str, tuple[str, ...]]]:
        db, (graph, plan), run_id = await open_db(tasks)
        calls = _counting(db)
        with anyio.fail_after(LIMIT):
            result = await execute(db, graph, plan, run_id=run_id, params={}, seed=1,
                                   as_of=AS_OF, concurrency=concurrency, handle_signals=False)
        assert {o.status.value for o in result.outcomes} == {"done"}
        await db.close()
        return calls

    calls = anyio.run(main)
    assert calls == [("parent", ("id",))]
    assert seen == {c: [1, 2, 3, 4, 5] for c in ("c1", "c2", "c3")}


def test_the_partitions_of_a_table_decode_its_upstream_table_once() -> None:
    async def parent(ctx: TaskContext) -> None:
        await ctx.write({"id": np.arange(1, 6)})

    async def child(ctx: TaskContext) -> None:
        ids = (await ctx.read("parent", ["id"]))["id"]
        k = int(ctx.partition)
        await ctx.write({"id": ids[ids % 3 == k] * 10 + k})

    tasks = [task("parent")(parent), task("child", upstream=["parent"], partitions=3)(child)]

    async def main() -> tuple[list[tuple[str, tuple[str, ...]]], int]:
        db, (graph, plan), run_id = await open_db(tasks)
        calls = _counting(db)
        with anyio.fail_after(LIMIT):
            result = await execute(db, graph, plan, run_id=run_id, params={}, seed=1,
                                   as_of=AS_OF, concurrency=3, handle_signals=False)
        assert {o.status.value for o in result.outcomes} == {"done"}, result.outcomes
        rows = await db.count_rows("child")
        await db.close()
        return calls, rows

    calls, rows = anyio.run(main)
    assert rows == 5
    assert [c for c in calls if c[0] == "parent"] == [("parent", ("id",))]
