import os

import anyio
import numpy as np

from seedgraph import TaskContext, VerifyContext, invariant, task


async def _inject(ctx: TaskContext) -> None:
    if os.environ.get("MINI_FAIL") == ctx.table:
        raise RuntimeError(f"injected failure in {ctx.table}")


async def _pause(ctx: TaskContext) -> None:
    for item in filter(None, os.environ.get("MINI_SLEEP", "").split(",")):
        name, _, seconds = item.partition(":")
        if name == ctx.table:
            await anyio.sleep(float(seconds))


def _now(ctx: TaskContext) -> np.datetime64:
    return np.datetime64(ctx.as_of.replace(tzinfo=None), "us")


@task("regions", tags=["dims"])
async def regions(ctx: TaskContext) -> None:
    """Sales regions."""
    await _inject(ctx)
    names = ["North", "South", "East", "West", "Central"]
    await ctx.write_rows(["id", "name"], [(i + 1, n) for i, n in enumerate(names)])


@task("customers", upstream=["regions"], tags=["people"], params={"customers": 200})
async def customers(ctx: TaskContext) -> None:
    """Customers spread over regions."""
    await _inject(ctx)
    n = int(ctx.params["customers"])
    reg = await ctx.read("regions", ["id"])
    pool = np.array([ctx.faker.name() for _ in range(50)], dtype=object)
    email = ctx.rng.choice(np.array(["a@example.com", "b@example.org", None], dtype=object), n)
    await ctx.write({
        "id": np.arange(1, n + 1),
        "region_id": ctx.rng.choice(reg["id"], n),
        "name": ctx.rng.choice(pool, n),
        "email": email,
        "signup_at": _now(ctx) - ctx.rng.integers(86_400, 400 * 86_400, n).astype("timedelta64[s]"),
        "score": np.round(ctx.rng.gamma(2.0, 10.0, n), 2),
    })


@task("products", tags=["dims"], params={"products": 40})
async def products(ctx: TaskContext) -> None:
    """Catalog."""
    await _inject(ctx)
    await _pause(ctx)
    n = int(ctx.params["products"])
    price = np.round(ctx.rng.lognormal(2.5, 0.6, n), 2)
    if os.environ.get("MINI_BAD") == ctx.table:
        price[-1] = -1.0  # breaks ck_products_price: the database refuses the load
    await ctx.write({
        "id": np.arange(1, n + 1),
        "sku": [f"SKU-{i:05d}" for i in range(1, n + 1)],
        "price": price,
    })


@task("orders", upstream=["customers"], tags=["sales"], params={"orders_per_customer": 5})
async def orders(ctx: TaskContext) -> None:
    """Orders, written in several chunks so crash tests can kill mid-table."""
    await _inject(ctx)
    c = await ctx.read("customers", ["id", "signup_at"])
    per = ctx.rng.poisson(ctx.params["orders_per_customer"], len(c["id"]))
    cust = np.repeat(c["id"], per)
    signup = np.repeat(c["signup_at"], per)
    n = len(cust)
    span = (_now(ctx) - signup).astype("timedelta64[s]").astype(np.int64)
    placed = signup + (ctx.rng.random(n) * span).astype("timedelta64[s]")
    status = ctx.rng.choice(np.array(["new", "paid", "shipped"], dtype=object), n, p=[.2, .3, .5])
    ids = np.arange(1, n + 1)
    if os.environ.get("MINI_DANGLE") == "orders":
        cust = cust.copy()
        cust[-1] = 10**6  # a customer that does not exist
    step = max(1, n // 4)
    for start in range(0, n, step):
        sl = slice(start, start + step)
        await ctx.write({
            "id": ids[sl], "customer_id": cust[sl],
            "placed_on": placed[sl].astype("datetime64[D]"), "placed_at": placed[sl],
            "status": status[sl],
            "meta": [{"channel": "web" if i % 3 else "store", "n": int(i)} for i in ids[sl]],
        })
        await ctx.flush()
        await _pause(ctx)


@task("order_items", upstream=["orders", "products"], tags=["sales"])
async def order_items(ctx: TaskContext) -> None:
    """One to three distinct products per order."""
    await _inject(ctx)
    o = await ctx.read("orders", ["id"])
    p = await ctx.read("products", ["id"])
    k = ctx.rng.integers(1, 4, len(o["id"]))
    order_id = np.repeat(o["id"], k)
    offsets = np.concatenate([np.arange(x) for x in k]) if len(k) else np.array([], int)
    first = ctx.rng.integers(0, len(p["id"]), len(o["id"]))
    product = p["id"][(np.repeat(first, k) + offsets) % len(p["id"])]
    await ctx.write({"order_id": order_id, "product_id": product,
                     "qty": ctx.rng.integers(1, 5, len(order_id))})


@task("shipments", upstream=["orders"], tags=["sales"])
async def shipments(ctx: TaskContext) -> None:
    """Shipments for shipped orders, after the order time."""
    await _inject(ctx)
    await _pause(ctx)
    o = await ctx.read("orders", ["id", "placed_at", "status"])
    mask = o["status"] == "shipped"
    n = int(mask.sum())
    await ctx.write({
        "id": np.arange(1, n + 1), "order_id": o["id"][mask],
        "shipped_at": o["placed_at"][mask]
        + ctx.rng.integers(3600, 5 * 86_400, n).astype("timedelta64[s]"),
    })


@task("audit_notes", tags=["misc"])
async def audit_notes(ctx: TaskContext) -> None:
    """Independent of everything else."""
    await _inject(ctx)
    await _pause(ctx)
    rows = {"id": np.arange(1, 11), "note": [f"note {i}" for i in range(10)],
            "noted_at": np.full(10, _now(ctx))}
    if os.environ.get("MINI_LEAVE_OUT") == ctx.table:  # let the database fill in now()
        del rows["noted_at"]
    await ctx.write(rows)


@invariant("shipments_after_orders", tables=["shipments", "orders"])
async def shipments_after_orders(ctx: VerifyContext) -> list[tuple[object, ...]]:
    """A shipment never predates its order."""
    return await ctx.query(
        "SELECT s.id FROM shipments s JOIN orders o ON o.id = s.order_id "
        "WHERE s.shipped_at < o.placed_at")


@invariant("order_meta_is_an_object", tables=["orders"])
async def order_meta_is_an_object(ctx: VerifyContext) -> list[tuple[object, ...]]:
    """Order metadata, when present, is a JSON object."""
    check = "jsonb_typeof(meta)" if ctx.dialect == "postgresql" else "json_type(meta)"
    return await ctx.query(f"SELECT id FROM orders WHERE {check} <> 'object'")


@invariant("orders_not_after_as_of", tables=["orders"])
async def orders_not_after_as_of(ctx: VerifyContext) -> list[int]:
    """No order is placed after the run's as_of."""
    if ctx.as_of is None:
        raise ValueError("the run's as_of is unknown")
    o = await ctx.read("orders", ["id", "placed_at"])
    late = o["placed_at"] > np.datetime64(ctx.as_of.replace(tzinfo=None), "us")
    return [int(i) for i in o["id"][late]]  # plain ids, not row tuples


@invariant("customers_as_configured", tables=["customers"])
async def customers_as_configured(ctx: VerifyContext) -> list[tuple[object, ...]]:
    """As many customers as the run's 'customers' parameter says."""
    wanted = ctx.params.get("customers")
    n = await ctx.count("customers")
    return [] if wanted is None or n == wanted else [(n, wanted)]
