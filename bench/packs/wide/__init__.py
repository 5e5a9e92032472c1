"""A one-table pack for measuring raw load speed: sales-like rows, all fixed-width.

``rows`` (default 1,000,000) rows of (id, day, store_id, product_id, quantity,
unit_price numeric(10,2), revenue numeric(12,2), promo), generated and written in
chunks of 100,000 so memory stays flat.
"""

import numpy as np
import sqlalchemy as sa

from seedgraph import TaskContext, task

METADATA = sa.MetaData()
sa.Table(
    "facts", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("store_id", sa.Integer, nullable=False),
    sa.Column("product_id", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.Numeric(10, 2), nullable=False),
    sa.Column("revenue", sa.Numeric(12, 2), nullable=False),
    sa.Column("promo", sa.Boolean, nullable=False),
)


@task("facts", params={"rows": 1_000_000})
async def facts(ctx: TaskContext) -> None:
    """Synthetic daily sales facts."""
    total = int(ctx.params["rows"])
    start = np.datetime64("2024-01-01")
    step = 100_000
    for lo in range(0, total, step):
        n = min(step, total - lo)
        price = np.round(ctx.rng.uniform(1, 20, n), 2)
        qty = ctx.rng.poisson(12, n)
        await ctx.write({
            "id": np.arange(lo + 1, lo + n + 1),
            "day": start + ctx.rng.integers(0, 365, n).astype("timedelta64[D]"),
            "store_id": ctx.rng.integers(1, 51, n),
            "product_id": ctx.rng.integers(1, 501, n),
            "quantity": qty,
            "unit_price": price,
            "revenue": np.round(price * qty, 2),
            "promo": ctx.rng.random(n) < 0.1,
        })
