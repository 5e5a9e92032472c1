"""The figures of docs/pack-retail.md, "What the data looks like", from a seeded database.

    seedgraph run --pack tasks/retail --db sqlite:////tmp/retail.db --seed 42
    python bench/retail_shape.py --db sqlite:////tmp/retail.db        # or postgresql://...

Reads an already-seeded retail database (SQLite or PostgreSQL, any URL seedgraph takes)
and prints: mean units per store x product x day (the mean of ``sales_daily.quantity``)
by month and by weekday, on promotion vs the other days, on each named holiday of the
calendar; the number of sales rows and the share promoted; the snapshots with lost
sales and their share, and the share that closed empty (``on_hand_qty = 0``) without
lost sales; and one series, store 1 / product 3, from 2024-11-26 to 2024-11-30 (units,
price, promotion, on hand at close). It seeds nothing and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from seedgraph.backends import Database, parse_url  # noqa: E402

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SERIES = (1, 3, "2024-11-26", "2024-11-30")  # store, product, first and last day


async def fetch(url: str) -> dict[str, list[tuple[Any, ...]]]:
    sqls = {
        "calendar": "SELECT date, day_of_week, month, holiday_name FROM calendar",
        # one row per day and promotion flag: portable SQL, the grouping is done here
        "sales": "SELECT date, on_promotion, SUM(quantity), COUNT(*) FROM sales_daily "
                 "GROUP BY date, on_promotion",
        "snapshots": "SELECT COUNT(*), SUM(CASE WHEN lost_sales_qty > 0 THEN 1 ELSE 0 END), "
                     "SUM(CASE WHEN on_hand_qty = 0 AND lost_sales_qty = 0 THEN 1 ELSE 0 END) "
                     "FROM inventory_snapshot_daily",
        "series": "SELECT i.date, s.quantity, s.unit_price, s.on_promotion, i.on_hand_qty "
                  "FROM inventory_snapshot_daily i LEFT JOIN sales_daily s ON s.date = i.date "
                  "AND s.store_id = i.store_id AND s.product_id = i.product_id "
                  "WHERE i.store_id = :store AND i.product_id = :product ORDER BY i.date",
    }
    db = await Database.open(parse_url(url))
    try:
        out = {}
        for name, sql in sqls.items():
            if name == "series":
                sql = sql.replace(":store", str(SERIES[0])).replace(":product", str(SERIES[1]))
            out[name] = await db.query(sql)
        return out
    finally:
        await db.close()


def day(value: Any) -> str:
    return str(value)[:10]


def report(data: dict[str, list[tuple[Any, ...]]]) -> str:
    dow = {day(d): int(w) for d, w, _, _ in data["calendar"]}
    month = {day(d): int(m) for d, _, m, _ in data["calendar"]}
    holiday = {day(d): h for d, _, _, h in data["calendar"] if h}
    total: dict[tuple[str, Any], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for d, promo, units, n in data["sales"]:
        for key in (("month", month[day(d)]), ("weekday", dow[day(d)]), ("promo", bool(promo)),
                    ("day", day(d)), ("all", None)):
            total[key][0] += float(units)
            total[key][1] += int(n)

    def mean(key: tuple[str, Any]) -> float:
        units, n = total[key]
        return units / n

    lines = ["| month | " + " | ".join(str(m) for m in range(1, 13)) + " |",
             "|---|" + "---|" * 12,
             "| units | " + " | ".join(f"{mean(('month', m)):.1f}" for m in range(1, 13)) + " |",
             "",
             "| weekday | " + " | ".join(WEEKDAYS) + " |",
             "|---|" + "---|" * 7,
             "| units | " + " | ".join(f"{mean(('weekday', w)):.1f}" for w in range(7)) + " |",
             "",
             f"Promotion days {mean(('promo', True)):.1f} vs {mean(('promo', False)):.1f} "
             "otherwise"]
    lines += [f"{name} ({d}) {mean(('day', d)):.1f}" for d, name in sorted(holiday.items())
              if ("day", d) in total]
    rows, promoted = int(total[("all", None)][1]), int(total[("promo", True)][1])
    snaps, lost, empty = (int(x or 0) for x in data["snapshots"][0])
    lines += [f"{rows:,} sales rows; {100 * promoted / rows:.2f} % of them promoted",
              f"{lost:,} snapshots ({100 * lost / snaps:.2f} %) had lost sales, of {snaps:,}; "
              f"{100 * empty / snaps:.1f} % closed empty without lost sales",
              "",
              f"store {SERIES[0]}, product {SERIES[1]}:",
              "| date | units | price | promo | on hand at close |",
              "|---|---|---|---|---|"]
    for d, units, price, promo, on_hand in data["series"]:
        if SERIES[2] <= day(d) <= SERIES[3]:
            name = f" ({holiday[day(d)]})" if day(d) in holiday else ""
            sold = "-" if units is None else str(units)
            shown = "-" if price is None else f"{float(price):.2f}"
            flag = "-" if promo is None else ("yes" if promo else "no")
            lines.append(f"| {day(d)}{name} | {sold} | {shown} | {flag} | {on_hand} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="URL of a seeded retail database")
    args = ap.parse_args()
    print(report(anyio.run(fetch, args.db)))


if __name__ == "__main__":
    main()
