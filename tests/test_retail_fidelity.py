"""The retail pack against its source document (001, "The Forge"): the scenarios it names,
its defaults, parameters that mean what their names say, no rows before a launch.

Every distribution check compares an estimate with the value the configuration implies,
allowing four standard errors of that estimate at the tested size; the standard error is
computed from the data's own spread (independent stores or series), never hand-picked.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from tasks.retail import PARAMS, PROFILES, SUMMER_DIP, config_params
from tasks.retail import generate as gen
from tasks.retail import simulate as sim
from tests.helpers import REPO, checksums, cli, execute, query, run_engine

PACK = str(REPO / "tasks" / "retail")
# the effect under test alone: no launches, retirements, trend, months or holidays
FLAT = {"new_product_fraction": 0.0, "eol_fraction": 0.0, "trend": "none",
        "monthly_seasonality": {}, "holidays": []}


def seeded(tmp: Path, name: str, profile: str | None = None, seed: int = 3,
           **sets: Any) -> str:
    url = f"sqlite:///{tmp / (name + '.db')}"
    result = run_engine(url, pack=PACK, profile=profile, sets=sets, seed=seed)
    assert result.status == "done", [o.error for o in result.outcomes if o.error]
    return url


def day_index(value: Any) -> int:
    return int(np.datetime64(str(value)[:10], "D").astype(np.int64))


def demand(url: str) -> dict[tuple[int, int], dict[int, int]]:
    """Units wanted per (store, product) and day number: sold plus lost sales (the shelf
    caps sales; under ``stockout_behavior = "zero"`` the two add up to the demand)."""
    out: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for date, store, product, wanted in query(
            url, "SELECT s.date, s.store_id, s.product_id, s.quantity + i.lost_sales_qty "
                 "FROM sales_daily s JOIN inventory_snapshot_daily i ON i.date = s.date "
                 "AND i.store_id = s.store_id AND i.product_id = s.product_id"):
        out[(int(store), int(product))][day_index(date)] = int(wanted)
    return out


def mean_se(values: list[float] | np.ndarray) -> tuple[float, float]:
    """The mean of independent values and its standard error."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v)))


def binomial_ok(hits: int, n: int, p: float) -> bool:
    return abs(hits / n - p) <= 4 * np.sqrt(p * (1 - p) / n)


# -- the scenarios 001 names ---------------------------------------------------------------

def test_summer_slowdown_dips_dairy_and_snacks_in_summer(tmp_path: Path) -> None:
    """001: "summer_slowdown - seasonal dip for certain categories". Per series, July's
    demand over May's; the dipping categories' mean ratio over the others' is the dip."""
    url = seeded(tmp_path, "summer", "summer_slowdown", stores=10, products=24,
                 end_date="2024-08-31", **FLAT)
    category = dict(query(url, "SELECT id, category FROM product"))
    may = [day_index(f"2024-05-{d:02d}") for d in range(1, 32)]
    july = [day_index(f"2024-07-{d:02d}") for d in range(1, 32)]
    ratios: dict[str, list[float]] = defaultdict(list)
    for (_, product), days in demand(url).items():
        ratios[category[product]].append(
            np.mean([days[d] for d in july]) / np.mean([days[d] for d in may]))
    control = [r for c, rs in ratios.items() if c not in SUMMER_DIP for r in rs]
    assert len(control) >= 30
    c_mean, c_se = mean_se(control)
    for name, months in SUMMER_DIP.items():
        assert len(ratios[name]) >= 10, name
        m, se = mean_se(ratios[name])
        dip = m / c_mean
        se_dip = dip * np.hypot(se / m, c_se / c_mean)
        assert abs(dip - months["7"]) <= 4 * se_dip, (name, dip, months["7"], se_dip)


