"""The Forge's seed tasks: dimensions, price and promotion windows, inventory and sales."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from seedgraph import TaskContext, UsageError, VerifyContext, invariant, task

from . import generate as gen
from . import simulate as sim

STORE_TYPES = {"supermarket": 1.5, "express": 0.6, "warehouse": 2.2, "hypermarket": 2.8,
               "outlet": 0.9}
CATEGORY_PRICE = {"Beverage": 2.5, "Snack": 3.0, "Dairy": 3.5, "Frozen": 6.0, "Bakery": 4.0,
                  "Produce": 2.0, "Household": 7.5, "Gift": 15.0, "Seasonal": 9.0}
ITEMS = ("Classic", "Original", "Light", "Family Pack", "Organic", "Zero", "Deluxe", "Mini")
PROMO_NAMES = ("Weekend Deal", "Buy More Save More", "Manager's Special", "Clearance",
               "Holiday Special", "Flash Sale")
# the daily tables load in this many partitions, each every STORE_GROUPS-th store with its
# own random stream: a group's rows do not depend on the worker that runs it, and one
# simulation vectorised over a group's stores keeps the per-day Python loop cheap
STORE_GROUPS = 8
SIM_PARAMS = ["start_date", "end_date", "base_demand", "trend", "trend_slope",
              "weekly_seasonality", "weekend_spike", "monthly_seasonality", "holidays",
              "noise_sigma",
              "anomaly_probability", "anomaly_magnitude", "promotion_lift",
              "promotion_probability", "price_elasticity", "stockout_behavior",
              "stockout_probability", "new_product_ramp_days", "sparsity",
              "random_gaps_per_series", "category_seasonality", "new_store_ramp_days",
              "competitor_impact"]


@task("store", tags=["dimensions"],
      params=["stores", "regions", "store_types", "start_date", "end_date",
              "new_store_fraction", "competitor_fraction"])
async def store(ctx: TaskContext) -> None:
    """Stores with codes, regions, formats and a size factor that scales demand. A share
    ``new_store_fraction`` opens inside the date range (in its first 60 %); at a share
    ``competitor_fraction`` a rival opens nearby (between 20 % and 80 % of the range)."""
    n = int(ctx.params["stores"])
    regions = list(ctx.params["regions"])
    types = [t for t in ctx.params["store_types"]]
    rng = ctx.rng
    kind = rng.choice(np.array(types, dtype=object), n)
    cities = np.array(sorted({ctx.faker.city() for _ in range(max(40, n))}), dtype=object)
    start, end = _dates(ctx)
    span = max(int((end - start).astype(np.int64)), 1)
    name = [f"{c} {str(k).title()}" for c, k in zip(rng.choice(cities, n), kind, strict=True)]
    region = rng.choice(np.array(regions, dtype=object), n)
    size = np.round([STORE_TYPES.get(str(k), 1.0) * rng.uniform(0.8, 1.2) for k in kind], 3)
    opened = start - rng.integers(200, 4000, n).astype("timedelta64[D]")
    new = rng.random(n) < float(ctx.params["new_store_fraction"])
    opened[new] = start + (rng.random(int(new.sum())) * 0.6 * span).astype("timedelta64[D]")
    rival = rng.random(n) < float(ctx.params["competitor_fraction"])
    when = start + (span * rng.uniform(0.2, 0.8, n)).astype("timedelta64[D]")
    await ctx.write({
        "id": np.arange(1, n + 1), "code": [f"ST{i:04d}" for i in range(1, n + 1)],
        "name": name, "region": region, "store_type": kind, "size_factor": size,
        "opened_on": opened,
        "competitor_opened_on": np.where(rival, when, np.datetime64("NaT")).astype(
            "datetime64[D]"),
    })


@task("product", tags=["dimensions"],
      params=["products", "categories", "brands", "new_product_fraction", "eol_fraction",
              "start_date", "end_date"])
async def product(ctx: TaskContext) -> None:
    """Products with SKUs, categories, brands, base prices and launch / end-of-life dates."""
    n = int(ctx.params["products"])
    rng = ctx.rng
    cats = np.array(list(ctx.params["categories"]), dtype=object)
    brands = np.array(list(ctx.params["brands"]), dtype=object)
    cat = rng.choice(cats, n)
    brand = rng.choice(brands, n)
    base = np.array([CATEGORY_PRICE.get(str(c), 5.0) for c in cat])
    start, end = _dates(ctx)
    span = max(int((end - start).astype(np.int64)), 1)
    new = rng.random(n) < float(ctx.params["new_product_fraction"])
    eol = ~new & (rng.random(n) < float(ctx.params["eol_fraction"]))
    launch = start + (rng.random(n) * 0.6 * span).astype("timedelta64[D]")
    retire = start + (span * rng.uniform(0.5, 0.9, n)).astype("timedelta64[D]")
    await ctx.write({
        "id": np.arange(1, n + 1), "sku": [f"SKU-{i:05d}" for i in range(1, n + 1)],
        "name": [f"{b} {c} {rng.choice(ITEMS)}" for b, c in zip(brand, cat, strict=True)],
        "category": cat, "brand": brand,
        "base_price": np.round(base * rng.lognormal(0, 0.35, n), 2),
        "launch_date": np.where(new, launch, np.datetime64("NaT")).astype("datetime64[D]"),
        "eol_date": np.where(eol, retire, np.datetime64("NaT")).astype("datetime64[D]"),
    })


@task("calendar", tags=["dimensions"], params=["start_date", "end_date", "holidays"])
async def calendar(ctx: TaskContext) -> None:
    """One row per day with weekday, month, quarter and holidays."""
    s = gen.settings({**_defaults(), **ctx.params})
    if await _appends(ctx, "calendar", "date", "date"):
        await ctx.write(gen.calendar_rows(s))


def _defaults() -> dict[str, Any]:
    from . import PARAMS

    return dict(PARAMS)


def carried(ctx: TaskContext, store_ids: np.ndarray, n_products: int, sparsity: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """Every (store id, product index) a store carries, in store then product order;
    sparsity removes combinations (each store keeps at least one product)."""
    stores, products = [], []
    for sid in store_ids.tolist():
        keep = ctx.rng_for("assortment", sid).random(n_products) >= sparsity
        if not keep.any():
            keep[0] = True
        idx = np.flatnonzero(keep)
        stores.append(np.full(len(idx), sid))
        products.append(idx)
    return np.concatenate(stores), np.concatenate(products)


def _dates(ctx: TaskContext) -> tuple[np.datetime64, np.datetime64]:
    """This run's first and last day."""
    return (gen._date(ctx.params["start_date"], "start_date"),
            gen._date(ctx.params["end_date"], "end_date"))


