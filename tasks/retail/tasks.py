"""The Forge's seed tasks: dimensions, price and promotion windows, inventory and sales."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, invariant, task

from . import generate as gen

STORE_TYPES = {"supermarket": 1.5, "express": 0.6, "warehouse": 2.2, "hypermarket": 2.8,
               "outlet": 0.9}
CATEGORY_PRICE = {"Beverage": 2.5, "Snack": 3.0, "Dairy": 3.5, "Frozen": 6.0, "Bakery": 4.0,
                  "Produce": 2.0, "Household": 7.5, "Gift": 15.0, "Seasonal": 9.0}
ITEMS = ("Classic", "Original", "Light", "Family Pack", "Organic", "Zero", "Deluxe", "Mini")
PROMO_NAMES = ("Weekend Deal", "Buy More Save More", "Manager's Special", "Clearance",
               "Holiday Special", "Flash Sale")
SIM_PARAMS = ["start_date", "end_date", "base_demand", "trend", "trend_slope",
              "weekly_seasonality", "monthly_seasonality", "holidays", "noise_sigma",
              "anomaly_probability", "anomaly_magnitude", "promotion_lift",
              "promotion_probability", "price_elasticity", "stockout_behavior",
              "stockout_probability", "new_product_ramp_days", "sparsity",
              "random_gaps_per_series"]
BLOCK_CELLS = 150_000  # series x days simulated at once: bounds memory


def _day(value: np.datetime64, dialect: str) -> Any:
    d = dt.date.fromisoformat(str(value))
    return d if dialect == "postgresql" else d.isoformat()


@task("store", tags=["dimensions"], params=["stores", "regions", "store_types", "start_date"])
async def store(ctx: TaskContext) -> None:
    """Stores with codes, regions, formats and a size factor that scales demand."""
    n = int(ctx.params["stores"])
    regions = list(ctx.params["regions"])
    types = [t for t in ctx.params["store_types"]]
    rng = ctx.rng
    kind = rng.choice(np.array(types, dtype=object), n)
    cities = np.array(sorted({ctx.faker.city() for _ in range(max(40, n))}), dtype=object)
    start = gen._date(ctx.params["start_date"], "start_date")
    await ctx.write({
        "id": np.arange(1, n + 1), "code": [f"ST{i:04d}" for i in range(1, n + 1)],
        "name": [f"{c} {str(k).title()}" for c, k in zip(rng.choice(cities, n), kind,
                                                           strict=True)],
        "region": rng.choice(np.array(regions, dtype=object), n), "store_type": kind,
        "size_factor": np.round([STORE_TYPES.get(str(k), 1.0) * rng.uniform(0.8, 1.2)
                                 for k in kind], 3),
        "opened_on": start - rng.integers(200, 4000, n).astype("timedelta64[D]"),
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
    start = gen._date(ctx.params["start_date"], "start_date")
    end = gen._date(ctx.params["end_date"], "end_date")
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
    await ctx.write(gen.calendar_rows(s))


def _defaults() -> dict[str, Any]:
    from . import PARAMS

    return dict(PARAMS)


def assortment(ctx: TaskContext, store_id: int, n_products: int, sparsity: float) -> np.ndarray:
    """Which products a store carries (sparsity removes store x product combinations)."""
    carried = ctx.rng_for("assortment", store_id).random(n_products) >= sparsity
    if not carried.any():
        carried[0] = True
    return np.flatnonzero(carried)


@task("price_history", upstream=["store", "product"], tags=["facts"],
      params=["start_date", "end_date", "sparsity"])
async def price_history(ctx: TaskContext) -> None:
    """Non-overlapping price windows per store and product, covering the date range."""
    stores = await ctx.read("store", ["id"])
    prods = await ctx.read("product", ["id", "base_price"])
    start = gen._date(ctx.params["start_date"], "start_date")
    end = gen._date(ctx.params["end_date"], "end_date")
    span = int((end - start).astype(np.int64)) + 1
    for sid in stores["id"].tolist():
        rng = ctx.rng_for("prices", sid, str(start))
        idx = assortment(ctx, sid, len(prods["id"]), float(ctx.params["sparsity"]))
        cols: dict[str, list[Any]] = {k: [] for k in ("store_id", "product_id", "valid_from",
                                                       "valid_to", "price")}
        for p in idx.tolist():
            cuts = np.sort(rng.choice(np.arange(1, span), size=min(span - 1, rng.poisson(
                span / 75)), replace=False)) if span > 1 else np.array([], dtype=np.int64)
            bounds = np.concatenate([[0], cuts, [span]])
            level = float(prods["base_price"][p]) * rng.uniform(0.95, 1.1)
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                level *= float(np.exp(rng.normal(0, 0.06)))
                cols["store_id"].append(sid)
                cols["product_id"].append(int(prods["id"][p]))
                cols["valid_from"].append(start + np.timedelta64(a, "D"))
                cols["valid_to"].append(start + np.timedelta64(b - 1, "D"))
                cols["price"].append(round(level, 2))
        cols["valid_from"] = np.array(cols["valid_from"], dtype="datetime64[D]")  # type: ignore[assignment]
        cols["valid_to"] = np.array(cols["valid_to"], dtype="datetime64[D]")  # type: ignore[assignment]
        await ctx.write(cols)


@task("promotion", upstream=["store", "product"], tags=["facts"],
      params=["start_date", "end_date", "sparsity", "promotion_probability"])
async def promotion(ctx: TaskContext) -> None:
    """Promotion windows (3-14 days, 10-40 % off), never overlapping for one product."""
    stores = await ctx.read("store", ["id"])
    prods = await ctx.read("product", ["id"])
    start = gen._date(ctx.params["start_date"], "start_date")
    end = gen._date(ctx.params["end_date"], "end_date")
    span = int((end - start).astype(np.int64)) + 1
    prob = float(ctx.params["promotion_probability"])
    for sid in stores["id"].tolist():
        rng = ctx.rng_for("promotions", sid, str(start))
        rows = []
        for p in assortment(ctx, sid, len(prods["id"]), float(ctx.params["sparsity"])).tolist():
            day = int(rng.integers(0, 21))
            while day < span:
                if rng.random() < prob:
                    length = int(rng.integers(3, 15))
                    last = min(day + length - 1, span - 1)
                    rows.append((sid, int(prods["id"][p]), start + np.timedelta64(day, "D"),
                                 start + np.timedelta64(last, "D"),
                                 str(rng.choice(PROMO_NAMES)),
                                 round(float(rng.uniform(0.1, 0.4)), 2)))
                    day = last + 1
                day += int(rng.integers(7, 21))
        if rows:
            await ctx.write_rows(["store_id", "product_id", "start_date", "end_date", "name",
                                  "discount_pct"], rows)


async def _windows(ctx: TaskContext, table: str, cols: list[str], start: np.datetime64,
                   end: np.datetime64) -> dict[str, np.ndarray]:
    lo, hi = ("valid_from", "valid_to") if table == "price_history" else ("start_date",
                                                                          "end_date")
    data = await ctx.read(table, cols)
    keep = (data[hi] >= start) & (data[lo] <= end)
    return {k: v[keep] for k, v in data.items()}


async def blocks(ctx: TaskContext) -> AsyncIterator[tuple[gen.Block, np.ndarray]]:
    """Simulate the date range block by block of stores (shared by inventory and sales)."""
    s = gen.settings(ctx.params)
    dates = s.dates
    stores = await ctx.read("store", ["id", "size_factor"])
    prods = await ctx.read("product", ["id", "base_price", "launch_date", "eol_date"])
    prices = await _windows(ctx, "price_history", ["store_id", "product_id", "valid_from",
                                                   "valid_to", "price"], s.start, s.end)
    promos = await _windows(ctx, "promotion", ["store_id", "product_id", "start_date",
                                               "end_date", "discount_pct"], s.start, s.end)
    start_state = await _start_state(ctx, s.start)
    n_prod, n_days = len(prods["id"]), len(dates)
    pid_index = {int(p): i for i, p in enumerate(prods["id"].tolist())}
    popularity = ctx.rng_for("popularity").lognormal(0, 0.6, n_prod)
    base_price = prods["base_price"].astype(float)
    lifecycle = np.ones((n_prod, n_days))
    ramp = max(s.new_product_ramp_days, 1)
    for i in range(n_prod):
        launch, eol = prods["launch_date"][i], prods["eol_date"][i]
        if not np.isnat(launch):
            age = (dates - launch).astype(np.int64)
            lifecycle[i] *= np.clip((age + 1) / ramp, 0, 1)
        if not np.isnat(eol):
            after = (dates - eol).astype(np.int64)
            lifecycle[i] *= np.clip(1 - after / 30, 0, 1)
    per_block = max(1, BLOCK_CELLS // max(n_prod * n_days, 1))
    for b in range(0, len(stores["id"]), per_block):
        part = [{"id": int(stores["id"][i]), "size_factor": float(stores["size_factor"][i])}
                for i in range(b, min(b + per_block, len(stores["id"])))]
        series, pmats, promo_mats, disc_mats, rngs, inits = [], [], [], [], [], []
        for st in part:
            sid = st["id"]
            idx = assortment(ctx, sid, n_prod, s.sparsity)
            pos = {int(p): k for k, p in enumerate(idx.tolist())}
            price = np.tile(base_price[idx][:, None], (1, n_days))
            m = prices["store_id"] == sid
            for p, a, z, v in zip(prices["product_id"][m].tolist(), prices["valid_from"][m],
                                  prices["valid_to"][m], prices["price"][m].tolist(),
                                  strict=True):
                k = pos.get(pid_index[p])
                if k is not None:
                    price[k, (dates >= a) & (dates <= z)] = v
            on_promo = np.zeros((len(idx), n_days), dtype=bool)
            discount = np.zeros((len(idx), n_days))
            m = promos["store_id"] == sid
            for p, a, z, v in zip(promos["product_id"][m].tolist(), promos["start_date"][m],
                                  promos["end_date"][m], promos["discount_pct"][m].tolist(),
                                  strict=True):
                k = pos.get(pid_index[p])
                if k is not None:
                    window = (dates >= a) & (dates <= z)
                    on_promo[k, window] = True
                    discount[k, window] = v
            series.append(idx)
            pmats.append(price)
            promo_mats.append(on_promo)
            disc_mats.append(discount)
            rngs.append(ctx.rng_for("retail-sim", sid, str(s.start)))
            init = start_state.get(sid)
            if init is None:
                inits.append(None)
            else:
                pairs = [init.get(int(prods["id"][p]), (0, 0)) for p in idx.tolist()]
                inits.append((np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])))
        block = gen.simulate(s, dates, part, rngs, series, base_price, popularity, lifecycle,
                             pmats, promo_mats, disc_mats, inits)
        yield replace(block, product_id=prods["id"][block.product_id]), dates


async def _start_state(ctx: TaskContext, start: np.datetime64
                       ) -> dict[int, dict[int, tuple[int, int]]]:
    """Appending: each series continues from its last snapshot before the new range."""
    if not ctx.append:
        return {}
    rows = await ctx.query(
        "SELECT store_id, product_id, on_hand_qty, on_order_qty FROM inventory_snapshot_daily "
        "WHERE date = (SELECT MAX(date) FROM inventory_snapshot_daily WHERE date < ?)",
        (_day(start, ctx.dialect),))
    out: dict[int, dict[int, tuple[int, int]]] = {}
    for sid, pid, hand, order in rows:
        out.setdefault(int(sid), {})[int(pid)] = (int(hand), int(order))
    return out


@task("inventory_snapshot_daily", upstream=["store", "product", "calendar", "price_history",
                                             "promotion"],
      tags=["facts"], params=SIM_PARAMS)
async def inventory_snapshot_daily(ctx: TaskContext) -> None:
    """End-of-day stock per store and product, from the replenishment simulation."""
    async for b, dates in blocks(ctx):
        n, d = b.quantity.shape
        await ctx.write({
            "date": np.tile(dates, n), "store_id": np.repeat(b.store_id, d),
            "product_id": np.repeat(b.product_id, d), "on_hand_qty": b.on_hand.ravel(),
            "received_qty": b.received.ravel(), "on_order_qty": b.on_order.ravel(),
            "lost_sales_qty": b.lost.ravel(),
        })


@task("sales_daily", upstream=["store", "product", "calendar", "price_history", "promotion",
                                "inventory_snapshot_daily"],
      tags=["facts"], params=SIM_PARAMS)
async def sales_daily(ctx: TaskContext) -> None:
    """Daily units and revenue per store and product (data gaps leave rows out)."""
    async for b, dates in blocks(ctx):
        n, d = b.quantity.shape
        keep = ~b.gap.ravel()
        qty = b.quantity.ravel()[keep]
        price = b.price.ravel()[keep]
        await ctx.write({
            "date": np.tile(dates, n)[keep], "store_id": np.repeat(b.store_id, d)[keep],
            "product_id": np.repeat(b.product_id, d)[keep], "quantity": qty,
            "unit_price": price, "revenue": np.round(qty * price, 2),
            "on_promotion": b.promo.ravel()[keep],
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
    yesterday = "s.date - 1" if ctx.dialect == "postgresql" else "date(s.date, '-1 day')"
    oversold = await ctx.query(
        "SELECT s.date, s.store_id, s.product_id, s.quantity FROM sales_daily s "
        "JOIN inventory_snapshot_daily i ON i.date = s.date AND i.store_id = s.store_id "
        "AND i.product_id = s.product_id JOIN inventory_snapshot_daily p "
        f"ON p.date = {yesterday} AND p.store_id = s.store_id AND p.product_id = s.product_id "
        "WHERE s.quantity > p.on_hand_qty + i.received_qty LIMIT 20")
    unserved = await ctx.query(
        "SELECT date, store_id, product_id FROM inventory_snapshot_daily "
        "WHERE lost_sales_qty > 0 AND on_hand_qty > 0 LIMIT 20")
    return oversold + unserved


@invariant("promotion_days_are_flagged", tables=["sales_daily", "promotion"])
async def promotion_days_are_flagged(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """on_promotion is true exactly inside a promotion window of that store and product."""
    return await ctx.query(
        "SELECT s.date, s.store_id, s.product_id FROM sales_daily s WHERE s.on_promotion <> "
        "EXISTS (SELECT 1 FROM promotion p WHERE p.store_id = s.store_id AND p.product_id = "
        "s.product_id AND s.date BETWEEN p.start_date AND p.end_date) LIMIT 20")