def test_new_store_opening_opens_stores_in_range_and_ramps_them_up(tmp_path: Path) -> None:
    """001: "new_store_opening - gradual ramp-up for new locations". A share of the stores
    opens inside the range; no row exists before a store opens; demand over its first four
    weeks is (1 + ... + 28) / 28 / ramp of what it sells from day 90 on (four weeks too)."""
    params = next(p for p in PROFILES if p.name == "new_store_opening").params
    url = seeded(tmp_path, "opening", "new_store_opening", stores=100, products=4, **FLAT)
    opened = {int(i): day_index(d) for i, d in query(url, "SELECT id, opened_on FROM store")}
    start = day_index("2024-01-01")
    new = {i: d for i, d in opened.items() if d >= start}
    assert binomial_ok(len(new), len(opened), params["new_store_fraction"]), len(new)
    for table in ("sales_daily", "inventory_snapshot_daily"):
        early = query(url, f"SELECT COUNT(*) FROM {table} t JOIN store s ON s.id = t.store_id "
                           "WHERE t.date < s.opened_on")
        assert early == [(0,)], table
    first = dict(query(url, "SELECT store_id, MIN(date) FROM inventory_snapshot_daily "
                            "GROUP BY store_id"))
    assert all(day_index(first[i]) == d for i, d in new.items())

    ramp = params["new_store_ramp_days"]
    per_store: dict[int, list[dict[int, int]]] = defaultdict(list)
    for (store, _), days in demand(url).items():
        per_store[store].append(days)
    ratios = []
    for store, d0 in new.items():
        def total(a: int, b: int, store: int = store, d0: int = d0) -> float:
            return sum(days[d0 + k] for days in per_store[store] for k in range(a, b))
        ratios.append(total(0, 28) / total(ramp, ramp + 28))
    expected = np.mean(np.arange(1, 29)) / ramp
    m, se = mean_se(ratios)
    assert abs(m - expected) <= 4 * se, (m, expected, se)


def test_competitor_entry_drops_demand_at_the_stores_it_hits(tmp_path: Path) -> None:
    """001: "competitor_entry - demand shock simulation". At a share of the stores a rival
    opens (``store.competitor_opened_on``); from that day demand is ``competitor_impact``
    times what it was: eight weeks after over eight weeks before, against the same weeks
    at the stores without a rival."""
    params = next(p for p in PROFILES if p.name == "competitor_entry").params
    url = seeded(tmp_path, "rival", "competitor_entry", stores=80, products=4,
                 new_product_fraction=0.0, eol_fraction=0.0)
    entry = {int(i): (None if d is None else day_index(d))
             for i, d in query(url, "SELECT id, competitor_opened_on FROM store")}
    hit = {i: d for i, d in entry.items() if d is not None}
    assert binomial_ok(len(hit), len(entry), params["competitor_fraction"]), len(hit)
    daily: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (store, _), days in demand(url).items():
        for d, q in days.items():
            daily[store][d] += q

    def change(store: int, e: int) -> float:
        return (sum(daily[store][e + k] for k in range(56))
                / sum(daily[store][e - 56 + k] for k in range(56)))

    others = [i for i, d in entry.items() if d is None]
    relative, control_se = [], []
    for store, e in hit.items():
        c_mean, c_se = mean_se([change(o, e) for o in others])
        relative.append(change(store, e) / c_mean)
        control_se.append(c_se / c_mean)
    m, se = mean_se(relative)
    # the controls share their stores, so their error does not average out across stores
    se = float(np.hypot(se, m * np.mean(control_se)))
    assert abs(m - params["competitor_impact"]) <= 4 * se, (m, se)


# -- holiday_rush and the defaults as 001 writes them -------------------------------------

def test_holiday_rush_is_the_documents_config_holiday_yaml() -> None:
    """The built-in scenario is 001's examples/seed/config_holiday.yaml: every parameter
    the YAML sets, and in its range the YAML's holidays with the YAML's multipliers (plus
    Cyber Monday, which 001's scenario table names)."""
    doc = yaml.safe_load((REPO / "tasks/retail/examples/config_holiday.yaml").read_text())
    assert doc.pop("seed") == 2024
    want = config_params(doc)
    rush = next(p for p in PROFILES if p.name == "holiday_rush").params
    assert {k: rush.get(k, PARAMS.get(k)) for k in want if k != "holidays"} == {
        k: v for k, v in want.items() if k != "holidays"}
    s = gen.settings({**PARAMS, **rush})
    by_date = {str(d): h for d, h in s.holidays.items() if s.start <= d <= s.end}
    for h in want["holidays"]:
        assert by_date.pop(h["date"]) == (h["name"], h["multiplier"])
    assert by_date == {"2024-12-02": ("Cyber Monday", 1.6)}


