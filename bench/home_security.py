"""Home-security pack benchmark: the pack at N images (100,000 by default) loaded into a
fresh PostgreSQL database in this process (``--executor local``) and by two worker
processes (``--executor processes -j 2``), with the peak memory of every process and a
check that both give the same database.

    .venv/bin/python -m bench.home_security [--pg-url postgresql://...] [--images N]
        [--source DIR]   # run another checkout's seedgraph and pack (e.g. a git worktree
                         # of an older commit), to measure before and after

Prints one JSON line per setting; record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
from pathlib import Path

import asyncpg

from bench.common import REPO, child_tree, drop_db, fresh_db, pg_admin, report_same_bytes


async def digest(url: str) -> str:
    """One checksum over every table's rows (in key order)."""
    conn = await asyncpg.connect(url)
    try:
        tables = [r[0] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        h = hashlib.sha256()
        for t in tables:
            rows = await conn.fetch(f'SELECT md5(string_agg(h, \'\' ORDER BY h)) FROM '
                                    f'(SELECT md5(x::text) AS h FROM "{t}" x) r')
            h.update(f"{t}:{rows[0][0]};".encode())
    finally:
        await conn.close()
    return h.hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", help="admin URL of a running server (default: start one)")
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--source", type=Path, default=REPO,
                    help="the checkout whose seedgraph and pack run (default: this one)")
    ap.add_argument("--executors", default="local,processes",
                    help="comma-separated: local, processes (with -j JOBS)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default: 2)")
    args = ap.parse_args()
    source = args.source.resolve()
    env = {**os.environ, "PYTHONPATH": str(source)}
    results = []
    with pg_admin(args.pg_url) as admin:
        for executor in args.executors.split(","):
            url = asyncio.run(fresh_db(admin, f"bench_hs_{executor}"))
            cmd = [sys.executable, "-m", "seedgraph", "run", "--pack",
                   str(source / "tasks" / "home_security"), "--db", url, "--seed", "42",
                   "--as-of", "2026-01-15", "--set", f"images={args.images}", "--json"]
            if executor == "processes":
                cmd += ["--executor", "processes", "-j", str(args.jobs)]
            wall, peaks, out = child_tree(cmd, cwd=Path("/tmp"), env=env)
            run = json.loads(out)
            results.append({
                "source": str(source), "images": args.images,
                "executor": executor if executor == "local" else f"{executor} -j {args.jobs}",
                "rows": run["rows"], "task_seconds": round(run["seconds"], 1),
                "wall_seconds": round(wall, 1), "rows_per_s": round(run["rows"] / run["seconds"]),
                "peak_rss_mb": peaks, "checksum": asyncio.run(digest(url))})
            asyncio.run(drop_db(admin, f"bench_hs_{executor}"))
            print(json.dumps(results[-1]), flush=True)
    report_same_bytes(results)


if __name__ == "__main__":
    main()
