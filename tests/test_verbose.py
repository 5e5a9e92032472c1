"""``seedgraph run --verbose``: per task as it finishes, why the plan ran it, its resolved
parameters, rows, seconds and rows/s; without the flag the output is as before."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers import AS_OF, MINI, cli


def run(db: str, *args: str) -> str:
    r = cli("run", "--pack", MINI, "--db", db, "--seed", "7", "--as-of", AS_OF, *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def details(stdout: str) -> dict[str, list[str]]:
    """The verbose lines under each finished task's line (plain output: not a terminal)."""
    found: dict[str, list[str]] = {}
    task = None
    for line in stdout.splitlines():
        if m := re.match(r"(\S+) (\S+) rows=\d+ seconds=", line):
            task = m.group(2)
        elif task and re.match(r"    (why: |params: |[\d,]+ rows in )", line):
            found.setdefault(task, []).append(line.strip())
    return found


def test_verbose_prints_why_params_rows_and_rate_per_task(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'v.db'}"
    first = details(run(db, "--verbose", "--set", "customers=30"))
    assert set(first) >= {"regions", "customers", "products", "orders"}
    why, params, rows = first["customers"]
    assert why == "why: never seeded"
    assert params == "params: customers=30"
    assert re.fullmatch(r"30 rows in \d+\.\d\ds, [\d,]+ rows/s", rows), rows
    assert first["products"][1] == "params: products=40"
    # a rerun: only the tasks that run are detailed, each with the reason `plan` gives
    flags = ("--seed", "7", "--as-of", AS_OF, "--set", "customers=40")
    planned = json.loads(cli("plan", "--pack", MINI, "--db", db, "--json", *flags).stdout)
    reasons = {s["table"]: s["reason"] for s in planned["steps"] if s["action"] == "run"}
    again = details(run(db, "-v", "--set", "customers=40"))
    assert "regions" not in again and "products" not in again and "customers" in again
    assert {t: lines[0] for t, lines in again.items()} == {
        t: f"why: {r}" for t, r in reasons.items()}


def test_without_verbose_the_output_is_unchanged(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    plain = run(db)
    assert details(plain) == {} and "why:" not in plain and "params:" not in plain
    assert re.search(r"^done customers rows=200 seconds=\d", plain, re.M)