async def _appends(ctx: TaskContext, table: str, first: str, last: str) -> bool:
    """Whether this run writes its date range into *table*. Only appends are checked: a
    range outside the dates already there is added; one they already cover is left
    alone (appending twice adds nothing); one that overlaps them in part is refused,
    naming the overlap (it would leave overlapping windows and stock that does not
    add up)."""
    if not ctx.append:
        return True
    start, end = _dates(ctx)
    lo_hi = (await ctx.query(f"SELECT MIN({first}), MAX({last}) FROM {table}"))[0]
    if lo_hi[0] is None:
        return True
    lo, hi = gen._date(lo_hi[0], f"{table}.{first}"), gen._date(lo_hi[1], f"{table}.{last}")
    if end < lo or start > hi:
        return True
    if lo <= start and end <= hi:
        return False
    raise UsageError(
        f"--append {start}..{end} overlaps the dates already in {table} ({lo}..{hi}) from "
        f"{max(start, lo)} to {min(end, hi)}; append a range that starts after {hi} "
        f"(--set start_date={hi + np.timedelta64(1, 'D')}) or ends before {lo}")


async def _windows_fit(ctx: TaskContext, table: str, first: str, last: str,
                       rows: dict[str, Any]) -> bool:
    """Appending windows: write them when no window of *table* meets this run's range;
    skip them when the windows there are exactly these (the same range appended again,
    or a resumed append); refuse when other windows are there (a different range over
    the same days would make windows overlap)."""
    if not ctx.append:
        return True
    start, end = _dates(ctx)
    there = await ctx.query(
        f"SELECT store_id, product_id, {first}, {last} FROM {table} "
        f"WHERE {first} <= ? AND {last} >= ?", (end, start))
    if not there:
        return True
    have = {(int(a), int(b), str(gen._date(c, first)), str(gen._date(d, last)))
            for a, b, c, d in there}
    new = set(zip(rows["store_id"].tolist(), rows["product_id"].tolist(),
                  map(str, rows[first]), map(str, rows[last]), strict=True))
    if have == new:
        return False
    raise UsageError(
        f"--append {start}..{end}: {table} already holds other windows over these days "
        f"(a different range was seeded over them); append a range after the last seeded day")


