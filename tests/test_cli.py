"""The real CLI in a subprocess: commands, JSON output, and clear errors without tracebacks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import AS_OF, MINI, MINI_TABLES, checksums, cli, execute, query


def run_cli(db: str, *args: str) -> dict[str, object]:
    r = cli("run", "--pack", MINI, "--db", db, "--seed", "7", "--as-of", AS_OF, "--json", *args)
    assert r.returncode == 0, r.stderr
    doc: dict[str, object] = json.loads(r.stdout)
    return doc


def test_run_json_status_verify_and_export(db_url: str, tmp_path: Path) -> None:
    doc = run_cli(db_url)
    assert doc["status"] == "done" and isinstance(doc["rows"], int) and doc["rows"] > 0

    status = cli("status", "--pack", MINI, "--db", db_url, "--json")
    assert status.returncode == 0, status.stderr
    st = json.loads(status.stdout)
    assert st["runs"][0]["status"] == "done"
    assert st["row_counts"]["orders"] == query(db_url, "SELECT COUNT(*) FROM orders")[0][0]

    verify = cli("verify", "--pack", MINI, "--db", db_url)
    assert verify.returncode == 0, verify.stderr + verify.stdout
    assert "all checks passed" in verify.stdout

    out = tmp_path / "fixtures"
    exp = cli("export", "--pack", MINI, "--db", db_url, "--only", "regions+", "-o", str(out),
              "--format", "json")
    assert exp.returncode == 0, exp.stderr
    regions = json.loads((out / "regions.json").read_text())
    assert [r["name"] for r in regions][:2] == ["North", "South"]
    assert (out / "shipments.json").exists() and not (out / "products.json").exists()


def test_verify_reports_violations_with_rows(db_url: str) -> None:
    run_cli(db_url)
    execute(db_url, "UPDATE shipments SET shipped_at = (SELECT MIN(placed_at) FROM orders) "
                    "WHERE id = 1")
    r = cli("verify", "--pack", MINI, "--db", db_url)
    assert r.returncode == 1
    assert "shipments_after_orders" in r.stderr and "(1,)" in r.stderr


def test_clean_dry_run_confirm_and_production_guard(db_url: str) -> None:
    run_cli(db_url)
    dry = cli("clean", "--pack", MINI, "--db", db_url, "--only", "orders+", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)
    assert doc["deleted"] is False and doc["tables"][-1] == "orders" and doc["rows"]["orders"] > 0

    before = checksums(db_url, MINI_TABLES)
    # the dry run reports every table it would empty with its real row count
    assert set(doc["tables"]) == {"orders", "order_items", "shipments"}
    for table in doc["tables"]:
        assert doc["rows"][table] == query(db_url, f'SELECT COUNT(*) FROM "{table}"')[0][0] > 0
    assert checksums(db_url, MINI_TABLES) == before

    refused = cli("clean", "--pack", MINI, "--db", db_url, "--only", "orders+")
    assert refused.returncode == 1 and "--confirm" in refused.stderr
    assert checksums(db_url, MINI_TABLES) == before

    prod = cli("clean", "--pack", MINI, "--db", db_url, "--only", "orders+", "--confirm",
               env={"APP_ENV": "production"})
    assert prod.returncode == 1 and "--allow-production" in prod.stderr
    assert "APP_ENV=production" in prod.stderr
    assert checksums(db_url, MINI_TABLES) == before

    child = cli("clean", "--pack", MINI, "--db", db_url, "--only", "orders", "--confirm")
    assert child.returncode == 1 and "--only 'orders+'" in child.stderr
    assert checksums(db_url, MINI_TABLES) == before

    ok = cli("clean", "--pack", MINI, "--db", db_url, "--only", "orders+", "--confirm")
    assert ok.returncode == 0, ok.stderr
    after = checksums(db_url, MINI_TABLES)
    for table in ("orders", "order_items", "shipments"):
        assert after[table].startswith("0:"), (table, after[table])
    for table in ("regions", "customers", "products", "audit_notes"):
        assert after[table] == before[table], table
    rerun = run_cli(db_url)
    ran = {t["table"] for t in rerun["tasks"] if t["status"] == "done"}  # type: ignore[index,union-attr]
    assert ran == {"orders", "order_items", "shipments"}


def test_plan_shows_levels_and_reasons(db_url: str) -> None:
    run_cli(db_url)
    r = cli("plan", "--pack", MINI, "--db", db_url, "--seed", "7", "--as-of", AS_OF,
            "--set", "orders_per_customer=2", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    steps = {s["table"]: s for s in doc["steps"]}
    assert steps["orders"]["action"] == "run" and "changed" in steps["orders"]["reason"]
    assert steps["customers"]["action"] == "skip"
    assert doc["clear"] == ["shipments", "order_items", "orders"]
    assert doc["levels"][0] == ["audit_notes", "products", "regions"]


@pytest.mark.parametrize(
    ("args", "needle", "code"),
    [
        (["run", "--only", "order+"], "Did you mean 'orders'", 2),
        (["run", "--set", "orders_per_customr=3"], "Did you mean 'orders_per_customer'", 2),
        (["run", "--set", "novalue"], "key=value", 2),
        (["run", "--as-of", "yesterday"], "YYYY-MM-DD", 2),
        (["run", "--profile", "tiyn"], "Did you mean 'tiny'", 2),
        (["run", "--db", "mysql://x/y"], "not supported", 2),
        (["run", "--resume", "--seed", "3"], "drop --seed", 2),
        (["run", "--pack", "no/such/pack"], "does not exist", 1),
        (["run", "--concurrency", "0"], "at least 1", 2),
        (["plot", "-o", "graph.jpeg"], ".svg", 2),
    ],
)
def test_bad_input_gets_a_clear_error_and_no_traceback(
        tmp_path: Path, args: list[str], needle: str, code: int) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    full = [*args] if "--pack" in args else [*args, "--pack", MINI]
    if "--db" not in full:
        full += ["--db", db]
    r = cli(*full)
    assert r.returncode == code, r.stderr
    assert needle in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_list_and_profiles(tmp_path: Path) -> None:
    r = cli("list", "--pack", MINI, "--json")
    assert r.returncode == 0, r.stderr
    rows = {t["table"]: t for t in json.loads(r.stdout)}
    assert rows["order_items"]["upstream"] == ["orders", "products"]
    assert rows["order_items"]["level"] == 3
    p = cli("profiles", "--pack", MINI, "--json")
    assert {x["name"] for x in json.loads(p.stdout)} == {"tiny", "catalog"}


def test_profile_selects_and_sets_params(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    doc = run_cli(db, "--profile", "tiny")
    assert doc["status"] == "done"
    assert query(db, "SELECT COUNT(*) FROM customers")[0][0] == 20
    db2 = f"sqlite:///{tmp_path / 'q.db'}"
    run_cli(db2, "--profile", "catalog")
    assert query(db2, "SELECT COUNT(*) FROM products")[0][0] == 40
    assert query(db2, "SELECT COUNT(*) FROM seedgraph_tasks")[0][0] == 1


def test_config_file_supplies_pack_db_seed_and_profiles(tmp_path: Path) -> None:
    db = tmp_path / "cfg.db"
    (tmp_path / "seedgraph.toml").write_text(
        f'pack = "{MINI}"\ndb = "sqlite:///{db}"\nseed = 7\nas_of = "{AS_OF}"\n'
        '[params]\ncustomers = 30\n'
        '[profiles.small]\nextends = "tiny"\nparams = { orders_per_customer = 1 }\n')
    r = cli("run", "--profile", "small", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert query(f"sqlite:///{db}", "SELECT COUNT(*) FROM customers")[0][0] == 20


def test_env_database_url_is_used(tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    r = cli("run", "--pack", MINI, "--only", "audit_notes", "--quiet",
            env={"SEEDGRAPH_DATABASE_URL": f"sqlite:///{db}"})
    assert r.returncode == 0, r.stderr
    assert query(f"sqlite:///{db}", "SELECT COUNT(*) FROM audit_notes")[0][0] == 10


def test_schema_create_and_drop(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    created = cli("schema", "create", "--pack", MINI, "--db", db)
    assert created.returncode == 0 and "created 7 table(s)" in created.stdout
    refused = cli("schema", "drop", "--pack", MINI, "--db", db, "--only", "audit_notes")
    assert refused.returncode == 1 and "--confirm" in refused.stderr
    dropped = cli("schema", "drop", "--pack", MINI, "--db", db, "--only", "audit_notes",
                  "--confirm")
    assert dropped.returncode == 0, dropped.stderr
    tables = {r[0] for r in query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "audit_notes" not in tables and "orders" in tables


def _sqlite_tables(path: Path) -> set[str]:
    """The tables in an SQLite file, without creating the file when it is absent."""
    if not path.exists():
        return set()
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()


def test_run_refuses_production_without_the_flag(tmp_path: Path) -> None:
    path = tmp_path / "prod.db"
    db = f"sqlite:///{path}"
    r = cli("run", "--pack", MINI, "--db", db, env={"SEEDGRAPH_ENV": "production"})
    assert r.returncode == 1
    # the message names the reason (the variable and its value) and the way out
    assert "SEEDGRAPH_ENV=production" in r.stderr and "--allow-production" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    # refused before anything was written: no seeded table, no bookkeeping, no run recorded
    assert _sqlite_tables(path) == set()

    ok = cli("run", "--pack", MINI, "--db", db, "--only", "audit_notes", "--quiet",
             "--allow-production", env={"SEEDGRAPH_ENV": "production"})
    assert ok.returncode == 0, ok.stderr
    assert query(db, "SELECT COUNT(*) FROM audit_notes")[0][0] == 10
    assert query(db, "SELECT COUNT(*) FROM orders")[0][0] == 0
    assert query(db, "SELECT status FROM seedgraph_runs") == [("done",)]
    assert query(db, "SELECT table_name, status FROM seedgraph_tasks") == [
        ("audit_notes", "done")]


def test_default_pack_comes_from_the_project_config(tmp_path: Path) -> None:
    r = cli("list", "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 53
