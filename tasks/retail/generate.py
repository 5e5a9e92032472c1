"""Pure numpy generation for The Forge: settings, the calendar, the per-day demand
multipliers, and the alternating windows that promotions and supply outages are drawn
from. The inventory and sales simulation built on them is ``simulate``.

Demand for store s, product p, day d is

    base_demand x store size x product popularity x trend(d) x weekly[dow]
    (x weekend spike) x monthly[month] x category month x holiday(d) x lifecycle
    x (price / base_price) ** elasticity x promotion lift x lognormal noise x anomalies
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seedgraph import UsageError

DEFAULT_WEEKLY = (0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 1.2)  # Monday .. Sunday
PROMOTION_DAYS = (3, 14)  # a promotion lasts 3 to 14 days


@dataclass(frozen=True, slots=True)
class Settings:
    start: np.datetime64
    end: np.datetime64
    base_demand: float
    trend: str
    trend_slope: float
    weekly: tuple[float, ...]
    weekend_spike: float
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
    category_seasonality: Mapping[str, Mapping[int, float]]
    new_store_ramp_days: int
    competitor_impact: float
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
    """US retail holidays with demand multipliers (Black Friday peaks, Christmas closes);
    Thanksgiving, Black Friday, Christmas Eve and Christmas Day as 001's config sets them."""
    out = []
    for y in years:
        nov1 = dt.date(y, 11, 1)
        thanksgiving = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 21)
        out += [
            {"date": f"{y}-01-01", "name": "New Year's Day", "multiplier": 0.5},
            {"date": f"{y}-07-04", "name": "Independence Day", "multiplier": 1.3},
            {"date": thanksgiving.isoformat(), "name": "Thanksgiving", "multiplier": 2.0},
            {"date": (thanksgiving + dt.timedelta(days=1)).isoformat(), "name": "Black Friday",
             "multiplier": 3.0},
            {"date": (thanksgiving + dt.timedelta(days=4)).isoformat(), "name": "Cyber Monday",
             "multiplier": 1.6},
            {"date": f"{y}-12-24", "name": "Christmas Eve", "multiplier": 1.5},
            {"date": f"{y}-12-25", "name": "Christmas Day", "multiplier": 0.3},
        ]
    return out


def _months(raw: Any, name: str) -> dict[int, float]:
    """A month -> multiplier mapping such as {"12": 1.5}, checked."""
    if not isinstance(raw, Mapping):
        raise UsageError(f"{name} must map month numbers to multipliers, e.g. {{\"12\": 1.5}}")
    months = {int(k): float(v) for k, v in raw.items()}
    if any(not 1 <= m <= 12 for m in months):
        raise UsageError(f"{name} keys must be months 1-12")
    return months


def settings(params: Mapping[str, Any]) -> Settings:
    """Validate the pack's parameters (clear errors, never a traceback)."""
    start, end = _date(params["start_date"], "start_date"), _date(params["end_date"], "end_date")
    if end < start:
        raise UsageError(f"end_date {end} is before start_date {start}")
    weekly = params["weekly_seasonality"]
    if not isinstance(weekly, list | tuple) or len(weekly) != 7:
        raise UsageError("weekly_seasonality must be a list of 7 multipliers, Monday first")
    monthly = _months(params["monthly_seasonality"] or {}, "monthly_seasonality")
    by_category = params["category_seasonality"] or {}
    if not isinstance(by_category, Mapping):
        raise UsageError("category_seasonality must map categories to month multipliers, "
                         "e.g. {\"Dairy\": {\"7\": 0.7}}")
    category = {str(c): _months(m, f"category_seasonality.{c}") for c, m in by_category.items()}
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
        weekend_spike=_number(params, "weekend_spike", 0, 100),
        noise_sigma=_number(params, "noise_sigma", 0, 5),
        anomaly_probability=_number(params, "anomaly_probability", 0, 1),
        anomaly_magnitude=_number(params, "anomaly_magnitude", 1, 100),
        promotion_lift=_number(params, "promotion_lift", 0, 100),
        promotion_probability=_number(params, "promotion_probability", 0, 1),
        price_elasticity=_number(params, "price_elasticity", -10, 10),
        stockout_behavior=behavior,
        stockout_probability=_number(params, "stockout_probability", 0, 1),
        new_product_ramp_days=int(_number(params, "new_product_ramp_days", 0, 3650)),
        category_seasonality=category,
        new_store_ramp_days=int(_number(params, "new_store_ramp_days", 0, 3650)),
        competitor_impact=_number(params, "competitor_impact", 0, 10),
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
    """trend x weekly (x weekend spike on Saturday and Sunday) x monthly x holiday, per day;
    the trend counts days since *origin*."""
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
    weekly = np.asarray(s.weekly)[dow] * np.where(dow >= 5, s.weekend_spike, 1.0)
    monthly = np.array([s.monthly.get(int(m), 1.0) for m in range(1, 13)])[month - 1]
    holiday = np.array([s.holidays.get(x, ("", 1.0))[1] for x in dates])
    out: np.ndarray = trend * weekly * monthly * holiday
    return out


