"""The dirty-data mode: the sales feed as the stores' point-of-sale export delivers it,
with duplicates, NULLs, out-of-range values and late rows (001's "dirty data mode")."""

from __future__ import annotations

import numpy as np

from seedgraph import TaskContext, UsageError, task

from .tasks import _dates

DIRTY_COLUMNS = ("date", "store_id", "product_id", "quantity", "unit_price", "revenue",
                 "on_promotion")


@task("sales_daily_raw", upstream=["sales_daily"], tags=["raw"],
      params=["start_date", "end_date", "dirty_duplicates", "dirty_nulls",
              "dirty_out_of_range", "dirty_late"])
async def sales_daily_raw(ctx: TaskContext) -> None:
    """The sales feed as the stores deliver it, for testing validation and ingest (001's
    dirty data mode: only the dirty profile selects it, or --only '+sales_daily_raw').
    Every sales_daily row of the range is a
    record, received the next night; each record independently is, with the configured
    shares, missing one field (``null``), negative in quantity or price
    (``out_of_range``), or received 2-30 days late (``late``) - at most one of the three -
    and, independently, sent a second time (``duplicate``, an identical copy received up
    to three days later). Rows are numbered in arrival order."""
    p = ctx.params
    rates = {k: float(p[f"dirty_{k}"]) for k in ("duplicates", "nulls", "out_of_range", "late")}
    if any(not 0 <= r <= 1 for r in rates.values()) or (
            rates["nulls"] + rates["out_of_range"] + rates["late"] > 1):
        raise UsageError("dirty_duplicates, dirty_nulls, dirty_out_of_range and dirty_late "
                         "are shares between 0 and 1, and the last three add up to at most 1 "
                         f"(a record has at most one of them); got {rates}")
    start, end = _dates(ctx)
    first_id = 1
    if ctx.append:
        there = await ctx.query("SELECT COUNT(*), MAX(id) FROM sales_daily_raw WHERE date "
                                "BETWEEN ? AND ?", (start, end))
        if there[0][0]:
            return  # this range's feed is there (the same append run again)
        top = await ctx.query("SELECT MAX(id) FROM sales_daily_raw")
        first_id = int(top[0][0] or 0) + 1
    sales = await ctx.read("sales_daily", list(DIRTY_COLUMNS))
    inside = (sales["date"] >= start) & (sales["date"] <= end)
    cols: dict[str, np.ndarray] = {c: sales[c][inside] for c in DIRTY_COLUMNS}
    n = len(cols["date"])
    rng = ctx.rng_for("dirty", str(start))
    u = rng.random(n)
    null = u < rates["nulls"]
    bad = (u >= rates["nulls"]) & (u < rates["nulls"] + rates["out_of_range"])
    late = ((u >= rates["nulls"] + rates["out_of_range"])
            & (u < rates["nulls"] + rates["out_of_range"] + rates["late"]))
    night = cols["date"].astype("datetime64[s]") + np.timedelta64(1, "D") + rng.integers(
        0, 6 * 3600, n).astype("timedelta64[s]")
    received = night + np.where(late, rng.integers(1, 30, n), 0).astype("timedelta64[D]")
    out: dict[str, np.ndarray] = {c: cols[c].astype(object) for c in DIRTY_COLUMNS}
    out["date"] = cols["date"].copy()
    out["unit_price"] = cols["unit_price"].astype(float)
    out["revenue"] = cols["revenue"].astype(float)
    # out of range: the quantity or the price negative (the revenue follows)
    neg_qty = bad & (rng.random(n) < 0.5)
    qty = cols["quantity"].astype(np.int64)
    out["quantity"] = np.where(neg_qty, -np.maximum(qty, 1), qty).astype(object)
    neg_price = bad & ~neg_qty
    out["unit_price"] = np.where(neg_price, -out["unit_price"], out["unit_price"])
    out["revenue"] = np.where(bad, np.round(out["quantity"].astype(float) * out["unit_price"],
                                            2), out["revenue"])
    # null: one field of the record missing
    which = rng.integers(0, len(DIRTY_COLUMNS), n)
    for k, c in enumerate(DIRTY_COLUMNS):
        hole = null & (which == k)
        if c == "date":
            out[c] = np.where(hole, np.datetime64("NaT"), out[c]).astype("datetime64[D]")
        elif c in ("unit_price", "revenue"):
            out[c] = np.where(hole, np.nan, out[c])
        else:
            out[c] = np.where(hole, None, out[c])
    defect = np.full(n, None, dtype=object)
    defect[null], defect[bad], defect[late] = "null", "out_of_range", "late"
    twice = np.flatnonzero(rng.random(n) < rates["duplicates"])
    again = received[twice] + rng.integers(60, 3 * 86400, len(twice)).astype("timedelta64[s]")
    rows = {c: np.concatenate([v, v[twice]]) for c, v in out.items()}
    rows["received_at"] = np.concatenate([received, again])
    rows["defect"] = np.concatenate([defect, np.full(len(twice), "duplicate", dtype=object)])
    order = np.argsort(rows["received_at"], kind="stable")
    rows = {c: v[order] for c, v in rows.items()}
    rows["id"] = np.arange(first_id, first_id + len(order))
    await ctx.write(rows)
