"""Run `seedgraph run --auto` end to end on the public sample schemas (Pagila on
PostgreSQL, Chinook and Sakila on SQLite) from a folder you downloaded them into.

    .venv/bin/python -m tests.schemas.check_public DIR [--pg-url postgresql://...]

DIR holds `pagila/schema.sql`, `chinook/schema.sql` and `sakila_sqlite/schema.sql`
as the READMEs beside this file describe (source, commit, checksum, the edits). The
files are not in this repository: see README.md here for why. For each schema it
checks the file's sha256, loads it into an empty database, then: every table seeded
(Sakila's NOT NULL store ⇄ staff cycle in one transaction), `verify --auto` passes, a second
run is a no-op, and the `init` pack seeds the same bytes into a second copy.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg

from bench.common import fresh_db, pg_admin
from tests.helpers import checksums

HERE = Path(__file__).resolve().parent
SCHEMAS = {  # folder: (database, sha256 of the prepared schema.sql, --exclude)
    "pagila": ("postgresql",
               "e47edbe1aaaa6c82ad359907fc683c14fcf754b2d3a9a7b5357c62a341016bf6", None),
    "chinook": ("sqlite",
                "cf0d32be72b536d0392e63709ce5129d4927a0d6b444d025c1195b3790aeb48b", None),
    "sakila_sqlite": ("sqlite",
                      "b1db76b3a5192f98493901a9ac40fecb9dba918feb5604b7ef6b74230a385f12",
                      None),  # its NOT NULL store <-> staff cycle is seeded as one unit
}


def seedgraph(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seedgraph", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


async def _pg_load(admin: str, name: str, sql: str) -> str:
    url = await fresh_db(admin, name)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
    return url


def load(kind: str, sql: str, name: str, tmp: Path, admin: str) -> str:
    if kind == "sqlite":
        path = tmp / f"{name}.db"
        conn = sqlite3.connect(path)
        conn.executescript(sql)
        conn.close()
        return f"sqlite:///{path}"
    return asyncio.run(_pg_load(admin, name, sql))


def check(folder: str, directory: Path, tmp: Path, admin: str) -> dict[str, object]:
    kind, expected, exclude = SCHEMAS[folder]
    sql = (directory / folder / "schema.sql").read_text()
    digest = hashlib.sha256(sql.encode()).hexdigest()
    if digest != expected:
        print(f"warning: {folder}/schema.sql is not the file the README describes "
              f"(sha256 {digest})", file=sys.stderr)
    url = load(kind, sql, folder, tmp, admin)
    flags = ["--seed", "7", "--as-of", "2026-01-15"] + (["--exclude", exclude] if exclude else [])
    refused = seedgraph("run", "--auto", "--db", url, *flags[:4], cwd=tmp) if exclude else None
    first = seedgraph("run", "--auto", "--db", url, "--json", *flags, cwd=tmp)
    assert first.returncode == 0, first.stderr
    tasks = json.loads(first.stdout)["tasks"]
    verify = seedgraph("verify", "--auto", "--db", url, "--json", *flags[4:], cwd=tmp)
    second = seedgraph("run", "--auto", "--db", url, "--json", *flags, cwd=tmp)
    pack = tmp / f"{folder}_pack"
    seedgraph("init", str(pack), "--db", url, cwd=tmp)
    copy = load(kind, sql, folder + "_copy", tmp, admin)
    again = seedgraph("run", "--pack", str(pack), "--db", copy, "-q", *flags, cwd=tmp)
    names = [t["table"] for t in tasks]
    return {
        "sha256_matches": digest == expected,
        "tables": len(tasks),
        "rows": sum(t["rows"] for t in tasks),
        "all_seeded": all(t["rows"] > 0 for t in tasks),
        "refused": refused.stderr.strip() if refused is not None else None,
        "verify": json.loads(verify.stdout) if verify.returncode in (0, 1) else verify.stderr,
        "second_run": sorted({t["status"] for t in json.loads(second.stdout)["tasks"]}),
        # columns a trigger stamps with the wall clock (Sakila's last_update) differ
        # between any two loads; every other value must be the same
        "clock_stamped_by_triggers": sorted(f"{t}.{c}" for t, c in _clock_columns(url)),
        "init_same_bytes": again.returncode == 0 and _stable(copy, names) == _stable(url, names),
    }


def _clock_columns(url: str) -> set[tuple[str, str]]:
    if not url.startswith("sqlite"):
        return set()
    conn = sqlite3.connect(url.split("///", 1)[1])
    try:
        rows = conn.execute("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
        return {(t, m.group(1)) for t, sql in rows
                for m in re.finditer(r"SET\s+(\w+)\s*=\s*DATETIME\('NOW'\)", sql, re.I)}
    finally:
        conn.close()


def _stable(url: str, names: list[str]) -> dict[str, str]:
    """Per-table digests of every column but those a trigger stamps with the clock."""
    skip = _clock_columns(url)
    if not skip:
        return checksums(url, names)
    conn = sqlite3.connect(url.split("///", 1)[1])
    try:
        out = {}
        for t in names:
            cols = [f'"{r[1]}"' for r in conn.execute(f'PRAGMA table_info("{t}")')
                    if (t, r[1]) not in skip]
            rows = conn.execute(f'SELECT {", ".join(cols)} FROM "{t}"')
            out[t] = hashlib.sha256("".join(sorted(map(repr, rows))).encode()).hexdigest()[:16]
        return out
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("directory", type=Path)
    ap.add_argument("--pg-url", help="admin URL of a running server (default: start one)")
    args = ap.parse_args()
    with pg_admin(args.pg_url) as admin, tempfile.TemporaryDirectory() as tmp:
        for folder in SCHEMAS:
            if (args.directory / folder / "schema.sql").exists():
                result = check(folder, args.directory, Path(tmp), admin)
                verify = result["verify"]
                if isinstance(verify, dict):
                    result["verify"] = {"ok": verify["ok"], "checks": verify["checks"]}
                print(folder, json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
