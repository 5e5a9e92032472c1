"""Pure numpy generation for The Forge: settings, calendar, demand, and the inventory
simulation that sales and inventory snapshots share.

Demand for store s, product p, day d is

    base_demand x store size x product popularity x trend(d) x weekly[dow] x monthly[month]
    x holiday(d) x lifecycle(p, d) x (price / base_price) ** elasticity x promotion lift
    x lognormal noise x anomalies

and units sold are a Poisson draw of it, capped by what is on hand: inventory is
simulated day by day (vectorised over every series of a block of stores) with an
order-up-to policy, a lead time and random lost shipments, so a stockout means
zero (or backlogged) sales while on-hand is zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seedgraph import UsageError

DEFAULT_WEEKLY = (0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 1.2)  # Monday .. Sunday
LEAD_TIME_DAYS = 2


@dataclass(frozen=True, slots=True)
class Settings:
    start: np.datetime64
    end: np.datetime64
    base_demand: float
    trend: str
    trend_slope: float
    weekly: tuple[float, ...]
    monthly: Mapping[int, float]
    holidays: Mapping[np.datetime64, tuple[str, float]]
    noise_sigma: float
    anomaly_probability: float
    anomaly_magnitude: float
    promotion_lift: float
    promotion_probability: float
    price_elasticity: float
    stockout_behavior: str
    stockout_probability: float
    new_product_ramp_days: int
    sparsity: float
    random_gaps_per_series: int

    @property
    def dates(self) -> np.ndarray:
        return np.arange(self.start, self.end + np.timedelta64(1, "D"), dtype="datetime64[D]")


def _date(value: Any, name: str) -> np.datetime64:
    try:
        return np.datetime64(str(value), "D")
    except ValueError:
        raise UsageError(f"{name} must be a date like 2024-01-31, got {value!r}") from None


def _number(params: Mapping[str, Any], name: str, lo: float, hi: float) -> float:
    value = params[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise UsageError(f"{name} must be a number between {lo} and {hi}, got {value!r}")
    return float(value)


def default_holidays(years: Sequence[int]) -> list[dict[str, Any]]:
    """US retail holidays with demand multipliers (Black Friday peaks, Christmas closes)."""
    out = []
    for y in years:
        nov1 = dt.date(y, 11, 1)
        thanksgiving = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 21)
        out += [
            {"date": f"{y}-01-01", "name": "New Year's Day", "multiplier": 0.5},
            {"date": f"{y}-07-04", "name": "Independence Day", "multiplier": 1.3},
            {"date": thanksgiving.isoformat(), "name": "Thanksgiving", "multiplier": 0.6},
            {"date": (thanksgiving + dt.timedelta(days=1)).isoformat(), "name": "Black Friday",
             "multiplier": 2.5},
            {"date": (thanksgiving + dt.timedelta(days=4)).isoformat(), "name": "Cyber Monday",
             "multiplier": 1.6},
            {"date": f"{y}-12-24", "name": "Christmas Eve", "multiplier": 1.5},
            {"date": f"{y}-12-25", "name": "Christmas Day", "multiplier": 0.3},
        ]
    return out


def settings(params: Mapping[str, Any]) -> Settings:
    """Validate the pack's parameters (clear errors, never a traceback)."""
    start, end = _date(params["start_date"], "start_date"), _date(params["end_date"], "end_date")
    if end < start:
        raise UsageError(f"end_date {end} is before start_date {start}")
    weekly = params["weekly_seasonality"]
    if not isinstance(weekly, list | tuple) or len(weekly) != 7:
        raise UsageError("weekly_seasonality must be a list of 7 multipliers, Monday first")
    monthly_raw = params["monthly_seasonality"] or {}
    if not isinstance(monthly_raw, Mapping):
        raise UsageError("monthly_seasonality must map month numbers to multipliers, "
                         "e.g. {\"12\": 1.5}")
    monthly = {int(k): float(v) for k, v in monthly_raw.items()}
    if any(not 1 <= m <= 12 for m in monthly):
        raise UsageError("monthly_seasonality keys must be months 1-12")
    trend = str(params["trend"])
    if trend not in {"none", "linear", "exponential", "step"}:
        raise UsageError(f"trend must be none, linear, exponential or step, not '{trend}'")
    behavior = str(params["stockout_behavior"])
    if behavior not in {"zero", "backlog"}:
        raise UsageError(f"stockout_behavior must be zero or backlog, not '{behavior}'")
    raw_holidays = params["holidays"]
    if raw_holidays is None:
        years = range(int(str(start)[:4]), int(str(end)[:4]) + 1)
        raw_holidays = default_holidays(list(years))
    holidays: dict[np.datetime64, tuple[str, float]] = {}
    for h in raw_holidays:
        if not isinstance(h, Mapping) or not {"date", "name"} <= set(h):
            raise UsageError("holidays must be a list of {date, name, multiplier} entries")
        holidays[_date(h["date"], "holiday date")] = (str(h["name"]),
                                                      float(h.get("multiplier", 1.0)))
    return Settings(
        start=start, end=end,
        base_demand=_number(params, "base_demand", 0, 1e6),
        trend=trend, trend_slope=_number(params, "trend_slope", -100, 100),
        weekly=tuple(float(w) for w in weekly), monthly=monthly, holidays=holidays,
        noise_sigma=_number(params, "noise_sigma", 0, 5),
        anomaly_probability=_number(params, "anomaly_probability", 0, 1),
        anomaly_magnitude=_number(params, "anomaly_magnitude", 1, 100),
        promotion_lift=_number(params, "promotion_lift", 0, 100),
        promotion_probability=_number(params, "promotion_probability", 0, 1),
        price_elasticity=_number(params, "price_elasticity", -10, 10),
        stockout_behavior=behavior,
        stockout_probability=_number(params, "stockout_probability", 0, 1),
        new_product_ramp_days=int(_number(params, "new_product_ramp_days", 0, 3650)),
        sparsity=_number(params, "sparsity", 0, 0.95),
        random_gaps_per_series=int(_number(params, "random_gaps_per_series", 0, 50)),
    )


