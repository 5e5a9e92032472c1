"""Scale-out benchmark: a CPU-bound partitioned table (bench/packs/cpu, 400,000 rows in 8
partitions) loaded into PostgreSQL by 1 and 2 worker processes, and the same checksum.

    .venv/bin/python -m bench.partitions [--pg-url postgresql://...] [--rows N]

Prints rows/s per setting and the peak RSS of the largest worker; record the figures
in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys

import asyncpg

from bench.common import REPO, child, fresh_db, pg_admin, report_same_bytes

PACK = str(REPO / "bench" / "packs" / "cpu")


async def digest(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT id, kind, note FROM events ORDER BY id")
    finally:
        await conn.close()
    return hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", help="admin URL of a running server (default: start one)")
    ap.add_argument("--rows", type=int, default=400_000)
    args = ap.parse_args()
    results = []
    with pg_admin(args.pg_url) as admin:
        for executor, workers in (("local", 1), ("processes", 1), ("processes", 2)):
            url = asyncio.run(fresh_db(admin, f"bench_parts_{executor}_{workers}"))
            wall, rss, _ = child([sys.executable, "-m", "seedgraph", "run", "--pack", PACK,
                                  "--db", url, "--set", f"rows={args.rows}", "-q",
                                  "--executor", executor, "-j", str(workers)])
            results.append({"executor": executor, "workers": workers, "seconds": round(wall, 2),
                            "rows_per_s": round(args.rows / wall), "peak_rss_mb": rss,
                            "checksum": asyncio.run(digest(url))})
            print(json.dumps(results[-1]), flush=True)
    report_same_bytes(results)


if __name__ == "__main__":
    main()