def alternating(rng: np.random.Generator, begin: np.ndarray, span: int, share: float,
                lengths: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows covering *share* of each series' days from day ``begin[i]`` to ``span - 1``.

    Windows of ``lengths`` days (uniform) alternate with gaps of geometric length (0 or
    more days) whose mean, ``mean window x (1 - share) / share``, makes windows a *share*
    of the time. The alternation starts in equilibrium: day ``begin`` is inside a window
    with probability *share* (that window's remaining days drawn as a window in progress
    would have them: its length size-biased, the day uniform within it), otherwise the
    first window starts after a gap's remaining days (geometric again). So every day, the
    first one included, is covered with probability exactly *share*, and the covered share
    of any range is *share* in expectation. Returns (series, first, last), sorted.
    """
    n = len(begin)
    empty = np.zeros(0, dtype=np.int64)
    if share <= 0 or n == 0:
        return empty, empty, empty.copy()
    lo, hi = lengths
    sizes = np.arange(lo, hi + 1)
    q = 1.0 if share >= 1 else share / (share + sizes.mean() * (1 - share))
    inside = rng.random(n) < share
    in_progress = rng.choice(sizes, n, p=sizes / sizes.sum())
    length = np.where(inside, rng.integers(1, in_progress + 1), rng.integers(lo, hi + 1, n))
    day = np.where(inside, begin, begin + rng.geometric(q, n)).astype(np.int64)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while (live := np.flatnonzero(day < span)).size:
        first = day[live]
        last = np.minimum(first + length[live] - 1, span - 1)
        found.append((live, first, last))
        day[live] = last + rng.geometric(q, live.size)
        length[live] = rng.integers(lo, hi + 1, live.size)
    if not found:
        return empty, empty, empty.copy()
    series, first, last = (np.concatenate(parts) for parts in zip(*found, strict=True))
    order = np.lexsort((first, series))
    return series[order], first[order], last[order]


@dataclass(frozen=True, slots=True)
class Windows:
    """Date windows painted onto series x day matrices (price or promotion windows).

    ``series`` indexes the simulation's series; ``first`` and ``last`` are day offsets
    from the simulation's start (inclusive); windows of one series never overlap.
    """

    series: np.ndarray
    first: np.ndarray
    last: np.ndarray
    value: np.ndarray

    def paint(self, out: np.ndarray, day0: int, fill: Any) -> None:
        """Write ``value`` (or *fill*) into ``out[day - day0, series]`` for days inside."""
        days = out.shape[0]
        hit = (self.last >= day0) & (self.first < day0 + days)
        a = np.maximum(self.first[hit], day0) - day0
        b = np.minimum(self.last[hit], day0 + days - 1) - day0 + 1
        length = b - a
        if not length.sum():
            return
        row_start = np.repeat(np.cumsum(length) - length, length)
        day = np.repeat(a, length) + np.arange(int(length.sum())) - row_start
        out[day, np.repeat(self.series[hit], length)] = (
            np.repeat(self.value[hit], length) if fill is None else fill)
