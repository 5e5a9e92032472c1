"""Pure numpy generation for The Forge: settings, calendar, demand, and the inventory
simulation that sales and inventory snapshots share.

Demand for store s, product p, day d is

    base_demand x store size x product popularity x trend(d) x weekly[dow] x monthly[month]
    x holiday(d) x lifecycle(p, d) x (price / base_price) ** elasticity x promotion lift
    x lognormal noise x anomalies

and units sold are a Poisson draw of it, capped by what is on hand: inventory is
simulated day by day (vectorised over every series, a chunk of days at a time) with
an order-up-to policy, a lead time and random lost shipments, so a stockout means
zero (or backlogged) sales while on-hand is zero. Chunks come out in the tables'
key order (date, store, product), which is what both databases load fastest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seedgraph import UsageError

DEFAULT_WEEKLY = (0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 1.2)  # Monday .. Sunday
LEAD_TIME_DAYS = 2
PROMOTION_DAYS = (3, 14)  # a promotion lasts 3 to 14 days
STOCKOUT_DAYS = (1, 5)  # a supply outage empties the shelf for 1 to 5 days
RUN_DOWN_DAYS = 14  # before an outage the supplier only tops the shelf up to the day's demand


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


@dataclass(frozen=True, slots=True)
class Series:
    """Every (store, product) a store carries, in (store_id, product_id) order, with what
    the simulation needs per series. Day offsets count from the simulation's start; NaN
    means "long before it" (launch, opening) or "never" (end of life, competitor)."""

    store_id: np.ndarray
    product: np.ndarray  # index into the product arrays
    scale: np.ndarray  # base demand x store size x product popularity
    base_price: np.ndarray
    launch: np.ndarray  # the product's launch
    eol: np.ndarray  # the product's end of life
    prices: Windows
    promos: Windows
    opened: np.ndarray = field(default_factory=lambda: np.zeros(0))  # the store's opening
    competitor: np.ndarray = field(default_factory=lambda: np.zeros(0))  # a rival opens
    season: np.ndarray | None = None  # (12, series) month multipliers of the category

    def __post_init__(self) -> None:
        n = len(self.store_id)
        for name in ("opened", "competitor"):
            if len(getattr(self, name)) != n:
                object.__setattr__(self, name, np.full(n, np.nan))

    @property
    def live_from(self) -> np.ndarray:
        """The first day each series is on sale: the store is open and the product launched
        (a large negative number when that was before the start). Nothing exists before:
        no stock, no orders, no rows."""
        first = np.fmax(self.opened, self.launch)
        return np.where(np.isnan(first), -(2 ** 40), first).astype(np.int64)


def category_season(s: Settings, categories: np.ndarray) -> np.ndarray:
    """Per series, the month multipliers of its product's category, shape (12, series)."""
    out = np.ones((12, len(categories)))
    for name, months in s.category_seasonality.items():
        hit = categories == name
        for m, v in months.items():
            out[m - 1, hit] = v
    return out


@dataclass(frozen=True, slots=True)
class Chunk:
    """A run of consecutive days for every series; arrays are (days, series), so
    ``ravel()`` lists rows in (date, store_id, product_id) order, the tables' key."""

    dates: np.ndarray
    quantity: np.ndarray  # units sold
    price: np.ndarray  # unit price paid (after promotion discounts)
    promo: np.ndarray  # bool
    on_hand: np.ndarray  # end of day
    received: np.ndarray
    on_order: np.ndarray
    lost: np.ndarray
    gap: np.ndarray  # bool: no sales row (data gaps)
    live: np.ndarray  # bool: the series is on sale (no rows before the store opens)


def _ramp(since: np.ndarray, days: np.ndarray, ramp_days: int) -> np.ndarray:
    """0 before *since*, then rising linearly to 1 over *ramp_days* (1 where NaN)."""
    age = days[:, None] - since[None, :]
    up: np.ndarray = np.where(np.isnan(since)[None, :], 1.0,
                              np.clip((age + 1) / max(ramp_days, 1), 0, 1))
    return up