def test_defaults_are_the_documents() -> None:
    """001's TimeSeriesConfig / RetailPatternConfig defaults and config_holiday.yaml's
    holiday multipliers."""
    assert PARAMS["base_demand"] == 100 and PARAMS["trend"] == "linear"
    assert PARAMS["trend_slope"] == 0.1 and PARAMS["noise_sigma"] == 0.1
    assert PARAMS["weekend_spike"] == 1.2 and PARAMS["promotion_lift"] == 1.3
    assert PARAMS["anomaly_probability"] == 0.01 and PARAMS["anomaly_magnitude"] == 2.0
    assert PARAMS["price_elasticity"] == -0.5 and PARAMS["new_product_ramp_days"] == 30
    assert PARAMS["weekly_seasonality"] == [0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 1.2]
    holidays = {h["name"]: h["multiplier"] for h in gen.default_holidays([2024])}
    assert holidays["Thanksgiving"] == 2.0 and holidays["Black Friday"] == 3.0
    assert holidays["Christmas Eve"] == 1.5 and holidays["Christmas Day"] == 0.3


def test_the_default_holidays_and_weekend_spike_show_in_the_data(tmp_path: Path) -> None:
    """Per series: each default holiday over the year's ordinary days of its weekday is
    its multiplier (Black Friday 3.0, Thanksgiving 2.0, Christmas Day 0.3, ...), ordinary
    Saturdays over ordinary Fridays 1.3 x 1.2 / 1.1 (the weekly profile times the separate
    weekend spike). No trend or months, so the days
    compared differ by those multipliers alone."""
    url = seeded(tmp_path, "holidays", stores=8, products=25, **{**FLAT, "holidays": None})
    holiday = {day_index(d) for (d,) in query(url, "SELECT date FROM calendar "
                                                   "WHERE is_holiday")}
    weekday = {day_index(d): int(w) for d, w in query(url, "SELECT date, day_of_week "
                                                           "FROM calendar")}
    plain = {w: [d for d, x in weekday.items() if x == w and d not in holiday]
             for w in range(7)}
    series = list(demand(url).values())
    on_the_day = [
        (h["name"], [s[day_index(h["date"])] / np.mean([s[d] for d in plain[weekday[
            day_index(h["date"])]]]) for s in series], h["multiplier"])
        for h in gen.default_holidays([2024])]
    assert {name for name, _, _ in on_the_day} >= {"Black Friday", "Thanksgiving",
                                                  "Christmas Day", "Cyber Monday"}
    for name, got, want in [
        *on_the_day,
        ("Saturday", [np.mean([s[d] for d in plain[5]]) / np.mean([s[d] for d in plain[4]])
                      for s in series], 1.3 * 1.2 / 1.1),
    ]:
        m, se = mean_se(got)
        assert abs(m - want) <= 4 * se, (name, m, want, se)


def test_the_linear_trend_shows_in_the_data(tmp_path: Path) -> None:
    """001's linear trend (``trend_slope`` % per day, counted from the first day): per
    series, demand over the last eight weeks over the first eight (whole weeks, so the
    weekly profile cancels) is (1 + s t_late) / (1 + s t_early)."""
    url = seeded(tmp_path, "trend", stores=6, products=25,
                 **{**FLAT, "trend": "linear", "trend_slope": 0.1})
    start, last = day_index("2024-01-01"), day_index("2024-12-31")
    early, late = range(start, start + 56), range(last - 55, last + 1)
    ratios = [sum(s[d] for d in late) / sum(s[d] for d in early)
              for s in demand(url).values()]
    slope = PARAMS["trend_slope"] / 100
    want = (1 + slope * np.mean([d - start for d in late])) / (
        1 + slope * np.mean([d - start for d in early]))
    m, se = mean_se(ratios)
    assert abs(m - want) <= 4 * se, (m, want, se)


# -- parameters that mean what their names say ---------------------------------------------

ON_SALE = ("JOIN store st ON st.id = t.store_id JOIN product p ON p.id = t.product_id "
           "WHERE t.date >= st.opened_on AND (p.launch_date IS NULL OR t.date >= p.launch_date)")


