"""`run --auto` speed: a 1,000,000-row child table of a schema nobody wrote a task for,
against the retail pack's hand-written `sales_daily` (1,000,000 rows) on the same server.

    .venv/bin/python bench/auto.py [--pg-url postgresql://user@host:port/db] [--repeat 3]

The schema is an ordinary application's: a `customer` table (serial key, names, email,
created_at) and an `orders` table (bigserial key, a foreign key to customer, a status
CHECK list, a numeric amount, a quantity with a CHECK range, two timestamps ordered by a
CHECK, a nullable note). seedgraph infers both tasks from the live schema and loads
`orders` with binary COPY. Each measurement runs --repeat times; the median is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

import asyncpg

from bench.common import child, fresh_db, pg_admin
from bench.retail import PACK, SETS, median

DDL = """
CREATE TABLE customer (
    customer_id serial PRIMARY KEY,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email varchar(200) NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    order_id bigserial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customer,
    status text NOT NULL CHECK (status IN ('new', 'paid', 'shipped', 'returned')),
    amount numeric(10,2) NOT NULL CHECK (amount >= 0),
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 20),
    ordered_at timestamptz NOT NULL,
    shipped_at timestamptz,
    note text,
    CHECK (ordered_at < shipped_at)
);
"""


async def schema_db(admin: str) -> str:
    url = await fresh_db(admin, "sg_bench_auto")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(DDL)
    finally:
        await conn.close()
    return url


def auto_run(db: str) -> tuple[float, int, dict[str, tuple[int, float]]]:
    cmd = [sys.executable, "-m", "seedgraph", "run", "--auto", "--db", db, "--seed", "42",
           "--json", "--set", "customer.rows=10000", "--set", "orders.rows=1000000"]
    # outside the repository, whose seedgraph.toml names a pack --auto would merge
    wall, rss, out = child(cmd, cwd=Path(tempfile.gettempdir()))
    doc = json.loads(out)
    return wall, rss, {t["table"]: (t["rows"], t["seconds"]) for t in doc["tasks"]}


def retail_run(db: str) -> dict[str, tuple[int, float]]:
    cmd = [sys.executable, "-m", "seedgraph", "run", "--pack", PACK, "--db", db, "--seed",
           "42", "--json"]
    for s in SETS:
        cmd += ["--set", s]
    doc = json.loads(child(cmd)[2])
    return {t["table"]: (t["rows"], t["seconds"]) for t in doc["tasks"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", help="admin URL of a running server")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with pg_admin(args.pg_url) as admin:
        auto = median([auto_run(asyncio.run(schema_db(admin))) for _ in range(args.repeat)])
        retail = [retail_run(asyncio.run(fresh_db(admin, "sg_bench_retail")))["sales_daily"]
                  for _ in range(args.repeat)]
        sales_rows, sales_s = sorted(retail, key=lambda r: r[1])[len(retail) // 2]
        rows, secs = auto[2]["orders"]
        print(f"median of {args.repeat} runs each")
        print(f"--auto whole run: {auto[0]:.2f} s, peak RSS {auto[1]} MB")
        for name, (n, s) in auto[2].items():
            print(f"    {name:<10} {n:>10,} rows {s:7.2f} s")
        print(f"--auto orders:      {rows:,} rows in {secs:.2f} s = {rows / secs:,.0f} rows/s")
        print(f"retail sales_daily: {sales_rows:,} rows in {sales_s:.2f} s = "
              f"{sales_rows / sales_s:,.0f} rows/s")
        print(f"orders time / sales_daily time: {secs / sales_s:.2f}x")


if __name__ == "__main__":
    main()
