"""What a task body receives: randomness keyed by (seed, table, key), parameters, the
read guard, and the write buffer that merges batches into chunks."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
import numpy as np
import pytest

from seedgraph.columns import ColumnKind, ColumnSpec, TableSpec
from seedgraph.context import TaskContext, derive_seed
from seedgraph.errors import UsageError

AS_OF = datetime(2026, 1, 15, tzinfo=UTC)
SPEC = TableSpec("t", (ColumnSpec("id", ColumnKind.INT8, nullable=False),
                       ColumnSpec("name", ColumnKind.TEXT)), ("id",))


class RecordingWriter:
    """Keeps every batch the context hands over, as the table writer would receive it."""

    def __init__(self) -> None:
        self.batches: list[tuple[dict[str, list[Any]], int, bool]] = []

    async def write_batch(self, columns: Mapping[str, Any], n: int, *,
                          full: bool = False) -> None:
        self.batches.append(({k: list(v) for k, v in columns.items()}, n, full))


class NoReader:
    async def read_columns(self, table: str, columns: Sequence[str] | None
                           ) -> dict[str, np.ndarray]:
        return {"id": np.arange(3)}

    async def count_rows(self, table: str) -> int:
        return 3

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return []


def ctx(table: str = "t", seed: int = 1, *, writer: RecordingWriter | None = None,
        chunk_rows: int = 50_000, params: Mapping[str, Any] | None = None) -> TaskContext:
    return TaskContext(table=table, seed=seed, as_of=AS_OF, params=params or {},
                       upstream=["parent"], dialect="sqlite", reader=NoReader(),
                       writer=writer or RecordingWriter(), spec=SPEC, chunk_rows=chunk_rows)


def draws(c: TaskContext) -> list[int]:
    return c.rng.integers(0, 2**62, 8).tolist()


# -- randomness ------------------------------------------------------------------------

def test_derive_seed_is_stable_and_depends_on_every_part() -> None:
    assert derive_seed(1, "a") == derive_seed(1, "a")
    seeds = {derive_seed(1, "a"), derive_seed(2, "a"), derive_seed(1, "b"),
             derive_seed(1, "a", "x"), derive_seed(1, "a", "y"), derive_seed(1, "ax"),
             derive_seed(1, "a", 0), derive_seed(1)}
    assert len(seeds) == 8
    assert all(0 <= s < 2**64 for s in seeds)
    # the parts are separated: ("ab", "c") is not ("a", "bc")
    assert derive_seed(1, "ab", "c") != derive_seed(1, "a", "bc")


def test_each_table_draws_its_own_stream_and_the_same_one_every_time() -> None:
    assert draws(ctx("orders")) == draws(ctx("orders"))
    streams = [tuple(draws(ctx(t))) for t in ("orders", "customers", "products", "t")]
    assert len(set(streams)) == 4
    assert draws(ctx("orders", seed=1)) != draws(ctx("orders", seed=2))


def test_faker_is_seeded_per_table() -> None:
    def names(c: TaskContext) -> list[str]:
        return [c.faker.name() for _ in range(5)]

    assert names(ctx("a")) == names(ctx("a"))
    assert names(ctx("a")) != names(ctx("b"))
    assert names(ctx("a", seed=1)) != names(ctx("a", seed=2))


def test_named_streams_are_shared_by_tasks_and_differ_by_key() -> None:
    a, b = ctx("orders"), ctx("shipments")
    # a named stream is the same for every task (that is what it is for) ...
    assert a.rng_for("sim").random(4).tolist() == b.rng_for("sim").random(4).tolist()
    # ... differs from other keys, from the task's own stream and from other seeds
    assert a.rng_for("sim").random(4).tolist() != a.rng_for("other").random(4).tolist()
    assert a.rng_for("sim", 1).random(4).tolist() != a.rng_for("sim", 2).random(4).tolist()
    assert a.rng_for("orders").integers(0, 2**62, 8).tolist() != draws(ctx("orders"))
    assert (ctx("x", seed=1).rng_for("sim").random(4).tolist()
            != ctx("x", seed=2).rng_for("sim").random(4).tolist())


def test_uuids_are_version_4_deterministic_and_keyed_by_table_and_key() -> None:
    ids = ctx("a").uuids(50)
    assert len(set(ids)) == 50
    for s in ids:
        u = uuid.UUID(s)
        assert u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == s
    assert list(ctx("a").uuids(50)) == list(ids)
    assert set(ctx("b").uuids(50)).isdisjoint(ids)
    assert set(ctx("a").uuids(50, "k")).isdisjoint(ids)
    assert set(ctx("a", seed=2).uuids(50)).isdisjoint(ids)


# -- parameters and reads ------------------------------------------------------------

def test_params_are_read_only_and_an_undeclared_one_is_a_clear_error() -> None:
    c = ctx(params={"images": 10})
    assert c.params["images"] == 10 and dict(c.params) == {"images": 10} and len(c.params) == 1
    with pytest.raises(UsageError, match=r"read parameter 'image' but did not declare it.*"
                                         r"Did you mean 'images'"):
        c.params["image"]


def test_reading_a_table_outside_the_upstream_is_refused() -> None:
    c = ctx("t")

    async def go() -> None:
        assert (await c.read("parent"))["id"].tolist() == [0, 1, 2]
        assert await c.count("t") == 3  # its own table is readable
        with pytest.raises(UsageError, match=r"read table 'stranger' which is not in its "
                                             r"upstream; add it to @task\('t'"):
            await c.read("stranger")
        with pytest.raises(UsageError, match="not in its upstream"):
            await c.count("stranger")

    anyio.run(go)


# -- the write buffer -------------------------------------------------------------------

def test_batches_are_merged_into_chunks_in_order() -> None:
    w = RecordingWriter()
    c = ctx(writer=w, chunk_rows=25)

    async def go() -> None:
        for start in (0, 10, 20):  # 3 batches of 10 rows: one chunk of 25 when the third lands
            await c.write({"id": np.arange(start, start + 10),
                           "name": [f"n{i}" for i in range(start, start + 10)]})
        assert [b[1] for b in w.batches] == [25, 5]  # the rest was flushed at once
        await c.flush()

    anyio.run(go)
    # 30 rows: the first flush sends 25 + 5 (a flush empties the whole buffer)
    assert [n for _, n, _ in w.batches] == [25, 5]
    assert [full for _, _, full in w.batches] == [True, False]
    ids = [i for cols, _, _ in w.batches for i in cols["id"]]
    names = [s for cols, _, _ in w.batches for s in cols["name"]]
    assert ids == list(range(30)) and names == [f"n{i}" for i in range(30)]
    assert c.rows_written == 30


def test_a_partial_buffer_waits_for_flush_and_a_new_column_set_flushes_first() -> None:
    w = RecordingWriter()
    c = ctx(writer=w, chunk_rows=100)

    async def go() -> None:
        await c.write({"id": np.arange(3), "name": ["a", "b", "c"]})
        await c.write({"id": np.arange(3, 5), "name": ["d", "e"]})
        assert w.batches == []  # buffered, not yet sent
        await c.write({"id": np.arange(5, 7)})  # another column set: the buffer goes first
        assert [(sorted(cols), n) for cols, n, _ in w.batches] == [(["id", "name"], 5)]
        await c.flush()
        await c.flush()  # nothing left: a second flush sends nothing

    anyio.run(go)
    assert [(cols, n) for cols, n, _ in w.batches] == [
        ({"id": [0, 1, 2, 3, 4], "name": ["a", "b", "c", "d", "e"]}, 5),
        ({"id": [5, 6]}, 2)]


def test_wide_rows_make_smaller_chunks() -> None:
    w = RecordingWriter()
    c = ctx(writer=w, chunk_rows=1_000_000)
    wide = "x" * 100_000  # ~100 kB a row: about 84 rows make the 8 MB chunk limit

    async def go() -> None:
        await c.write({"id": np.arange(300), "name": [wide] * 300})
        await c.flush()

    anyio.run(go)
    sizes = [n for _, n, _ in w.batches]
    assert sum(sizes) == 300 and len(sizes) >= 3 and max(sizes) < 100


def test_write_rejects_bad_batches_and_ignores_empty_ones() -> None:
    w = RecordingWriter()
    c = ctx(writer=w)

    async def go() -> None:
        with pytest.raises(UsageError, match="columns of different lengths"):
            await c.write({"id": np.arange(3), "name": ["a"]})
        with pytest.raises(UsageError, match=r"unknown column 'nmae'.*Did you mean 'name'"):
            await c.write({"id": np.arange(1), "nmae": ["a"]})
        await c.write({})
        await c.write({"id": np.arange(0)})
        await c.write_rows(["id", "name"], [])
        await c.write_rows(["id", "name"], [(1, "a"), (2, None)])
        await c.flush()

    anyio.run(go)
    assert [(cols, n) for cols, n, _ in w.batches] == [({"id": [1, 2], "name": ["a", None]}, 2)]
