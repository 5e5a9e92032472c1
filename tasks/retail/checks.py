"""``seedgraph verify``'s checks that the data is what the configuration asked for (001:
"Row counts match configuration", "Sparsity matches target"; issue 12: counts, sparsity
and the configured rates hold within stated tolerances).

They read the parameters of the latest run (``ctx.params``); with none recorded they have
nothing to compare with and pass. The rates are checked over the latest run's date range
(``start_date`` .. ``end_date``: an append's parameters describe the range it added).

Counts are exact. Rates are random, so each is compared with the value the configuration
implies, allowing ``Z`` standard errors of the estimate at the size actually seeded; the
standard error comes from the process that made the rows (not from the data, which a
tampered table would change), and the failing row states observed, expected, tolerance
and the size it was computed for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from seedgraph import VerifyContext, invariant

from . import generate as gen
from . import simulate as sim

Z = 4.0  # the tolerance, in standard errors: a false alarm about once in 16,000 checks
GAP_DAYS = (3, 10)  # a data gap drops 3 to 10 days (simulate: integers(3, 11))


def _has(params: Mapping[str, Any], *keys: str) -> bool:
    return all(k in params for k in keys)


def _day(value: Any) -> np.datetime64:
    return np.datetime64(str(value)[:10], "D")


def _range(params: Mapping[str, Any]) -> tuple[np.datetime64, np.datetime64]:
    return gen._date(params["start_date"], "start_date"), gen._date(params["end_date"],
                                                                    "end_date")


def alternating_variance(share: float, lengths: tuple[int, int]) -> float:
    """The variance per day of the days ``generate.alternating`` covers: windows of
    ``lengths`` days (uniform) alternating with gaps of ``geometric(q) - 1`` days. For
    an alternating renewal process started in equilibrium, the days covered in a range of
    T days have variance at most ``T x (mu_on^2 var_off + mu_off^2 var_on) / (mu_on +
    mu_off)^3`` (the long-run value, which the covariance, never negative here, only
    approaches from below); over independent series the variances add, so the share
    covered of n series-days has standard error ``sqrt(v / n)``. 0 when every day or none
    is covered."""
    if share <= 0 or share >= 1:
        return 0.0
    sizes = np.arange(lengths[0], lengths[1] + 1, dtype=float)
    mu_on, var_on = float(sizes.mean()), float(sizes.var())
    q = share / (share + mu_on * (1 - share))
    mu_off, var_off = (1 - q) / q, (1 - q) / q ** 2
    return (mu_on ** 2 * var_off + mu_off ** 2 * var_on) / (mu_on + mu_off) ** 3


def gap_share(offset: np.ndarray, rows: np.ndarray, total: int, k: int) -> float:
    """The expected share of *rows* (snapshots on day *offset* of a range of *total* days)
    that *k* data gaps per series leave without a sales row. A gap of L days (3-10,
    uniform) covers day d when it starts in [d - L + 1, d]: min(d, L - 1) + 1 of the
    range's *total* equally likely starts."""
    lengths = np.arange(GAP_DAYS[0], GAP_DAYS[1] + 1)
    q = (np.minimum(offset[:, None], lengths[None, :] - 1) + 1).mean(axis=1) / total
    return float((rows * (1 - (1 - q) ** k)).sum() / rows.sum())


def _rate_row(what: str, observed: float, n: int, expected: float, se: float,
              detail: str) -> list[tuple[Any, ...]]:
    """The failing row (or none) of a rate check: observed, expected, tolerance, size."""
    tolerance = Z * se
    if abs(observed - expected) <= tolerance + 1e-12:
        return []
    return [(what, f"observed {observed:.4f} of {n} rows; expected {expected:.4f} "
                   f"± {tolerance:.4f} ({Z:g} standard errors at this size: {detail})")]


@invariant("row_counts_match_configuration",
           tables=["store", "product", "calendar", "price_history",
                   "inventory_snapshot_daily", "sales_daily"])