def _span(ctx: TaskContext) -> tuple[np.datetime64, int]:
    start, end = _dates(ctx)
    return start, max(int((end - start).astype(np.int64)) + 1, 1)


@task("price_history", upstream=["store", "product", "calendar"], tags=["facts"],
      params=["start_date", "end_date", "sparsity"])
async def price_history(ctx: TaskContext) -> None:
    """Non-overlapping price windows per store and product, covering the date range:
    about one price change every 75 days, each a small random step from the last."""
    stores = await ctx.read("store", ["id"])
    prods = await ctx.read("product", ["id", "base_price"])
    start, span = _span(ctx)
    store_id, product = carried(ctx, stores["id"], len(prods["id"]),
                                float(ctx.params["sparsity"]))
    n = len(store_id)
    rng = ctx.rng_for("prices", str(start))
    changes = rng.poisson(span / 75, n)
    owner = np.repeat(np.arange(n), changes)
    cuts = owner * span + rng.integers(1, max(span, 2), len(owner))
    starts = np.unique(np.concatenate([np.arange(n) * span, cuts[cuts % span > 0]]))
    series, first = starts // span, starts % span
    last = np.append(first[1:] - 1, span - 1)
    last[np.append(series[1:] != series[:-1], True)] = span - 1
    opening = np.log(prods["base_price"].astype(float)[product] * rng.uniform(0.95, 1.1, n))
    steps = np.cumsum(rng.normal(0, 0.06, len(starts)))
    head = np.searchsorted(series, np.arange(n))
    level = opening[series] + steps - np.where(head > 0, steps[head - 1], 0.0)[series]
    rows = {
        "store_id": store_id[series], "product_id": prods["id"][product[series]],
        "valid_from": start + first.astype("timedelta64[D]"),
        "valid_to": start + last.astype("timedelta64[D]"),
        "price": np.round(np.exp(level), 2),
    }
    if await _windows_fit(ctx, "price_history", "valid_from", "valid_to", rows):
        await ctx.write(rows)


@task("promotion", upstream=["store", "product", "calendar"], tags=["facts"],
      params=["start_date", "end_date", "sparsity", "promotion_probability"])
async def promotion(ctx: TaskContext) -> None:
    """Promotion windows (3-14 days, 10-40 % off), never overlapping for one product,
    covering a share ``promotion_probability`` of the days a product is on sale (from the
    store's opening and the product's launch): see ``generate.alternating``."""
    stores = await ctx.read("store", ["id", "opened_on"])
    prods = await ctx.read("product", ["id", "launch_date"])
    start, span = _span(ctx)
    store_id, product = carried(ctx, stores["id"], len(prods["id"]),
                                float(ctx.params["sparsity"]))
    rng = ctx.rng_for("promotions", str(start))
    begin = on_sale_from(start, stores, prods, store_id, product)
    series, first, last = gen.alternating(rng, np.maximum(begin, 0), span,
                                          float(ctx.params["promotion_probability"]),
                                          gen.PROMOTION_DAYS)
    k = len(series)
    rows = {
        "store_id": store_id[series], "product_id": prods["id"][product[series]],
        "start_date": start + first.astype("timedelta64[D]"),
        "end_date": start + last.astype("timedelta64[D]"),
        "name": np.array(PROMO_NAMES, dtype=object)[rng.integers(0, len(PROMO_NAMES), k)],
        "discount_pct": np.round(rng.uniform(0.1, 0.4, k), 2),
    }
    if await _windows_fit(ctx, "promotion", "start_date", "end_date", rows):
        await ctx.write(rows)


def on_sale_from(start: np.datetime64, stores: dict[str, np.ndarray],
                 prods: dict[str, np.ndarray], store_id: np.ndarray, product: np.ndarray
                 ) -> np.ndarray:
    """Per series, the first day (offset from *start*, maybe negative) it is on sale:
    the store has opened and the product has launched."""
    opened = stores["opened_on"][np.searchsorted(stores["id"], store_id)]
    launch = prods["launch_date"][product]
    first = np.where(np.isnat(launch), opened, np.maximum(opened, launch))
    return (first - start).astype(np.int64)


