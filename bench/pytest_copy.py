"""Per-test setup time of the pytest plugin: a copy of a seeded template vs seeding anew.

    .venv/bin/python bench/pytest_copy.py [--pg-url postgresql://user@host:port/postgres]
        [--copies 30] [--scratch 3] [--only-case mini]

For every case (a pack and its settings) and both backends it measures, with the
plugin's own backends (seedgraph/pytest_plugin.py):

* scratch:  what a test would pay without the plugin: a new empty database plus a
            full ``seedgraph run`` into it (median of --scratch);
* copy:     what ``seedgraph_db`` pays before each test: ``CREATE DATABASE ... TEMPLATE``
            on PostgreSQL, a file copy on SQLite (median of --copies);
* drop:     what it pays after each test (``DROP DATABASE ... WITH (FORCE)`` / unlink).

Those are the raw costs, one after the other. In a pytest session the plugin makes the
next PostgreSQL copy while the current test runs and drops copies in the background, so
it then runs a real session of --copies tests (each one query, then a --test-ms sleep)
with the mini pack and reports what the plugin's summary line says the tests waited.

Without --pg-url a throwaway PostgreSQL server is started from the machine's binaries
(tests/pgserver.py) and stopped at the end. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from seedgraph import api  # noqa: E402
from seedgraph.backends.templates import Loop, Postgres, Sqlite  # noqa: E402
from tests.pgserver import start_server  # noqa: E402

CASES: dict[str, dict[str, Any]] = {
    "mini": {"pack": str(REPO / "tests" / "packs" / "mini"), "sets": {}},
    "retail": {"pack": str(REPO / "tasks" / "retail"),
               "sets": {"stores": 5, "products": 20}},
    "home_security": {"pack": str(REPO / "tasks" / "home_security"),
                      "sets": {"images": 4000, "days": 14, "jobs": 3000}},
}


def _ms(f: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    f()
    return 1000 * (time.perf_counter() - t0)


def _rows(loop: Loop, url: str) -> int:
    async def go() -> int:
        from seedgraph.backends import Database, parse_url

        db = await Database.open(parse_url(url))
        try:
            rows = await db.query("SELECT SUM(rows) FROM seedgraph_state")
            return int(rows[0][0] or 0)
        finally:
            await db.close()

    return loop.run(go())


def _ratio(x: float) -> str:
    return f"{x:,.0f}x" if x >= 10 else f"{x:.1f}x"


def measure(backend: Any, loop: Loop, case: dict[str, Any], copies: int,
            scratch: int) -> dict[str, float]:
    def seed(name: str) -> None:
        backend.create_empty(name)
        options = api.Options(pack=case["pack"], db=backend.url_for(name), seed=7,
                              as_of="2026-01-15", sets=case["sets"], concurrency=2)
        result = loop.run(api.run(options, handle_signals=False))
        assert result.status == "done", result

    fresh = []
    for i in range(scratch):
        fresh.append(_ms(lambda i=i: seed(f"sg_bench_scratch_{i}")))
        backend.drop(f"sg_bench_scratch_{i}")
    seed("sg_bench_tpl")
    backend.after_seeding("sg_bench_tpl")
    made, dropped = [], []
    for i in range(copies):
        made.append(_ms(lambda i=i: backend.copy("sg_bench_tpl", f"sg_bench_copy_{i}")))
        if i == 0:
            rows = _rows(loop, backend.url_for("sg_bench_copy_0"))
        dropped.append(_ms(lambda i=i: backend.drop(f"sg_bench_copy_{i}")))
    backend.drop("sg_bench_tpl")
    return {"rows": rows, "scratch": statistics.median(fresh),
            "copy": statistics.median(made), "drop": statistics.median(dropped)}


SESSION_TEST = """
import time

from tests.helpers import query


def test_{i}(seedgraph_db):
    assert query(seedgraph_db, "SELECT COUNT(*) FROM customers")[0][0] == 200
    time.sleep({ms} / 1000)
"""


def pytest_session(where: str, tests: int, test_ms: int) -> tuple[float, float]:
    """A real pytest session: (wall seconds, ms each test waited for its copy)."""
    from importlib.metadata import entry_points

    installed = any(ep.value == "seedgraph.pytest_plugin"
                    for ep in entry_points(group="pytest11"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text(
            f"[pytest]\nseedgraph_pack = {CASES['mini']['pack']}\nseedgraph_seed = 7\n"
            "seedgraph_as_of = 2026-01-15\n")
        (root / "test_many.py").write_text("".join(
            SESSION_TEST.format(i=i, ms=test_ms) for i in range(tests)))
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               *([] if installed else ["-p", "seedgraph.pytest_plugin"]),
               "--seedgraph-url", where]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
        t0 = time.perf_counter()
        out = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
    found = re.search(r"tests waited ([\d.]+) ms each", out.stdout)
    if out.returncode != 0 or not found:
        raise SystemExit(f"the pytest session failed:\n{out.stdout[-3000:]}{out.stderr}")
    return wall, float(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg-url", help="a server whose user may CREATE DATABASE")
    ap.add_argument("--copies", type=int, default=30)
    ap.add_argument("--scratch", type=int, default=3)
    ap.add_argument("--only-case", choices=sorted(CASES), action="append")
    ap.add_argument("--test-ms", type=int, default=0,
                    help="how long each test of the pytest session runs (default 0)")
    args = ap.parse_args()
    server = None
    if args.pg_url is None:
        server = start_server()
    pg_url = args.pg_url or server.admin_url  # type: ignore[union-attr]
    loop = Loop()
    lines = ["| pack (settings) | database | rows | seed from scratch per test | copy per "
             "test (setup) | drop per test (teardown) | speed-up of setup |",
             "|---|---|---:|---:|---:|---:|---:|"]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            backends = {"SQLite": Sqlite(Path(tmp)), "PostgreSQL": Postgres(pg_url, loop)}
            for name in args.only_case or list(CASES):
                case = CASES[name]
                label = name + (f" ({', '.join(f'{k}={v}' for k, v in case['sets'].items())})"
                                if case["sets"] else "")
                for kind, backend in backends.items():
                    r = measure(backend, loop, case, args.copies, args.scratch)
                    lines.append(f"| {label} | {kind} | {int(r['rows']):,} | "
                                 f"{r['scratch']:,.0f} ms | {r['copy']:.1f} ms | "
                                 f"{r['drop']:.1f} ms | {_ratio(r['scratch'] / r['copy'])} |")
                    print(lines[-1], file=sys.stderr, flush=True)
            backends["PostgreSQL"].close()
        lines += ["", f"pytest session, mini pack, {args.copies} tests of one query + "
                  f"{args.test_ms} ms:", "",
                  "| database | session wall time | tests waited for their copy |",
                  "|---|---:|---:|"]
        with tempfile.TemporaryDirectory() as tmp:
            for kind, where in (("SQLite", f"sqlite:///{tmp}"), ("PostgreSQL", pg_url)):
                wall, waited = pytest_session(where, args.copies, args.test_ms)
                lines.append(f"| {kind} | {wall:.1f} s | {waited:.1f} ms each |")
                print(lines[-1], file=sys.stderr, flush=True)
    finally:
        loop.close()
        if server is not None:
            server.stop()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
