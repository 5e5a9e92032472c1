"""The inventory and sales simulation that inventory snapshots and sales share.

Units sold are a Poisson draw of the demand (``generate``'s multipliers per series and
day), capped by what is on hand: inventory is simulated day by day (vectorised over
every series, a chunk of days at a time) with an order-up-to policy, a lead time, and
supply outages that empty the shelf for a set share of the days, so a stockout means
zero (or backlogged) sales while on-hand is zero. Chunks come out in the tables' key
order (date, store, product), which is what both databases load fastest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .generate import Settings, Windows, alternating, day_multipliers

LEAD_TIME_DAYS = 2
STOCKOUT_DAYS = (1, 5)  # a supply outage empties the shelf for 1 to 5 days
RUN_DOWN_DAYS = 14  # before an outage, deliveries are capped at the demand due before it


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
            # (np.clip's dispatch costs more than the work on one store's few series)
            until = np.minimum(np.maximum(due[i] - day0, i), cum.shape[0] - 1)
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