def _locate(keys: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each *key* sits in the ascending *keys*, and whether it is there at all."""
    pos = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
    return pos, keys[pos] == key


async def _windows(ctx: TaskContext, table: str, value: str, keys: np.ndarray, width: int,
                   start: np.datetime64, end: np.datetime64) -> gen.Windows:
    """A window table's rows overlapping [start, end], as day offsets per series; *keys*
    are the series' ``store_id * width + product_id`` in ascending order."""
    lo, hi = ("valid_from", "valid_to") if table == "price_history" else ("start_date",
                                                                          "end_date")
    data = await ctx.read(table, ["store_id", "product_id", lo, hi, value])
    pos, found = _locate(keys, data["store_id"].astype(np.int64) * width + data["product_id"])
    keep = found & (data[hi] >= start) & (data[lo] <= end)
    return gen.Windows(series=pos[keep], first=(data[lo][keep] - start).astype(np.int64),
                       last=(data[hi][keep] - start).astype(np.int64),
                       value=data[value][keep].astype(float))


async def simulation(ctx: TaskContext) -> AsyncIterator[tuple[sim.Chunk, np.ndarray,
                                                              np.ndarray]]:
    """The shared inventory and sales simulation of the task's partition — every
    ``STORE_GROUPS``-th store — chunk by chunk of days, with each series' store and
    product ids. Its randomness is the group's own stream, which both tables reach, so
    they agree whichever worker runs either."""
    s = gen.settings(ctx.params)
    stores = await ctx.read("store", ["id", "size_factor", "opened_on",
                                      "competitor_opened_on"])
    prods = await ctx.read("product", ["id", "base_price", "launch_date", "eol_date",
                                       "category"])
    group = int(ctx.partition)
    mine = stores["id"][group::STORE_GROUPS]
    if not len(mine):
        return  # fewer stores than groups
    store_id, product = carried(ctx, mine, len(prods["id"]), s.sparsity)
    product_id = prods["id"][product]
    width = int(prods["id"].max()) + 1
    keys = store_id.astype(np.int64) * width + product_id
    popularity = ctx.rng_for("popularity").lognormal(0, 0.6, len(prods["id"]))
    at = np.searchsorted(stores["id"], store_id)
    size = stores["size_factor"][at]

    def offset(days: np.ndarray) -> np.ndarray:
        return np.where(np.isnat(days), np.nan, (days - s.start).astype(np.int64))

    opened = offset(stores["opened_on"][at])

    base_price = prods["base_price"].astype(float)[product]
    series = sim.Series(
        store_id=store_id, product=product, scale=s.base_demand * size * popularity[product],
        base_price=base_price, launch=offset(prods["launch_date"][product]),
        eol=offset(prods["eol_date"][product]),
        prices=await _windows(ctx, "price_history", "price", keys, width, s.start, s.end),
        promos=await _windows(ctx, "promotion", "discount_pct", keys, width, s.start, s.end),
        opened=opened,
        competitor=offset(stores["competitor_opened_on"][at]),
        season=sim.category_season(s, prods["category"][product]))
    first_day = await ctx.query("SELECT MIN(date) FROM calendar")
    origin = gen._date(first_day[0][0], "calendar date") if first_day[0][0] else s.start
    carry = await _start_state(ctx, s.start, keys, width)
    for chunk in sim.simulate(s, series, ctx.rng_for("retail-sim", str(s.start), "stores", group,
                                                      STORE_GROUPS),
                              origin=origin, start=carry):
        yield chunk, store_id, product_id


async def _start_state(ctx: TaskContext, start: np.datetime64, keys: np.ndarray, width: int
                       ) -> tuple[np.ndarray, np.ndarray] | None:
    """Appending: each series continues from its last snapshot before the new range."""
    if not ctx.append:
        return None
    rows = await ctx.query(
        "SELECT store_id, product_id, on_hand_qty, on_order_qty FROM inventory_snapshot_daily "
        "WHERE date = (SELECT MAX(date) FROM inventory_snapshot_daily WHERE date < ?)",
        (start,))
    hand, order = np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64)
    if rows:
        sid, pid, h, o = (np.array(c, dtype=np.int64) for c in zip(*rows, strict=True))
        pos, ok = _locate(keys, sid * width + pid)
        hand[pos[ok]], order[pos[ok]] = h[ok], o[ok]
    return hand, order


@task("inventory_snapshot_daily", upstream=["store", "product", "calendar", "price_history",
                                             "promotion"],
      tags=["facts"], params=SIM_PARAMS, partitions=STORE_GROUPS)
