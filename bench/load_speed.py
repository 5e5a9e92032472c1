"""Raw load speed: `pgbench -i -s 10` vs seedgraph loading 1,000,000 rows, same server.

    .venv/bin/python bench/load_speed.py [--pg-url postgresql://...] [--rows N]

Without --pg-url it starts a throwaway PostgreSQL server from the machine's binaries
(as tests do). Prints wall times, their ratio, rows/s, and the seedgraph process's
peak RSS; also SQLite rows/s. Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import child, fresh_db  # noqa: E402
from tests.pgserver import find_bindir, start_server  # noqa: E402

PACK = str(REPO / "bench" / "packs" / "wide")



def task_seconds(stdout: str) -> float:
    """The load itself, as `seedgraph run --json` reports it (no interpreter start-up)."""
    return float(json.loads(stdout)["tasks"][0]["seconds"])



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", help="admin URL of a running server (postgresql://user@host:port/db)")
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    server = None
    if args.pg_url:
        admin = args.pg_url
    else:
        server = start_server()
        admin = server.admin_url
    try:
        bindir = find_bindir()
        pgbench = str(bindir / "pgbench") if bindir else shutil.which("pgbench")
        assert pgbench, "pgbench not found"
        host = admin.split("@")[1].split("/")[0]
        h, p = host.split(":")
        bench_db = asyncio.run(fresh_db(admin, "sg_bench_pgbench"))
        scale = max(1, args.rows // 100_000)
        pg_wall, _, _ = child([pgbench, "-i", "-s", str(scale), "-q", "-h", h, "-p", p,
                            "-U", "postgres", bench_db.rsplit("/", 1)[1]])
        target = asyncio.run(fresh_db(admin, "sg_bench_seedgraph"))
        seed_cmd = [sys.executable, "-m", "seedgraph", "run", "--pack", PACK, "--db", target,
                    "--seed", "1", "--as-of", "2025-01-01", "--json", "--set", f"rows={args.rows}"]
        sg_wall, sg_rss, sg_out = child(seed_cmd)
        sg_load = task_seconds(sg_out)
        with tempfile.TemporaryDirectory() as tmp:
            lite = [sys.executable, "-m", "seedgraph", "run", "--pack", PACK,
                    "--db", f"sqlite:///{tmp}/bench.db", "--seed", "1", "--as-of", "2025-01-01",
                    "--json", "--set", f"rows={args.rows}"]
            lite_wall, lite_rss, lite_out = child(lite)
            lite_load = task_seconds(lite_out)
        print(f"rows                      {args.rows:,}")
        print(f"pgbench -i -s {scale:<3}          {pg_wall:6.2f} s   "
              f"{scale * 100_000 / pg_wall:12,.0f} rows/s")
        print(f"seedgraph -> PostgreSQL   {sg_wall:6.2f} s   {args.rows / sg_wall:12,.0f} rows/s"
              f"   ratio {sg_wall / pg_wall:.2f}x pgbench   peak RSS {sg_rss} MB")
        print(f"  of which the load       {sg_load:6.2f} s   {args.rows / sg_load:12,.0f} rows/s"
              f"   ratio {sg_load / pg_wall:.2f}x pgbench")
        print(f"seedgraph -> SQLite       {lite_wall:6.2f} s   "
              f"{args.rows / lite_wall:12,.0f} rows/s   peak RSS {lite_rss} MB")
        print(f"  of which the load       {lite_load:6.2f} s   "
              f"{args.rows / lite_load:12,.0f} rows/s")
        print("(wall = whole process: interpreter start-up, imports, schema creation, checkpoints;"
              " load = the task as `seedgraph run --json` reports it)")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
