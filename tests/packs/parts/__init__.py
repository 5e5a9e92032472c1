"""A pack with partitioned tables: ``readings`` one partition per sensor, ``ticks`` four
fixed partitions of key ranges, ``daily`` (not partitioned) reading both.

``PARTS_KILL=readings:3`` makes the worker loading partition 3 of ``readings`` kill its
own process (SIGKILL) once, after its rows reached the database and before its commit
(``PARTS_KILL=daily``: the worker loading the whole ``daily`` table): the marker file
``PARTS_KILL_MARK`` records that it happened, so a resume runs through.
``PARTS_FAIL=ticks:2`` makes partition 2 of ``ticks`` raise; ``PARTS_ORPHAN=readings:2``
makes partition 2 of ``readings`` write a row of a sensor that does not exist.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from seedgraph import TaskContext, task

METADATA = sa.MetaData()
sensor = sa.Table(
    "sensor", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
)
readings = sa.Table(
    "readings", METADATA,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("sensor_id", sa.Integer, sa.ForeignKey("sensor.id"), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Index("ix_readings_sensor", "sensor_id"),
)
ticks = sa.Table(
    "ticks", METADATA,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("price", sa.Float, nullable=False),
)
daily = sa.Table(
    "daily", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # numbered by the db
    sa.Column("sensor_id", sa.Integer, sa.ForeignKey("sensor.id"), nullable=False),
    sa.Column("mean", sa.Float, nullable=False),
)
PARAMS = {"sensors": 6, "per_sensor": 3000, "ticks": 20_000}


@task("sensor", params=["sensors"])
async def seed_sensor(ctx: TaskContext) -> None:
    n = int(ctx.params["sensors"])
    await ctx.write({"id": np.arange(1, n + 1), "name": [f"s{i}" for i in range(1, n + 1)]})


def _maybe_kill(ctx: TaskContext) -> None:
    name = ctx.table if ctx.partition is None else f"{ctx.table}:{ctx.partition}"
    if os.environ.get("PARTS_FAIL") == name:
        raise RuntimeError(f"partition {ctx.partition} of {ctx.table} failed")
    spec = os.environ.get("PARTS_KILL", "")
    mark = os.environ.get("PARTS_KILL_MARK")
    if spec == name and mark and not Path(mark).exists():
        Path(mark).write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)


@task("readings", upstream=["sensor"], partitions="sensor.id", params=["per_sensor"])
async def seed_readings(ctx: TaskContext) -> None:
    n = int(ctx.params["per_sensor"])
    sid = int(ctx.partition)
    there = 0
    if ctx.append:  # an append numbers the sensor's new readings after the ones there
        there = (await ctx.query("SELECT COUNT(*) FROM readings WHERE sensor_id = ?",
                                 (sid,)))[0][0]
    orphan = os.environ.get("PARTS_ORPHAN") == f"{ctx.table}:{ctx.partition}"
    sensor_ids = np.full(n, sid)
    sensor_ids[-1] = 999 if orphan else sid
    await ctx.write({"id": sid * 1_000_000 + there + np.arange(n), "sensor_id": sensor_ids,
                     "value": ctx.rng.normal(20.0, 2.0, n)})
    await ctx.flush()
    _maybe_kill(ctx)


@task("ticks", partitions=4, params=["ticks"])
async def seed_ticks(ctx: TaskContext) -> None:
    total, k, count = int(ctx.params["ticks"]), int(ctx.partition), int(ctx.partitions)
    lo, hi = total * k // count, total * (k + 1) // count
    await ctx.write({"id": np.arange(lo, hi), "price": 100 + ctx.rng.standard_normal(hi - lo)})
    _maybe_kill(ctx)


@task("daily", upstream=["sensor", "readings"])
async def seed_daily(ctx: TaskContext) -> None:
    """Not partitioned: each sensor's mean reading, in rows the database numbers."""
    r = await ctx.read("readings", ["sensor_id", "value"])
    ids, at = np.unique(r["sensor_id"], return_inverse=True)
    means = np.bincount(at, weights=r["value"]) / np.bincount(at)
    await ctx.write({"sensor_id": ids, "mean": means})
    await ctx.flush()
    _maybe_kill(ctx)
