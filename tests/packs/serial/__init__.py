"""A pack whose ids come from the database: a serial key (AUTOINCREMENT on SQLite), an
identity key, and (created by the test) a key whose default is ``nextval()`` of a sequence
that no column owns. No task writes an id.

``SERIAL_FAIL=people`` makes that task fail after its rows reached the database, so the
sequence has moved on when the attempt rolls back.
"""

import os

import numpy as np
import sqlalchemy as sa

from seedgraph import TaskContext, task

METADATA = sa.MetaData()
people = sa.Table(
    "people", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sqlite_autoincrement=True,
)
tickets = sa.Table(
    "tickets", METADATA,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("code", sa.Text, nullable=False),
)
PARAMS = {"people": 40}


async def _maybe_fail(ctx: TaskContext) -> None:
    if os.environ.get("SERIAL_FAIL") == ctx.table:
        await ctx.flush()
        raise RuntimeError(f"injected failure in {ctx.table} after its rows were sent")


@task("people", params={"people": 40})
async def seed_people(ctx: TaskContext) -> None:
    n = int(ctx.params["people"])
    await ctx.write({"name": [f"person {i}" for i in ctx.rng.permutation(n)]})
    await _maybe_fail(ctx)


@task("tickets", upstream=["people"])
async def seed_tickets(ctx: TaskContext) -> None:
    p = await ctx.read("people", ["id"])
    owners = np.repeat(p["id"], 2)
    await ctx.write({"person_id": owners, "code": [f"T-{i}" for i in range(len(owners))]})
    await _maybe_fail(ctx)


@task("notes")
async def seed_notes(ctx: TaskContext) -> None:
    await ctx.write({"body": [f"note {i}" for i in range(25)]})
    await _maybe_fail(ctx)
