"""PostgreSQL types a user's own schema has (domains, enums, inet, interval), in tables the
test creates by hand: this pack declares no METADATA, so seedgraph reads the live schema.

``PGTYPES_WRITE_INET=1`` makes the hosts task write its inet and interval columns as text
(``=bad``: one address that is not one).
"""

import datetime as dt
import os

import numpy as np

from seedgraph import TaskContext, task

YEARS = [1995, 1901, 2155, 2024]


@task("films")
async def films(ctx: TaskContext) -> None:
    await ctx.write({
        "id": np.arange(1, 5),
        "year": YEARS,
        "checked_year": YEARS,
        "title": ["Alien", "Heat", "Up", "Her"],
        "price": [0.99, 12.5, 0, 4321.09],
        "views": [2**40, 0, -1, 7],
        "released": [dt.datetime(1995, 5, 25, 12, tzinfo=dt.UTC)] * 4,
        "rating": ["PG", "R", "G", "NC-17"],
        "tags": [["a", "b"], [], None, ["é"]],
        "code": ["X1", None, "", "ABCDEFGH"],
    })


@task("hosts")
async def hosts(ctx: TaskContext) -> None:
    rows = {"id": np.arange(1, 4)}
    mode = os.environ.get("PGTYPES_WRITE_INET")
    if mode:
        rows["addr"] = ["10.0.0.1", "not-an-address" if mode == "bad" else "10.0.0.2", None]
        rows["span"] = ["1 day 2 hours", "30 seconds", None]
    await ctx.write(rows)