def calendar_rows(s: Settings) -> dict[str, np.ndarray]:
    d = s.dates
    days = d.astype(np.int64)
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dow = (days + 3) % 7
    names = np.array([s.holidays.get(x, (None, 1.0))[0] for x in d], dtype=object)
    return {
        "date": d, "day_of_week": dow, "day_of_month": (d - d.astype("datetime64[M]")).astype(
            np.int64) + 1,
        "month": month, "quarter": (month - 1) // 3 + 1,
        "year": d.astype("datetime64[Y]").astype(np.int64) + 1970,
        "is_weekend": dow >= 5, "is_holiday": names != None,  # noqa: E711
        "holiday_name": names,
    }


def day_multipliers(s: Settings, dates: np.ndarray, origin: np.datetime64) -> np.ndarray:
    """trend x weekly x monthly x holiday, per day; trend counts days since *origin*."""
    t = (dates - origin).astype(np.int64).astype(float)
    slope = s.trend_slope / 100.0
    if s.trend == "linear":
        trend = np.maximum(1.0 + slope * t, 0.05)
    elif s.trend == "exponential":
        trend = (1.0 + slope) ** t
    elif s.trend == "step":
        trend = np.where(t >= t.max() / 2 if len(t) else 0, 1.0 + slope * 50, 1.0)
    else:
        trend = np.ones(len(t))
    dow = (dates.astype(np.int64) + 3) % 7
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weekly = np.asarray(s.weekly)[dow]
    monthly = np.array([s.monthly.get(int(m), 1.0) for m in range(1, 13)])[month - 1]
    holiday = np.array([s.holidays.get(x, ("", 1.0))[1] for x in dates])
    return trend * weekly * monthly * holiday


@dataclass(frozen=True, slots=True)
class Block:
    """A block of stores' series: one row per (store, product), one column per day."""

    store_id: np.ndarray  # (n,)
    product_id: np.ndarray  # (n,) product indices into the product arrays
    quantity: np.ndarray  # (n, D) units sold
    price: np.ndarray  # (n, D) unit price paid (after promotion discounts)
    promo: np.ndarray  # (n, D) bool
    on_hand: np.ndarray  # (n, D) end of day
    received: np.ndarray  # (n, D)
    on_order: np.ndarray  # (n, D)
    lost: np.ndarray  # (n, D)
    gap: np.ndarray  # (n, D) bool: no sales row (data gaps)