def share_per_series(url: str, table: str, condition: str) -> tuple[float, float]:
    """The share of a table's rows (days on sale) meeting *condition*, and its standard
    error as a ratio estimator over independent series."""
    rows = query(url, f"SELECT SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), COUNT(*) "
                      f"FROM {table} t {ON_SALE} GROUP BY t.store_id, t.product_id")
    x, n = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    r, k = x.sum() / n.sum(), len(x)
    return float(r), float(np.sqrt(k / (k - 1) * ((x - r * n) ** 2).sum()) / n.sum())


@pytest.mark.parametrize(("profile", "sets"), [
    (None, {"stores": 6, "products": 40}),
    ("holiday_rush", {"stores": 8, "products": 30}),
], ids=["default", "holiday_rush"])
def test_promotion_probability_is_the_share_of_promoted_days(
        tmp_path: Path, profile: str | None, sets: dict[str, Any]) -> None:
    p = {**PARAMS, **next((x.params for x in PROFILES if x.name == profile), {})}[
        "promotion_probability"]
    url = seeded(tmp_path, "promo", profile, **sets)
    got, se = share_per_series(url, "sales_daily", "t.on_promotion")
    assert abs(got - p) <= 4 * se, (got, p, se)


@pytest.mark.parametrize(("profile", "sets"), [
    (None, {"stores": 6, "products": 40}),
    ("stockout_heavy", {"stores": 6, "products": 40}),
    ("holiday_rush", {"stores": 8, "products": 30}),
], ids=["default", "stockout_heavy", "holiday_rush"])
def test_stockout_probability_is_the_share_of_stockout_days(
        tmp_path: Path, profile: str | None, sets: dict[str, Any]) -> None:
    """A stockout day is one with lost sales. An outage day on which nobody wanted the
    product loses nothing, so the expected share is p x (1 - P0), P0 the chance of zero
    demand; sales equal demand on the other days, so P0 follows from z, the share of
    zero-sale days among days without lost sales: z = P0 / (1 - p + p P0)."""
    p = {**PARAMS, **next((x.params for x in PROFILES if x.name == profile), {})}[
        "stockout_probability"]
    url = seeded(tmp_path, "stockouts", profile, **sets)
    got, se = share_per_series(url, "inventory_snapshot_daily", "t.lost_sales_qty > 0")
    z = query(url, "SELECT AVG(CASE WHEN s.quantity = 0 THEN 1.0 ELSE 0 END) FROM "
                   "inventory_snapshot_daily t JOIN sales_daily s ON s.date = t.date AND "
                   "s.store_id = t.store_id AND s.product_id = t.product_id "
                   f"{ON_SALE} AND t.lost_sales_qty = 0")[0][0]
    p0 = z * (1 - p) / (1 - p * z)
    assert p0 < 0.05  # the correction is small: most days someone wants the product
    assert abs(got - p * (1 - p0)) <= 4 * se, (got, p, p0, se)
    # and a stockout is an empty shelf: no lost sales while stock is there
    assert query(url, "SELECT COUNT(*) FROM inventory_snapshot_daily "
                      "WHERE lost_sales_qty > 0 AND on_hand_qty > 0") == [(0,)]


def test_without_outages_the_orders_keep_the_shelf_stocked() -> None:
    """Top-ups are for surprises, not the rule: with no outages and steady Poisson(200)
    demand, the ordering policy (reorder under three days' forecast, two days' lead time)
    alone keeps stock. No day closes empty and every delivery is an order (at least a
    day's demand), not a top-up of a shortfall. Falling short would take a three-day
    Poisson(600) total about eight standard deviations high: it does not happen."""
    params = {**PARAMS, "noise_sigma": 0.0, "anomaly_probability": 0.0, "trend": "none",
              "weekly_seasonality": [1.0] * 7, "weekend_spike": 1.0,
              "monthly_seasonality": {}, "holidays": [], "stockout_probability": 0.0,
              "end_date": "2024-06-30"}
    s = gen.settings(params)
    n = 50
    none = gen.Windows(*(np.zeros(0, dtype=np.int64),) * 4)
    series = sim.Series(store_id=np.ones(n, dtype=np.int64), product=np.arange(n),
                        scale=np.full(n, 200.0), base_price=np.full(n, 5.0),
                        launch=np.full(n, np.nan), eol=np.full(n, np.nan), prices=none,
                        promos=none)
    chunks = list(sim.simulate(s, series, np.random.default_rng(4), origin=s.start,
                               chunk_cells=1000))
    hand = np.concatenate([c.on_hand for c in chunks])
    received = np.concatenate([c.received for c in chunks])
    assert hand.min() > 0
    assert received[received > 0].min() >= 200
    assert np.concatenate([c.lost for c in chunks]).sum() == 0