def lifecycle(s: Settings, series: Series, days: np.ndarray) -> np.ndarray:
    """Per (day, series): the product's launch ramp and end-of-life decline, the store's
    opening ramp and the drop once a competitor opens; *days* are offsets."""
    after = days[:, None] - series.eol[None, :]
    down = np.where(np.isnan(series.eol)[None, :], 1.0, np.clip(1 - after / 30, 0, 1))
    rival = np.where(days[:, None] >= series.competitor[None, :], s.competitor_impact, 1.0)
    out: np.ndarray = (_ramp(series.launch, days, s.new_product_ramp_days) * down
                       * _ramp(series.opened, days, s.new_store_ramp_days) * rival)
    return out


def simulate(s: Settings, series: Series, rng: np.random.Generator, *, origin: np.datetime64,
             start: tuple[np.ndarray, np.ndarray] | None = None,
             chunk_cells: int = 150_000) -> Iterator[Chunk]:
    """Simulate demand, ordering and sales day by day for every series at once.

    Yields chunks of consecutive days (at most *chunk_cells* cells, so memory stays
    bounded however long the range). Stores order up to a week of forecast demand (an
    exponentially weighted average of the demand they saw) when stock plus open orders
    falls under three days' worth; deliveries take ``LEAD_TIME_DAYS``.

    Stockouts come from supply outages that cover ``stockout_probability`` of the days a
    series is on sale (``alternating``; 1-5 days each). During an outage nothing arrives
    and the shelf is empty, so every unit of demand is lost (or backlogged). For the shelf
    to be empty when an outage begins, in the ``RUN_DOWN_DAYS`` before it the supplier
    caps deliveries at the demand still due before the outage (days are drawn a chunk
    ahead, so it knows), and the shelf closes empty on the outage's eve; at any time but
    an outage the distribution centre tops a store up when its stock and delivery would
    not cover the day. So the shelf runs empty exactly in outages, and the share of stockout
    days is the parameter, not a by-product of the ordering policy.

    *start* is (on hand, on order) carried over from the last snapshot when appending;
    on-order stock arrives on the first day. *origin* is the first day of the whole
    history (the trend counts from it).
    """
    dates = s.dates
    n, total = len(series.store_id), len(dates)
    # a chunk spans at least the run-down, so the next chunk holds the demand a run-down
    # looks ahead to
    per_chunk = max(RUN_DOWN_DAYS, chunk_cells // max(n, 1))
    mult = day_multipliers(s, dates, origin)
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    season = np.ones((12, n)) if series.season is None else series.season
    live_from = series.live_from
    slots = LEAD_TIME_DAYS + 1
    arrivals = np.zeros((slots, n), dtype=np.int64)
    gap_begin = rng.integers(0, max(total, 1), (s.random_gaps_per_series, n))
    gap_end = gap_begin + rng.integers(3, 11, (s.random_gaps_per_series, n))
    out_series, out_first, out_last = alternating(rng, np.maximum(live_from, 0), total,
                                                  s.stockout_probability, STOCKOUT_DAYS)
    outages = Windows(out_series, out_first, out_last, np.ones(len(out_series)))
    # run-down days carry the day their outage begins; a run-down starts after the
    # series' previous outage, so run-downs never overlap
    after_last = np.where(np.append(False, out_series[1:] == out_series[:-1]),
                          np.append(0, out_last[:-1] + 1), -RUN_DOWN_DAYS - 1)
    run_downs = Windows(out_series, np.maximum(out_first - RUN_DOWN_DAYS, after_last),
                        out_first - 1, out_first.astype(float))

    def draw(day0: int) -> dict[str, np.ndarray]:
        """A chunk's prices, promotions, demand, outages and gaps (its random draws)."""
        days = np.arange(day0, min(day0 + per_chunk, total))
        d = len(days)
        price = np.broadcast_to(series.base_price, (d, n)).copy()
        series.prices.paint(price, day0, None)
        discount = np.zeros((d, n))
        series.promos.paint(discount, day0, None)
        promo = np.zeros((d, n), dtype=bool)
        series.promos.paint(promo, day0, True)
        paid = np.round(price * (1.0 - discount), 2)
        elastic = np.power(np.maximum(paid, 0.01) / series.base_price, s.price_elasticity)
        noise = rng.lognormal(-0.5 * s.noise_sigma ** 2, s.noise_sigma, (d, n))
        anomaly = np.where(rng.random((d, n)) < s.anomaly_probability,
                           np.where(rng.random((d, n)) < 0.5, s.anomaly_magnitude,
                                    1.0 / s.anomaly_magnitude), 1.0)
        mean = (series.scale * mult[days][:, None] * season[month[days]]
                * lifecycle(s, series, days) * elastic
                * np.where(promo, s.promotion_lift, 1.0) * noise * anomaly)
        outage = np.zeros((d, n), dtype=bool)
        outages.paint(outage, day0, True)
        due = np.full((d, n), -1.0)
        run_downs.paint(due, day0, None)
        gap = np.zeros((d, n), dtype=bool)
        for b, e in zip(gap_begin, gap_end, strict=True):
            gap |= (days[:, None] >= b) & (days[:, None] < e)
        return {"days": days, "paid": paid, "promo": promo, "mean": mean,
                "demand": rng.poisson(mean), "outage": outage,
                "due": np.where(outage, -1, due).astype(np.int64), "gap": gap,
                "live": days[:, None] >= live_from[None, :]}

    forecast = on_hand = pending = None
    backlog = np.zeros(n)
    if start is not None:
        arrivals[0] = start[1]
    column = np.arange(n)
    nxt = draw(0) if total else None
    while nxt is not None:
        c = nxt
        days, mean, demand = c["days"], c["mean"], c["demand"]
        outage, due = c["outage"], c["due"]
        day0, d = int(days[0]), len(days)
        nxt = draw(day0 + d) if day0 + d < total else None
        # demand from this chunk's first day to the next chunk's last, cumulated
        ahead = demand if nxt is None else np.concatenate([demand, nxt["demand"]])
        cum = np.vstack([np.zeros((1, n), dtype=np.int64), np.cumsum(ahead, axis=0)])
        if forecast is None:
            forecast = mean[:7].mean(axis=0)
            pending = arrivals[0].copy()
            stocked = (live_from < 0) & ~outage[0] & (due[0] < 0)
            on_hand = (np.where(stocked, np.ceil(forecast * 7 + 5), 0).astype(np.int64)
                       if start is None else np.asarray(start[0], dtype=np.int64))
        assert on_hand is not None and pending is not None
        out = {k: np.zeros((d, n), dtype=np.int64) for k in ("sold", "hand", "recv", "order",
                                                             "lost")}
        for i, t in enumerate(days.tolist()):
            slot = t % slots
            regular = arrivals[slot].copy()  # a copy: the slot is emptied next
            pending = pending - regular
            arrivals[slot] = 0
            opens = live_from == t  # the first day on sale: the opening stock arrives
            if opens.any():
                forecast = np.where(opens, mean[i], forecast)
                regular = regular + np.where(opens, np.ceil(mean[i] * 7 + 5), 0).astype(
                    np.int64)
            want = demand[i] + (backlog if s.stockout_behavior == "backlog" else 0)
            short = np.maximum(want - on_hand, 0).astype(np.int64)
            # running down: deliver no more than the demand due before the outage begins
            until = np.clip(due[i] - day0, i, cum.shape[0] - 1)
            cap = np.maximum(cum[until, column] - cum[i] - on_hand, 0)
            delivered = np.where(due[i] >= 0, np.minimum(regular, cap), regular)
            arrived = np.where(outage[i], 0, np.maximum(delivered, short))
            available = on_hand + arrived
            sold = np.minimum(want, available).astype(np.int64)
            unmet = want - sold
            if s.stockout_behavior == "backlog":
                backlog = np.minimum(unmet, np.ceil(forecast * 3))
            on_hand = available - sold
            forecast = 0.8 * forecast + 0.2 * demand[i]
            position = on_hand + pending
            order = np.where(c["live"][i] & (position <= np.ceil(forecast * 3 + 2)),
                             np.ceil(forecast * 7 + 5).astype(np.int64) - position, 0)
            arrivals[(t + LEAD_TIME_DAYS) % slots] += order
            pending = pending + order
            out["sold"][i], out["hand"][i], out["recv"][i] = sold, on_hand, arrived
            out["order"][i] = pending
            if s.stockout_behavior == "zero":
                out["lost"][i] = unmet
        yield Chunk(dates=dates[days], quantity=out["sold"], price=c["paid"],
                    promo=c["promo"], on_hand=out["hand"], received=out["recv"],
                    on_order=out["order"], lost=out["lost"], gap=c["gap"], live=c["live"])