def simulate(s: Settings, dates: np.ndarray, stores: Sequence[Mapping[str, Any]],
             store_rng: Sequence[np.random.Generator], series: Sequence[np.ndarray],
             base_price: np.ndarray, popularity: np.ndarray, lifecycle: np.ndarray,
             price: Sequence[np.ndarray], promo: Sequence[np.ndarray],
             discount: Sequence[np.ndarray],
             start: Sequence[tuple[np.ndarray, np.ndarray] | None]) -> Block:
    """Simulate demand, ordering and sales for a block of stores.

    ``series[i]`` holds the product indices store i carries; ``price[i]``,
    ``promo[i]`` and ``discount[i]`` are (len(series[i]), D) matrices;
    ``lifecycle`` is (n_products, D); ``start[i]`` is (on hand, on order) carried over
    from the last snapshot when appending (on order arrives on the first day), or
    None for a fresh history; randomness for store i comes only from
    ``store_rng[i]``, so results do not depend on how stores are blocked.
    """
    mult = day_multipliers(s, dates, s.start)
    rows_store, rows_product, demand_parts, disrupt_parts, gap_parts = [], [], [], [], []
    price_rows, promo_rows, start_parts, carried = [], [], [], []
    for st, rng, prods, pm, pr, dc, init in zip(stores, store_rng, series, price, promo,
                                                discount, start, strict=True):
        k, d = len(prods), len(dates)
        paid = pm * (1.0 - dc)
        elastic = np.power(np.maximum(paid, 0.01) / base_price[prods][:, None],
                           s.price_elasticity)
        lift = np.where(pr, s.promotion_lift, 1.0)
        noise = rng.lognormal(-0.5 * s.noise_sigma ** 2, s.noise_sigma, (k, d))
        anomaly = np.where(rng.random((k, d)) < s.anomaly_probability,
                           np.where(rng.random((k, d)) < 0.5, s.anomaly_magnitude,
                                    1.0 / s.anomaly_magnitude), 1.0)
        mean = (s.base_demand * float(st["size_factor"]) * popularity[prods][:, None]
                * mult[None, :] * lifecycle[prods] * elastic * lift * noise * anomaly)
        demand_parts.append(rng.poisson(mean))
        disrupt_parts.append(rng.random((k, d)) < s.stockout_probability)
        gaps = np.zeros((k, d), dtype=bool)
        for _ in range(s.random_gaps_per_series):
            begin = rng.integers(0, max(d, 1), k)
            length = rng.integers(3, 11, k)
            cols = np.arange(d)[None, :]
            gaps |= (cols >= begin[:, None]) & (cols < (begin + length)[:, None])
        gap_parts.append(gaps)
        rows_store.append(np.full(k, int(st["id"])))
        rows_product.append(prods)
        price_rows.append(np.round(paid, 2))
        promo_rows.append(pr)
        level = np.ceil(mean.mean(axis=1) * 7 + 5)
        start_parts.append(level if init is None else init[0].astype(float))
        carried.append(np.zeros(k) if init is None else init[1].astype(float))
    demand = np.concatenate(demand_parts)
    disrupted = np.concatenate(disrupt_parts)
    daily_mean = demand.mean(axis=1)
    order_up_to = np.ceil(daily_mean * 7 + 5)
    reorder_at = np.ceil(daily_mean * 3 + 2)
    n, d = demand.shape
    on_hand = np.concatenate(start_parts)
    arrivals = np.zeros((n, d + LEAD_TIME_DAYS + 1))
    arrivals[:, 0] = np.concatenate(carried)
    out = {k: np.zeros((n, d), dtype=np.int64) for k in ("sold", "hand", "recv", "order", "lost")}
    backlog = np.zeros(n)
    pending = arrivals[:, 0].copy()
    for t in range(d):
        arrived = np.where(disrupted[:, t], 0.0, arrivals[:, t])
        pending -= arrivals[:, t]
        available = on_hand + arrived
        want = demand[:, t] + (backlog if s.stockout_behavior == "backlog" else 0.0)
        sold = np.minimum(want, available)
        unmet = want - sold
        if s.stockout_behavior == "backlog":
            backlog = np.minimum(unmet, daily_mean * 3)
        on_hand = available - sold
        position = on_hand + pending
        order = np.where(position <= reorder_at, order_up_to - position, 0.0)
        arrivals[:, t + LEAD_TIME_DAYS] += order
        pending += order
        out["sold"][:, t], out["hand"][:, t], out["recv"][:, t] = sold, on_hand, arrived
        out["order"][:, t], out["lost"][:, t] = pending, np.where(
            s.stockout_behavior == "zero", unmet, 0)
    return Block(
        store_id=np.concatenate(rows_store), product_id=np.concatenate(rows_product),
        quantity=out["sold"], price=np.concatenate(price_rows), promo=np.concatenate(promo_rows),
        on_hand=out["hand"], received=out["recv"], on_order=out["order"], lost=out["lost"],
        gap=np.concatenate(gap_parts),
    )