# -- nothing before a launch -----------------------------------------------------------------

def test_no_sales_and_no_stock_before_a_product_launches(db_url: str) -> None:
    """A product launched inside the range has no sales_daily and no inventory rows
    before its launch date; its first snapshot is the launch day, when its opening stock
    arrives. ``verify`` checks it (invariant nothing_before_launch)."""
    run = run_engine(db_url, pack=PACK, profile="new_launches", sets={"stores": 3,
                                                                     "products": 20}, seed=9)
    assert run.status == "done"
    launched = {int(i): day_index(d) for i, d in query(
        db_url, "SELECT id, launch_date FROM product WHERE launch_date IS NOT NULL")}
    assert len(launched) >= 3
    for table in ("sales_daily", "inventory_snapshot_daily"):
        early = query(db_url, f"SELECT COUNT(*) FROM {table} t JOIN product p ON "
                              "p.id = t.product_id WHERE t.date < p.launch_date")
        assert early == [(0,)], table
    first = query(db_url, "SELECT product_id, MIN(date) FROM inventory_snapshot_daily "
                          "GROUP BY product_id")
    assert all(day_index(d) == launched[int(p)] for p, d in first if int(p) in launched)
    opening = query(db_url, "SELECT i.received_qty FROM inventory_snapshot_daily i JOIN "
                            "product p ON p.id = i.product_id AND i.date = p.launch_date")
    assert len(opening) == 3 * len(launched) and sum(q > 0 for (q,) in opening) > len(opening) / 2
    ok = cli("verify", "--pack", PACK, "--db", db_url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # a sale the day before the latest launch is caught
    product, day = max(launched.items(), key=lambda kv: kv[1])
    assert day > day_index("2024-01-01")
    before = str(np.datetime64(day - 1, "D"))
    execute(db_url, "INSERT INTO sales_daily (date, store_id, product_id, quantity, "
                    "unit_price, revenue, on_promotion) VALUES (?, 1, ?, 0, 1, 0, ?)",
            (dt.date.fromisoformat(before) if "postgresql" in db_url else before,
             product, False))
    bad = cli("verify", "--pack", PACK, "--db", db_url)
    assert bad.returncode != 0 and "nothing_before_launch" in bad.stdout + bad.stderr


# -- dirty-data mode -------------------------------------------------------------------------

def test_dirty_data_mode_fills_the_feed_with_the_configured_defects(
        db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """001's "dirty data mode": off by default (only the dirty profile, or --only
    '+sales_daily_raw', selects the table); on, sales_daily_raw holds the sales feed
    with the configured shares of NULLs, out-of-range values, late rows (each record at
    most one of these) and duplicates (each record sent twice with that chance), every one
    a binomial share of the records; the database's own constraints all hold (the run and
    verify pass on PostgreSQL too) and the clean tables are what a clean run writes."""
    sets = {"stores": 4, "products": 25}
    clean = (request.getfixturevalue("pg").new() if "postgresql" in db_url
             else f"sqlite:///{tmp_path / 'clean.db'}")
    assert run_engine(clean, pack=PACK, sets=sets, seed=3).status == "done"
    assert query(clean, "SELECT COUNT(*) FROM sales_daily_raw") == [(0,)]  # off by default
    assert cli("verify", "--pack", PACK, "--db", clean).returncode == 0
    run = run_engine(db_url, pack=PACK, profile="dirty", sets=sets, seed=3)
    assert run.status == "done"
    ok = cli("verify", "--pack", PACK, "--db", db_url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    dims_and_facts = ["store", "product", "calendar", "price_history", "promotion",
                      "inventory_snapshot_daily", "sales_daily"]
    assert checksums(db_url, dims_and_facts) == checksums(clean, dims_and_facts)

    n = query(db_url, "SELECT COUNT(*) FROM sales_daily")[0][0]
    counts = dict(query(db_url, "SELECT COALESCE(defect, 'clean'), COUNT(*) "
                                "FROM sales_daily_raw GROUP BY defect"))
    for kind in ("duplicates", "nulls", "out_of_range", "late"):
        label = {"duplicates": "duplicate", "nulls": "null"}.get(kind, kind)
        assert binomial_ok(counts[label], n, PARAMS[f"dirty_{kind}"]), (kind, counts, n)
    assert counts["clean"] + counts["null"] + counts["out_of_range"] + counts["late"] == n

    cols = "date, store_id, product_id, quantity, unit_price, revenue, on_promotion"
    rows = query(db_url, f"SELECT {cols}, received_at, defect FROM sales_daily_raw")
    sales = {tuple(r[:3]): r for r in query(db_url, f"SELECT {cols} FROM sales_daily")}

    def delay(r: tuple[Any, ...]) -> float:
        got = np.datetime64(str(r[7])[:19].replace(" ", "T"), "s")
        return float((got - np.datetime64(str(r[0])[:10], "D")) / np.timedelta64(1, "D"))

    originals = {tuple(r[:7]) for r in rows if r[8] != "duplicate"}
    for r in rows:
        if r[8] is None:  # a clean record is the sales row, received the next night
            assert tuple(r[:7]) == sales[tuple(r[:3])] and 1 <= delay(r) < 1.25, r
        elif r[8] == "null":
            assert sum(v is None for v in r[:7]) == 1, r
        elif r[8] == "out_of_range":
            assert r[3] < 0 or r[4] < 0, r
        elif r[8] == "late":
            assert 2 <= delay(r) < 31, r
        else:
            assert tuple(r[:7]) in originals, r  # an identical copy of a record


# -- verify: the configuration holds in the data ---------------------------------------------

RATE_CHECKS = ("row_counts_match_configuration", "sparsity_matches_configuration",
               "promotion_share_matches_configuration", "stockout_share_matches_configuration")


def failed_checks(url: str) -> dict[str, str]:
    """``seedgraph verify --json``'s failed checks: name -> their sample rows, as text."""
    run = cli("verify", "--pack", PACK, "--db", url, "--json")
    report = json.loads(run.stdout)
    assert (run.returncode == 0) == report["ok"], run.stdout + run.stderr
    return {f["name"]: json.dumps(f["sample"]) for f in report["failed"]}


@pytest.fixture(scope="module")
def seeded_default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default run (6 stores x 40 products, 2024) to copy and tamper with."""
    path = tmp_path_factory.mktemp("verify") / "default.db"
    result = run_engine(f"sqlite:///{path}", pack=PACK, sets={"stores": 6, "products": 40},
                        seed=5)
    assert result.status == "done"
    return path


@pytest.mark.parametrize(("profile", "sets"), [
    (None, {}),
    ("sparse", {}),
    ("holiday_rush", {"stores": 6, "products": 30}),
    ("stockout_heavy", {"stores": 4, "products": 30}),
    ("new_store_opening", {"stores": 8, "products": 10}),
    (None, {"promotion_probability": 0.3, "stockout_probability": 0.0, "stores": 3,
            "products": 10}),
], ids=["default", "sparse", "holiday_rush", "stockout_heavy", "new_store_opening",
        "set_rates"])
def test_verify_finds_the_configuration_in_a_normal_run(
        tmp_path: Path, profile: str | None, sets: dict[str, Any]) -> None:
    """The counts, sparsity and rate checks pass on what a run writes (the dirty profile's:
    test_dirty_data_mode_fills_the_feed_with_the_configured_defects), reading the
    parameters the run recorded."""
    url = seeded(tmp_path, "normal", profile, seed=11, **sets)
    assert failed_checks(url) == {}


def test_verify_rate_checks_on_both_databases(db_url: str) -> None:
    """The checks' SQL runs on PostgreSQL too: clean after a run; halving the lost-sales
    days is caught, with the observed share, the expected one and the tolerance stated."""
    run = run_engine(db_url, pack=PACK, sets={"stores": 4, "products": 30}, seed=5)
    assert run.status == "done"
    assert failed_checks(db_url) == {}
    execute(db_url, "UPDATE inventory_snapshot_daily SET lost_sales_qty = 0 "
                    "WHERE lost_sales_qty > 0 AND MOD(store_id + product_id, 2) = 0"
            if "postgresql" in db_url else
            "UPDATE inventory_snapshot_daily SET lost_sales_qty = 0 "
            "WHERE lost_sales_qty > 0 AND (store_id + product_id) % 2 = 0")
    failed = failed_checks(db_url)
    assert set(failed) == {"stockout_share_matches_configuration"}, failed
    assert "observed 0.02" in failed["stockout_share_matches_configuration"]
    assert "standard errors" in failed["stockout_share_matches_configuration"]


TAMPER = {
    # one snapshot and its sale gone: a series one day short
    "row_counts_match_configuration": [
        "DELETE FROM sales_daily WHERE store_id = 2 AND product_id = 3 AND date = '2024-06-01'",
        "DELETE FROM inventory_snapshot_daily WHERE store_id = 2 AND product_id = 3 "
        "AND date = '2024-06-01'"],
    # a whole series gone (sparsity 0: no combination may be missing)
    "sparsity_matches_configuration": [
        f"DELETE FROM {t} WHERE store_id = 1 AND product_id = 1"
        for t in ("sales_daily", "inventory_snapshot_daily", "promotion", "price_history")],
    # half the series lose their promotions (windows and flags: still consistent)
    "promotion_share_matches_configuration": [
        "UPDATE sales_daily SET on_promotion = 0 WHERE (store_id + product_id) % 2 = 0",
        "DELETE FROM promotion WHERE (store_id + product_id) % 2 = 0"],
    # a third of the stockout days lose nothing
    "stockout_share_matches_configuration": [
        "UPDATE inventory_snapshot_daily SET lost_sales_qty = 0 "
        "WHERE lost_sales_qty > 0 AND (store_id * 7 + product_id) % 3 = 0"],
}


@pytest.mark.parametrize("check", RATE_CHECKS)
def test_verify_catches_tampered_data(seeded_default: Path, tmp_path: Path,
                                      check: str) -> None:
    """Each check passes on the run and fails once the data is changed, naming itself,
    and only it fails (the rows stay consistent: only the configuration no longer holds)."""
    path = tmp_path / "tampered.db"
    shutil.copy(seeded_default, path)
    url = f"sqlite:///{path}"
    assert failed_checks(url) == {}
    for sql in TAMPER[check]:
        execute(url, sql)
    failed = failed_checks(url)
    assert set(failed) == {check}, failed


def test_verify_catches_gaps_and_combinations_the_configuration_did_not_ask_for(
        tmp_path: Path) -> None:
    """Sparse (half the combinations, 3 gaps per series): verify passes; dropping a
    further 5 % of the sales rows is more gaps than 3 per series leave, and dropping a
    third of the carried series more missing combinations than sparsity 0.5."""
    url = seeded(tmp_path, "sparse", "sparse", seed=8)
    assert failed_checks(url) == {}
    execute(url, "DELETE FROM sales_daily WHERE (store_id * 31 + product_id * 7 + "
                 "CAST(strftime('%j', date) AS INTEGER)) % 20 = 0")
    assert set(failed_checks(url)) == {"sparsity_matches_configuration"}
    for t in ("sales_daily", "inventory_snapshot_daily", "promotion", "price_history"):
        execute(url, f"DELETE FROM {t} WHERE (store_id + product_id) % 3 = 0")
    failed = failed_checks(url)
    assert set(failed) == {"sparsity_matches_configuration"}, failed
    assert "missing store x product combinations" in failed["sparsity_matches_configuration"]


def test_verify_checks_an_appended_range_with_its_own_rates(tmp_path: Path) -> None:
    """After an append with other rates, the rates are checked over the appended range
    with the appended run's parameters; the counts over the whole calendar."""
    url = seeded(tmp_path, "append", seed=4, stores=4, products=20)
    run = run_engine(url, pack=PACK, append=True, seed=4,
                     sets={"stores": 4, "products": 20, "start_date": "2025-01-01",
                           "end_date": "2025-06-30", "promotion_probability": 0.3})
    assert run.status == "done"
    assert failed_checks(url) == {}
