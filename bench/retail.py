"""The headline benchmark: `pgbench -i -s 10` vs seedgraph seeding 1,000,000 sales_daily rows.

    .venv/bin/python bench/retail.py [--pg-url postgresql://user@host:port/db]   # or: make bench
    .venv/bin/python bench/retail.py --executor processes -j 2   # partitions in 2 workers

Both run against the same PostgreSQL server (without --pg-url a throwaway server is
started from the machine's binaries). seedgraph seeds the retail pack with every
pattern on (trend, weekly/monthly seasonality, holidays, noise, anomalies,
promotions, price elasticity, stockouts, launches, end-of-life): 50 stores x 100
products x 206 days, less the days before new products launch (no rows then), =
1,003,350 sales_daily rows at seed 42, plus the same number of inventory snapshots the
sales are simulated against. Prints wall times, the ratio, per-task
times, and the seedgraph process's peak RSS; then the same seeding into SQLite.
Each measurement runs --repeat times (default 3) and the median run is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import child, fresh_db, pg_admin  # noqa: E402
from tests.pgserver import find_bindir  # noqa: E402

PACK = str(REPO / "tasks" / "retail")
SETS = ["stores=50", "products=100", "start_date=2024-01-01", "end_date=2024-07-24"]




def seed(db: str, run_args: list[str]) -> tuple[float, int, dict[str, tuple[int, float]]]:
    cmd = [sys.executable, "-m", "seedgraph", "run", "--pack", PACK, "--db", db, "--seed", "42",
           "--json", *run_args]
    for s in SETS:
        cmd += ["--set", s]
    wall, rss, out = child(cmd)
    doc = json.loads(out)
    return wall, rss, {t["table"]: (t["rows"], t["seconds"]) for t in doc["tasks"]}


def median(runs: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The middle run by wall time (the first element of each result)."""
    return sorted(runs, key=lambda r: r[0])[len(runs) // 2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", help="admin URL of a running server")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each measurement; the median run is reported (default 3)")
    ap.add_argument("--executor", default="local",
                    help="where partitioned tables' partitions run (seedgraph run --executor)")
    ap.add_argument("-j", "--jobs", type=int, default=None,
                    help="seedgraph run -j: partitions (or worker processes) at once")
    args = ap.parse_args()
    run_args = ["--executor", args.executor] + ([] if args.jobs is None else
                                                ["-j", str(args.jobs)])
    with pg_admin(args.pg_url) as admin:
        bindir = find_bindir()
        assert bindir is not None, "PostgreSQL binaries not found"
        host, port = admin.split("@")[1].split("/")[0].split(":")
        pgbench_db = asyncio.run(fresh_db(admin, "sg_bench_pgbench"))
        pgbench = [str(bindir / "pgbench"), "-i", "-s", "10", "-q", "-h", host, "-p", port,
                   "-U", "postgres", pgbench_db.rsplit("/", 1)[1]]
        pg_wall = median([child(pgbench) for _ in range(args.repeat)])[0]
        sg_wall, sg_rss, tasks = median(
            [seed(asyncio.run(fresh_db(admin, "sg_bench_retail")), run_args)
             for _ in range(args.repeat)])
        sales_rows, sales_s = tasks["sales_daily"]
        with tempfile.TemporaryDirectory() as tmp:
            lite_wall, lite_rss, lite_tasks = median(
                [seed(f"sqlite:///{tmp}/retail{i}.db", run_args) for i in range(args.repeat)])
        lite_rows, lite_s = lite_tasks["sales_daily"]
        print(f"median of {args.repeat} runs each; seedgraph run {' '.join(run_args)}")
        print(f"pgbench -i -s 10 (1,000,000 rows)           {pg_wall:7.2f} s")
        print(f"seedgraph retail -> PostgreSQL, whole run    {sg_wall:7.2f} s   "
              f"ratio {sg_wall / pg_wall:.2f}x   peak RSS {sg_rss} MB")
        for name, (rows, secs) in tasks.items():
            print(f"    {name:<26} {rows:>10,} rows {secs:7.2f} s")
        print(f"  sales_daily alone: {sales_rows:,} rows in {sales_s:.2f} s = "
              f"{sales_rows / sales_s:,.0f} rows/s, ratio {sales_s / pg_wall:.2f}x pgbench")
        print(f"seedgraph retail -> SQLite, whole run        {lite_wall:7.2f} s   "
              f"peak RSS {lite_rss} MB")
        print(f"  sales_daily alone: {lite_rows:,} rows in {lite_s:.2f} s = "
              f"{lite_rows / lite_s:,.0f} rows/s")


if __name__ == "__main__":
    main()
