"""A whole table's foreign keys are detached for its load in a short transaction of their
own (seedgraph.detach): its parents stay readable while it loads, the keys come back
with the rows (or at once when the load fails), and keys a dead run left detached are
re-added by the next run before it plans, or the run stops naming them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import anyio
import asyncpg

from tests.helpers import AS_OF, MINI, REPO, cli, execute, query, run_engine

KEYS = ("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY 1, 2")


def _keys(url: str) -> list[tuple[str, str, str]]:
    return [(str(a), str(b), str(c)) for a, b, c in query(url, KEYS)]


def _journal(url: str) -> list[tuple[str, ...]]:
    return [tuple(r) for r in query(url, "SELECT table_name FROM seedgraph_detached")]


def test_a_failed_load_gets_its_keys_back_at_once(pg_url: str, pg) -> None:  # type: ignore[no-untyped-def]
    reference = pg.new()
    run_engine(reference)
    os.environ["MINI_FAIL"] = "orders"
    try:
        result = run_engine(pg_url)
    finally:
        del os.environ["MINI_FAIL"]
    assert result.status == "failed"
    assert _keys(pg_url) == _keys(reference) and len(_keys(pg_url)) >= 4
    assert _journal(pg_url) == []


def _spawn(url: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SEEDGRAPH_", "MINI_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "seedgraph", "run", "--pack", MINI, "--db", url, "--seed", "7",
         "--as-of", AS_OF, "--quiet", *args], cwd=REPO, env={**full, **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def _count_within(url: str, table: str, seconds: float) -> int:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f"SET lock_timeout = '{int(seconds * 1000)}ms'")
        return int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}"))
    finally:
        await conn.close()


def test_a_parent_stays_readable_while_its_child_loads(pg_url: str, tmp_path: Path) -> None:
    """orders loads in 4 bulk chunks (tiny chunks count as bulk), 1.5 s apart: its key
    to customers is away meanwhile, and customers answers a reader at once (with the
    key dropped inside the load's transaction, the reader waited for the whole load)."""
    config = tmp_path / "seedgraph.toml"
    config.write_text("chunk_rows = 10\n")
    proc = _spawn(pg_url, {"MINI_SLEEP": "orders:1.5"}, "--config", str(config))
    try:
        deadline = time.time() + 60
        while not (_exists(pg_url) and query(
                pg_url, "SELECT COUNT(*) FROM seedgraph_tasks WHERE table_name = 'orders' "
                        "AND status = 'running'")[0][0]):
            assert proc.poll() is None and time.time() < deadline, proc.stderr.read() \
                if proc.stderr else ""
            time.sleep(0.05)
        time.sleep(1.0)  # orders is writing its chunks now
        assert anyio.run(_count_within, pg_url, "customers", 1.0) > 0
        assert "orders" not in {t for t, _, _ in _keys(pg_url)}
        assert _journal(pg_url) == [("orders",)]
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "orders" in {t for t, _, _ in _keys(pg_url)}
    assert _journal(pg_url) == []


def _exists(url: str) -> bool:
    try:
        query(url, "SELECT 1 FROM seedgraph_detached LIMIT 1")
    except Exception:
        return False
    return True


def _as_a_dead_run_left_it(url: str) -> tuple[str, str, str]:
    """orders' key to customers dropped and recorded, as a run killed mid-load leaves it."""
    key = next(k for k in _keys(url) if k[0] == "orders")
    execute(url, f'ALTER TABLE orders DROP CONSTRAINT "{key[1]}"')
    keys = {"parents": ["customers"],
            "statements": [f'ALTER TABLE "orders" ADD CONSTRAINT "{key[1]}" {key[2]}']}
    execute(url, "INSERT INTO seedgraph_detached (table_name, keys, run_id, updated_at) "
                 "VALUES ('orders', ?, 1, 'then')", (json.dumps(keys),))
    return key


def test_keys_a_dead_run_left_detached_are_re_added_first(pg_url: str) -> None:
    run_engine(pg_url)
    before = _keys(pg_url)
    key = _as_a_dead_run_left_it(pg_url)
    assert key not in _keys(pg_url)
    again = cli("run", "--pack", MINI, "--db", pg_url, "--seed", "7", "--as-of", AS_OF,
                "--quiet")
    assert again.returncode == 0, again.stderr
    assert _keys(pg_url) == before and _journal(pg_url) == []


def test_keys_that_no_longer_hold_stop_the_run_naming_them(pg_url: str) -> None:
    run_engine(pg_url)
    _as_a_dead_run_left_it(pg_url)
    execute(pg_url, "UPDATE orders SET customer_id = 999999 WHERE id = 1")
    out = cli("run", "--pack", MINI, "--db", pg_url, "--seed", "7", "--as-of", AS_OF)
    assert out.returncode != 0
    assert "orders" in out.stderr and "cannot be re-added" in out.stderr
    assert "Traceback" not in out.stderr
    assert _journal(pg_url) == [("orders",)]  # kept: the next run tries again
