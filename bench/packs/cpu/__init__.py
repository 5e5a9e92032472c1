"""A CPU-bound partitioned table for the scale-out benchmark: each row's text is built in
Python (a per-row loop, as Faker-style generation is), so one process is bound by its
core, not by the database. ``partitions`` parts of ``rows`` rows in all."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from seedgraph import TaskContext, task

METADATA = sa.MetaData()
events = sa.Table(
    "events", METADATA,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.Integer, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
         "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
         "sierra", "tango", "uniform", "victor", "whiskey", "xray"]


def _note(i: int, v: int) -> str:
    """A sentence built in Python, word by word (about 10 us): the CPU-bound part."""
    x, words = (i * 2654435761 + v) % 2**31, []
    for _ in range(16):
        x = (x * 1103515245 + 12345) % 2**31
        words.append(WORDS[x % len(WORDS)])
    return " ".join(words)
PARAMS = {"rows": 400_000, "partitions": 8}


@task("events", partitions=8, params=["rows"])
async def seed_events(ctx: TaskContext) -> None:
    total, k, count = int(ctx.params["rows"]), int(ctx.partition), int(ctx.partitions)
    lo, hi = total * k // count, total * (k + 1) // count
    for start in range(lo, hi, 50_000):
        stop = min(hi, start + 50_000)
        kind = ctx.rng.integers(0, 100, stop - start)
        note = np.array([_note(i, int(v)) for i, v in zip(range(start, stop), kind,
                                                         strict=True)], dtype=object)
        await ctx.write({"id": np.arange(start, stop), "kind": kind, "note": note})