async def inventory_snapshot_daily(ctx: TaskContext) -> None:
    """End-of-day stock per store and product, from the replenishment simulation (one
    partition per group of stores)."""
    if not await _appends(ctx, "inventory_snapshot_daily", "date", "date"):
        return
    async for c, store_id, product_id in simulation(ctx):
        days = len(c.dates)
        keep = c.live.ravel()
        await ctx.write({
            "date": np.repeat(c.dates, len(store_id))[keep],
            "store_id": np.tile(store_id, days)[keep],
            "product_id": np.tile(product_id, days)[keep],
            "on_hand_qty": c.on_hand.ravel()[keep], "received_qty": c.received.ravel()[keep],
            "on_order_qty": c.on_order.ravel()[keep], "lost_sales_qty": c.lost.ravel()[keep],
        })


@task("sales_daily", upstream=["store", "product", "calendar", "price_history", "promotion",
                                "inventory_snapshot_daily"],
      tags=["facts"], params=SIM_PARAMS, partitions=STORE_GROUPS)
async def sales_daily(ctx: TaskContext) -> None:
    """Daily units and revenue per store and product (data gaps leave rows out; one
    partition per group of stores, replaying the inventory's simulation of it)."""
    if not await _appends(ctx, "sales_daily", "date", "date"):
        return
    async for c, store_id, product_id in simulation(ctx):
        days = len(c.dates)
        keep = (c.live & ~c.gap).ravel()
        qty = c.quantity.ravel()[keep]
        price = c.price.ravel()[keep]
        await ctx.write({
            "date": np.repeat(c.dates, len(store_id))[keep],
            "store_id": np.tile(store_id, days)[keep],
            "product_id": np.tile(product_id, days)[keep], "quantity": qty,
            "unit_price": price, "revenue": np.round(qty * price, 2),
            "on_promotion": c.promo.ravel()[keep],
        })


@invariant("price_windows_do_not_overlap", tables=["price_history"])
async def price_windows_do_not_overlap(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Per store and product, price windows never overlap."""
    return await ctx.query(
        "SELECT a.store_id, a.product_id, a.valid_from, b.valid_from FROM price_history a "
        "JOIN price_history b ON a.store_id = b.store_id AND a.product_id = b.product_id "
        "AND a.valid_from < b.valid_from AND b.valid_from <= a.valid_to")


@invariant("no_sales_without_stock", tables=["sales_daily", "inventory_snapshot_daily"])
async def no_sales_without_stock(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Units sold never exceed yesterday's stock plus today's delivery, and demand goes
    unserved only when the shelf is empty."""
    # the calendar's day before (SQL's date arithmetic differs between databases)
    oversold = await ctx.query(
        "WITH days AS (SELECT c.date AS day, (SELECT MAX(b.date) FROM calendar b "
        "WHERE b.date < c.date) AS before FROM calendar c) "
        "SELECT s.date, s.store_id, s.product_id, s.quantity FROM sales_daily s "
        "JOIN days d ON d.day = s.date "
        "JOIN inventory_snapshot_daily i ON i.date = s.date AND i.store_id = s.store_id "
        "AND i.product_id = s.product_id JOIN inventory_snapshot_daily p "
        "ON p.date = d.before AND p.store_id = s.store_id AND p.product_id = s.product_id "
        "WHERE s.quantity > p.on_hand_qty + i.received_qty LIMIT 20")
    unserved = await ctx.query(
        "SELECT date, store_id, product_id FROM inventory_snapshot_daily "
        "WHERE lost_sales_qty > 0 AND on_hand_qty > 0 LIMIT 20")
    return oversold + unserved


@invariant("nothing_before_launch", tables=["sales_daily", "inventory_snapshot_daily"])
async def nothing_before_launch(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """No sales and no stock before a product launches or its store opens."""
    found: list[tuple[Any, ...]] = []
    for table in ("sales_daily", "inventory_snapshot_daily"):
        found += await ctx.query(
            f"SELECT '{table}', t.date, t.store_id, t.product_id FROM {table} t "
            "JOIN product p ON p.id = t.product_id JOIN store s ON s.id = t.store_id "
            "WHERE t.date < p.launch_date OR t.date < s.opened_on LIMIT 20")
    return found


@invariant("promotion_days_are_flagged", tables=["sales_daily", "promotion"])
async def promotion_days_are_flagged(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """on_promotion is true exactly inside a promotion window of that store and product."""
    return await ctx.query(
        "SELECT s.date, s.store_id, s.product_id FROM sales_daily s WHERE s.on_promotion <> "
        "EXISTS (SELECT 1 FROM promotion p WHERE p.store_id = s.store_id AND p.product_id = "
        "s.product_id AND s.date BETWEEN p.start_date AND p.end_date) LIMIT 20")
