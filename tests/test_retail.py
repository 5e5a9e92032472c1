"""The retail pack on SQLite and PostgreSQL: patterns, scenarios, constraints, append, delete."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from seedgraph import UsageError
from tasks.retail import PARAMS, config_params
from tasks.retail import generate as gen
from tasks.retail import simulate as sim
from tests.conftest import PgDatabases
from tests.helpers import REPO, checksums, cli, query, run_engine

PACK = str(REPO / "tasks" / "retail")
SMALL = {"stores": 5, "products": 20}
FACTS = ["price_history", "promotion", "inventory_snapshot_daily", "sales_daily"]


def fresh(request: pytest.FixtureRequest, tmp: Path, kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / 'retail.db'}"
    pg: PgDatabases = request.getfixturevalue("pg")
    return pg.new()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def retail(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    url = fresh(request, tmp_path_factory.mktemp("retail"), request.param)
    result = run_engine(url, pack=PACK, sets=SMALL, seed=5)
    assert result.status == "done"
    yield url


def mean_by(url: str, sql: str) -> dict[Any, float]:
    return {k: float(v) for k, v in query(url, sql)}


def test_every_constraint_and_invariant_holds(retail: str) -> None:
    r = cli("verify", "--pack", PACK, "--db", retail)
    assert r.returncode == 0, r.stderr
    assert "all checks passed" in r.stdout
    n = query(retail, "SELECT COUNT(*) FROM sales_daily")[0][0]
    assert n == 5 * on_sale_days(retail, "2024-01-01", 366)


def on_sale_days(url: str, start: str, days: int) -> int:
    """Days on sale per store summed over the products: every day of the range, from the
    launch day for a product launched inside it (no rows before a launch)."""
    first = np.datetime64(start, "D")
    return sum(days - max(0, int((np.datetime64(str(d)[:10], "D") - first).astype(int)))
               if d is not None else days
               for (d,) in query(url, "SELECT launch_date FROM product"))


def test_weekends_sell_more_than_weekdays(retail: str) -> None:
    m = mean_by(retail, "SELECT c.is_weekend, AVG(s.quantity) FROM sales_daily s "
                        "JOIN calendar c ON c.date = s.date GROUP BY c.is_weekend")
    assert m[True] / m[False] > 1.15


def test_december_lift(retail: str) -> None:
    m = mean_by(retail, "SELECT c.month, AVG(s.quantity) FROM sales_daily s "
                        "JOIN calendar c ON c.date = s.date GROUP BY c.month")
    summer = np.mean([m[6], m[7], m[8], m[9]])
    assert m[12] / summer > 1.25


def test_promotions_lift_sales(retail: str) -> None:
    m = mean_by(retail, "SELECT on_promotion, AVG(quantity) FROM sales_daily "
                        "GROUP BY on_promotion")
    assert m[True] / m[False] > 1.15
    inside = query(retail, "SELECT COUNT(*) FROM sales_daily s JOIN promotion p ON "
                           "p.store_id = s.store_id AND p.product_id = s.product_id AND "
                           "s.date BETWEEN p.start_date AND p.end_date WHERE NOT s.on_promotion")
    assert inside[0][0] == 0


def test_promotion_prices_are_discounted(retail: str) -> None:
    rows = query(retail, "SELECT s.unit_price, h.price, p.discount_pct FROM sales_daily s "
                         "JOIN price_history h ON h.store_id = s.store_id AND "
                         "h.product_id = s.product_id AND s.date BETWEEN h.valid_from AND "
                         "h.valid_to JOIN promotion p ON p.store_id = s.store_id AND "
                         "p.product_id = s.product_id AND s.date BETWEEN p.start_date AND "
                         "p.end_date")
    assert len(rows) > 200
    # prices have two decimals: the paid price is the exact discounted list price rounded
    # to the cent, so it lies within half a cent of it (either cent of an exact tie such as
    # 2.30 x 0.65 = 1.495) and a one-cent error lies at least half a cent beyond that
    wrong = [(paid, price, discount) for paid, price, discount in rows
             if abs(Decimal(str(paid)) - Decimal(str(price)) * (1 - Decimal(str(discount))))
             > Decimal("0.005")]
    assert wrong == []
    assert any(float(d) > 0 for _, _, d in rows)  # the discounts are real


def test_zero_sales_while_the_shelf_is_empty(retail: str) -> None:
    yesterday = "s.date - 1" if "postgresql" in retail else "date(s.date, '-1 day')"
    rows = query(retail, "SELECT s.quantity FROM sales_daily s JOIN inventory_snapshot_daily i "
                         "ON i.date = s.date AND i.store_id = s.store_id AND "
                         "i.product_id = s.product_id JOIN inventory_snapshot_daily y ON "
                         f"y.date = {yesterday} AND y.store_id = s.store_id AND "
                         "y.product_id = s.product_id WHERE y.on_hand_qty + i.received_qty = 0")
    assert len(rows) > 0, "the run should contain stockouts"
    assert all(q == 0 for (q,) in rows)
    lost = query(retail, "SELECT COUNT(*) FROM inventory_snapshot_daily WHERE lost_sales_qty > 0")
    assert lost[0][0] > 0


def test_price_elasticity_sign() -> None:
    """With everything else flat, doubling the price cuts demand by 2 ** elasticity
    (two series side by side, one at twice the other's price, simulated in chunks)."""
    params = {**PARAMS, "noise_sigma": 0.0, "anomaly_probability": 0.0, "trend": "none",
              "weekly_seasonality": [1.0] * 7, "weekend_spike": 1.0,
              "monthly_seasonality": {}, "holidays": [],
              "stockout_probability": 0.0, "price_elasticity": -1.0, "base_demand": 200.0,
              "start_date": "2024-01-01", "end_date": "2024-03-31"}
    s = gen.settings(params)
    days = len(s.dates)
    no_windows = gen.Windows(*(np.zeros(0, dtype=np.int64),) * 4)
    series = sim.Series(store_id=np.array([1, 1]), product=np.array([0, 1]),
                        scale=np.array([200.0, 200.0]), base_price=np.array([10.0, 10.0]),
                        launch=np.full(2, np.nan), eol=np.full(2, np.nan),
                        prices=gen.Windows(series=np.array([1]), first=np.array([0]),
                                           last=np.array([days - 1]), value=np.array([20.0])),
                        promos=no_windows)
    sold = np.concatenate([c.quantity for c in sim.simulate(
        s, series, np.random.default_rng(1), origin=s.start, chunk_cells=50)])
    cheap, dear = sold[5:, 0].mean(), sold[5:, 1].mean()
    # demand is Poisson: the mean of m days at mean mu has standard error sqrt(mu / m);
    # the ratio's relative error adds the two relative variances; allow four of them
    m = len(sold) - 5
    assert abs(cheap - 200) <= 4 * np.sqrt(200 / m)  # the cheap series is untouched
    ratio_se = 0.5 * np.sqrt(1 / (200 * m) + 1 / (100 * m))
    assert dear < cheap and abs(dear / cheap - 0.5) <= 4 * ratio_se, dear / cheap


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_sparse_scenario_removes_combinations_and_dates(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = fresh(request, tmp_path, kind)
    stores, products = 40, 50
    run_engine(url, pack=PACK, profile="sparse", sets={**SMALL, "stores": stores,
                                                       "products": products,
                                                       "end_date": "2024-01-15"})
    combos = query(url, "SELECT COUNT(*) FROM (SELECT DISTINCT store_id, product_id "
                        "FROM inventory_snapshot_daily) t")[0][0]
    # each combination is kept with probability 1 - sparsity = 0.5: a binomial share
    n = stores * products
    assert abs(combos / n - 0.5) <= 4 * np.sqrt(0.5 * 0.5 / n), combos / n
    sales = query(url, "SELECT COUNT(*) FROM sales_daily")[0][0]
    snaps = query(url, "SELECT COUNT(*) FROM inventory_snapshot_daily")[0][0]
    assert sales < snaps  # data gaps drop sales rows


def test_scenarios_differ_as_intended(tmp_path: Path) -> None:
    def cv(profile: str) -> float:
        url = f"sqlite:///{tmp_path / (profile + '.db')}"
        run_engine(url, pack=PACK, profile=profile, sets={**SMALL, "end_date": "2024-03-31"})
        q = np.array([r[0] for r in query(url, "SELECT quantity FROM sales_daily "
                                              "WHERE store_id = 1 AND product_id = 2")])
        return float(q.std() / max(q.mean(), 1e-9))

    assert cv("high_variance") > 1.3 * cv("retail_standard")
    url = f"sqlite:///{tmp_path / 'rush.db'}"
    run_engine(url, pack=PACK, profile="holiday_rush", sets=SMALL)
    first, last = query(url, "SELECT MIN(date), MAX(date) FROM calendar")[0]
    assert str(first).startswith("2024-10-01") and str(last).startswith("2024-12-31")
    assert query(url, "SELECT holiday_name FROM calendar WHERE date = '2024-11-29'") == [
        ("Black Friday",)]


def _first_quarter(request: pytest.FixtureRequest, tmp_path: Path, kind: str
                   ) -> tuple[str, dict[str, Any]]:
    """A small retail database seeded for 2024-01-01..2024-03-31, and its parameters."""
    url = fresh(request, tmp_path, kind)
    base = {**SMALL, "stores": 2, "products": 5}
    run_engine(url, pack=PACK, sets={**base, "end_date": "2024-03-31"})
    return url, base


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_append_adds_a_later_range_idempotently(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url, base = _first_quarter(request, tmp_path, kind)
    before = checksums(url, ["store", "product"])
    old_sales = query(url, "SELECT COUNT(*) FROM sales_daily")[0][0]
    later = {**base, "start_date": "2024-04-01", "end_date": "2024-05-31"}
    first = run_engine(url, pack=PACK, sets=later, append=True)
    added = {o.table: o.rows for o in first.outcomes}
    assert added["sales_daily"] == 2 * 5 * 61 and added["store"] == 0
    assert checksums(url, ["store", "product"]) == before
    assert query(url, "SELECT COUNT(*) FROM sales_daily WHERE date < '2024-04-01'")[0][0] \
        == old_sales
    snapshot = checksums(url, ["calendar", *FACTS])
    again = run_engine(url, pack=PACK, sets=later, append=True)
    assert all(o.rows == 0 for o in again.outcomes)
    assert checksums(url, ["calendar", *FACTS]) == snapshot
    verify = cli("verify", "--pack", PACK, "--db", url)
    assert verify.returncode == 0, verify.stderr


def test_scoped_delete_keeps_dimensions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    run_engine(url, pack=PACK, sets={**SMALL, "end_date": "2024-01-31"})
    dims = ["store", "product", "calendar"]
    before = checksums(url, [*dims, *FACTS])
    counts = {t: query(url, f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in [*dims, *FACTS]}
    assert counts["store"] == 5 and counts["product"] == 20 and counts["calendar"] == 31
    assert all(counts[t] > 0 for t in FACTS)

    dry = cli("clean", "--pack", PACK, "--db", url, "--only", "tag:facts", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)
    assert doc["deleted"] is False
    assert doc["rows"]["sales_daily"] == 5 * on_sale_days(url, "2024-01-01", 31)
    assert sorted(doc["tables"]) == sorted(FACTS)  # the facts, and no dimension
    assert doc["rows"] == {t: counts[t] for t in FACTS}
    assert checksums(url, [*dims, *FACTS]) == before

    refused = cli("clean", "--pack", PACK, "--db", url, "--only", "tag:facts")
    assert refused.returncode == 1 and "--confirm" in refused.stderr
    assert checksums(url, [*dims, *FACTS]) == before
    prod = cli("clean", "--pack", PACK, "--db", url, "--only", "tag:facts", "--confirm",
               env={"APP_ENV": "production"})
    assert prod.returncode == 1 and "--allow-production" in prod.stderr
    assert checksums(url, [*dims, *FACTS]) == before

    ok = cli("clean", "--pack", PACK, "--db", url, "--only", "tag:facts", "--confirm")
    assert ok.returncode == 0, ok.stderr
    for table in FACTS:
        assert query(url, f'SELECT COUNT(*) FROM "{table}"')[0][0] == 0, table
    # every dimension row is still there, unchanged
    assert checksums(url, dims) == {t: before[t] for t in dims}


def test_the_documents_yaml_config_translates_to_params() -> None:
    doc = yaml.safe_load((REPO / "tasks/retail/examples/config_holiday.yaml").read_text())
    doc.pop("seed")
    params = config_params(doc)
    assert params["stores"] == 15 and params["products"] == 100
    assert params["regions"][-1] == "Central" and params["start_date"] == "2024-10-01"
    assert params["trend"] == "exponential" and params["monthly_seasonality"]["12"] == 1.8
    assert params["promotion_probability"] == 0.25
    assert params["holidays"][1] == {"date": "2024-11-29", "name": "Black Friday",
                                     "multiplier": 3.0}
    with pytest.raises(UsageError, match=r"unknown key 'base_demnd' in time_series.*"
                                         r"valid keys:.*base_demand"):
        config_params({"time_series": {"base_demnd": 3}})


def test_config_files_run_end_to_end(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    cfg = tmp_path / "small.yaml"
    doc = yaml.safe_load((REPO / "tasks/retail/examples/config_holiday.yaml").read_text())
    doc["dimensions"]["stores"]["count"] = 2
    doc["dimensions"]["products"]["count"] = 4
    cfg.write_text(yaml.safe_dump(doc))
    r = cli("run", "--pack", PACK, "--db", url, "--config", str(cfg), "--quiet")
    assert r.returncode == 0, r.stderr
    assert query(url, "SELECT seed FROM seedgraph_runs") == [(2024,)]
    assert query(url, "SELECT COUNT(*) FROM store")[0][0] == 2
    toml_db = f"sqlite:///{tmp_path / 't.db'}"
    r = cli("run", "--pack", PACK, "--db", toml_db, "--config",
            str(REPO / "tasks/retail/examples/config_holiday.toml"), "--profile", "rush_small",
            "--quiet")
    assert r.returncode == 0, r.stderr
    assert query(toml_db, "SELECT COUNT(*) FROM store")[0][0] == 3


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_append_that_overlaps_the_seeded_dates_is_refused_naming_the_overlap(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url, base = _first_quarter(request, tmp_path, kind)
    before = checksums(url, ["calendar", *FACTS])
    straddle = {**base, "start_date": "2024-03-15", "end_date": "2024-04-30"}
    result = run_engine(url, pack=PACK, sets=straddle, append=True)
    assert result.status == "failed"
    errors = {o.table: o.error for o in result.outcomes if o.status == "failed"}
    assert "calendar" in errors
    assert ("--append 2024-03-15..2024-04-30 overlaps the dates already in calendar "
            "(2024-01-01..2024-03-31) from 2024-03-15 to 2024-03-31") in errors["calendar"]
    assert "--set start_date=2024-04-01" in errors["calendar"]
    assert checksums(url, ["calendar", *FACTS]) == before  # nothing corrupted
    # another range inside the seeded days is refused by the windows it would overlap
    inside = run_engine(url, pack=PACK, append=True,
                        sets={**base, "start_date": "2024-02-01", "end_date": "2024-02-29"})
    assert inside.status == "failed"
    assert any("already holds other windows over these days" in (o.error or "")
               for o in inside.outcomes)
    assert checksums(url, ["calendar", *FACTS]) == before
    # the seeded range itself, appended again, adds nothing
    again = run_engine(url, pack=PACK, append=True, sets={**base, "end_date": "2024-03-31"})
    assert again.status == "done" and all(o.rows == 0 for o in again.outcomes)
    assert checksums(url, ["calendar", *FACTS]) == before
    verify = cli("verify", "--pack", PACK, "--db", url)
    assert verify.returncode == 0, verify.stderr