async def row_counts_match_configuration(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """``stores`` stores and ``products`` products; a calendar day for every day of the
    range and no hole in it; per series (store x product carried) one inventory snapshot
    for each calendar day it is on sale (from the store's opening and the product's
    launch) and no other; a sales row for each snapshot of the run's range unless data
    gaps are configured (``random_gaps_per_series``), and never a sale without one."""
    p = ctx.params
    if not _has(p, "stores", "products", "start_date", "end_date", "random_gaps_per_series"):
        return []
    found: list[tuple[Any, ...]] = []
    for table, key in (("store", "stores"), ("product", "products")):
        n = await ctx.count(table)
        if n != int(p[key]):
            found.append((table, f"{n} rows; {key} = {p[key]}"))
    start, end = _range(p)
    days = {_day(d) for (d,) in await ctx.query("SELECT date FROM calendar")}
    missing = [d for d in np.arange(start, end + np.timedelta64(1, "D")) if d not in days]
    if missing:
        found.append(("calendar", f"{len(missing)} day(s) of {start}..{end} missing, the first "
                                  f"{missing[0]}"))
    if days and len(days) != int((max(days) - min(days)).astype(np.int64)) + 1:
        found.append(("calendar", f"{len(days)} days from {min(days)} to {max(days)}: a hole"))
    per_series = await ctx.query(
        "WITH ser AS (SELECT DISTINCT store_id, product_id FROM price_history), "
        "want AS (SELECT ser.store_id, ser.product_id, COUNT(c.date) AS n FROM ser "
        "JOIN store s ON s.id = ser.store_id JOIN product p ON p.id = ser.product_id "
        "LEFT JOIN calendar c ON c.date >= s.opened_on "
        "AND (p.launch_date IS NULL OR c.date >= p.launch_date) "
        "GROUP BY ser.store_id, ser.product_id), "
        "got AS (SELECT store_id, product_id, COUNT(*) AS n FROM inventory_snapshot_daily "
        "GROUP BY store_id, product_id) "
        "SELECT w.store_id, w.product_id, w.n, COALESCE(g.n, 0) FROM want w LEFT JOIN got g "
        "ON g.store_id = w.store_id AND g.product_id = w.product_id "
        "WHERE COALESCE(g.n, 0) <> w.n "
        "UNION ALL SELECT g.store_id, g.product_id, 0, g.n FROM got g WHERE NOT EXISTS "
        "(SELECT 1 FROM ser WHERE ser.store_id = g.store_id AND ser.product_id = g.product_id)")
    found += [("inventory_snapshot_daily", f"store {s} product {q}: {got} snapshots, expected "
               f"{want} (calendar days on sale)") for s, q, want, got in per_series]
    orphans = await ctx.query(
        "SELECT s.date, s.store_id, s.product_id FROM sales_daily s WHERE NOT EXISTS (SELECT 1 "
        "FROM inventory_snapshot_daily i WHERE i.date = s.date AND i.store_id = s.store_id "
        "AND i.product_id = s.product_id) LIMIT 20")
    found += [("sales_daily", f"{d} store {s} product {q}: a sale without a snapshot")
              for d, s, q in orphans]
    if int(p["random_gaps_per_series"]) == 0:
        counts = await ctx.query(
            "SELECT (SELECT COUNT(*) FROM inventory_snapshot_daily WHERE date BETWEEN ? AND ?), "
            "(SELECT COUNT(*) FROM sales_daily WHERE date BETWEEN ? AND ?)",
            (start, end, start, end))
        snapshots, sales = (int(x) for x in counts[0])
        if snapshots != sales:
            found.append(("sales_daily", f"{sales} rows in {start}..{end}, expected {snapshots}"
                                         " (one per snapshot: random_gaps_per_series = 0)"))
    return found


@invariant("sparsity_matches_configuration",
           tables=["store", "product", "price_history", "inventory_snapshot_daily",
                   "sales_daily"])
async def sparsity_matches_configuration(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """001's sparsity: the share of store x product combinations no store carries is
    ``sparsity`` (each dropped independently; a store keeps at least one product), within
    4 binomial standard errors of the combinations; and the share of snapshots of the run's
    range without a sales row (data gaps) is what ``random_gaps_per_series`` gaps of 3-10
    days, each starting on a uniform day of the range, leave out. With neither configured
    both shares must be exactly 0."""
    p = ctx.params
    if not _has(p, "sparsity", "random_gaps_per_series", "start_date", "end_date"):
        return []
    found: list[tuple[Any, ...]] = []
    s = float(p["sparsity"])
    stores, products = await ctx.count("store"), await ctx.count("product")
    combos = stores * products
    carried = int((await ctx.query(
        "SELECT COUNT(*) FROM (SELECT DISTINCT store_id, product_id FROM price_history) x"))[0][0])
    if combos:
        # a store that would carry nothing keeps its first product
        expected = s - s ** products / products if products else s
        found += _rate_row("missing store x product combinations", 1 - carried / combos,
                           combos, expected, float(np.sqrt(s * (1 - s) / combos)),
                           f"binomial over {stores} x {products} combinations, sparsity {s:g}")
    k = int(p["random_gaps_per_series"])
    start, end = _range(p)
    total = int((end - start).astype(np.int64)) + 1
    per_day = await ctx.query(
        "SELECT i.date, COUNT(*), SUM(CASE WHEN s.date IS NULL THEN 1 ELSE 0 END) "
        "FROM inventory_snapshot_daily i LEFT JOIN sales_daily s ON s.date = i.date "
        "AND s.store_id = i.store_id AND s.product_id = i.product_id "
        "WHERE i.date BETWEEN ? AND ? GROUP BY i.date", (start, end))
    if not per_day:
        return found
    offset = np.array([int((_day(d) - start).astype(np.int64)) for d, _, _ in per_day])
    rows = np.array([int(n) for _, n, _ in per_day])
    gone = int(sum(int(m or 0) for _, _, m in per_day))
    n = int(rows.sum())
    expected = gap_share(offset, rows, total, k)
    lengths = np.arange(GAP_DAYS[0], GAP_DAYS[1] + 1)
    series = int((await ctx.query(
        "SELECT COUNT(*) FROM (SELECT DISTINCT store_id, product_id FROM "
        "inventory_snapshot_daily WHERE date BETWEEN ? AND ?) x", (start, end)))[0][0])
    # per series the days dropped are k gaps' days: variance at most k x E[L^2]
    se = float(np.sqrt(series * k * (lengths ** 2).mean()) / n)
    found += _rate_row("snapshots without a sales row (data gaps)", gone / n, n, expected, se,
                       f"{series} series x {k} gap(s) of {GAP_DAYS[0]}-{GAP_DAYS[1]} days "
                       f"in {start}..{end}")
    return found


@invariant("promotion_share_matches_configuration", tables=["sales_daily"])
async def promotion_share_matches_configuration(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """The share of sales rows of the run's range on promotion is ``promotion_probability``
    (promotions of 3-14 days cover that share of the days on sale), within 4 standard
    errors of the windows' coverage at the number of rows (``alternating_variance``)."""
    p = ctx.params
    if not _has(p, "promotion_probability", "start_date", "end_date"):
        return []
    start, end = _range(p)
    hits, n = (await ctx.query(
        "SELECT SUM(CASE WHEN on_promotion THEN 1 ELSE 0 END), COUNT(*) FROM sales_daily "
        "WHERE date BETWEEN ? AND ?", (start, end)))[0]
    if not n:
        return []
    share = float(p["promotion_probability"])
    se = float(np.sqrt(alternating_variance(share, gen.PROMOTION_DAYS) / int(n)))
    return _rate_row("promoted sales rows", int(hits or 0) / int(n), int(n), share, se,
                     f"promotion_probability {share:g}, windows of {gen.PROMOTION_DAYS[0]}-"
                     f"{gen.PROMOTION_DAYS[1]} days, {start}..{end}")


@invariant("stockout_share_matches_configuration",
           tables=["inventory_snapshot_daily", "sales_daily"])
async def stockout_share_matches_configuration(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """The share of snapshots of the run's range with lost sales is
    ``stockout_probability`` x (1 - P0): an outage day loses sales unless nobody wanted the
    product (P0, estimated from the zero-sale share z of the days without lost sales:
    P0 = z (1 - p) / (1 - p z)). Within 4 standard errors of the outages' coverage
    (``alternating_variance``, 1-5 day outages) plus the zero-demand draw. With
    ``stockout_behavior = "backlog"`` unmet demand carries over and no sale is lost: not
    checked."""
    p = ctx.params
    if not _has(p, "stockout_probability", "stockout_behavior", "start_date", "end_date") \
            or p["stockout_behavior"] != "zero":
        return []
    start, end = _range(p)
    hits, n = (await ctx.query(
        "SELECT SUM(CASE WHEN lost_sales_qty > 0 THEN 1 ELSE 0 END), COUNT(*) "
        "FROM inventory_snapshot_daily WHERE date BETWEEN ? AND ?", (start, end)))[0]
    if not n:
        return []
    z = (await ctx.query(
        "SELECT AVG(CASE WHEN s.quantity = 0 THEN 1.0 ELSE 0 END) FROM inventory_snapshot_daily "
        "i JOIN sales_daily s ON s.date = i.date AND s.store_id = i.store_id AND "
        "s.product_id = i.product_id WHERE i.date BETWEEN ? AND ? AND i.lost_sales_qty = 0",
        (start, end)))[0][0]
    share = float(p["stockout_probability"])
    z = float(z or 0.0)
    p0 = z * (1 - share) / (1 - share * z) if share * z < 1 else 0.0
    n = int(n)
    var = ((1 - p0) ** 2 * alternating_variance(share, sim.STOCKOUT_DAYS)
           + share * p0 * (1 - p0))
    return _rate_row("snapshots with lost sales", int(hits or 0) / n, n, share * (1 - p0),
                     float(np.sqrt(var / n)),
                     f"stockout_probability {share:g} x (1 - P0 {p0:.4f}), outages of "
                     f"{sim.STOCKOUT_DAYS[0]}-{sim.STOCKOUT_DAYS[1]} days, {start}..{end}")
