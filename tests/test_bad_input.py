"""Bad input and odd states get one clear line and the right exit code, never a hang or a
traceback; read-only commands never create anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import MINI, cli, query, run_engine


@pytest.mark.parametrize("content", [os.urandom(4096), b"hello, I am a text file\n"],
                         ids=["random-bytes", "text"])
@pytest.mark.parametrize("command", [["run"], ["status"], ["plan"], ["verify"]])
def test_a_file_that_is_not_a_database_is_named_without_a_hang(
        tmp_path: Path, content: bytes, command: list[str]) -> None:
    path = tmp_path / "not-a.db"
    path.write_bytes(content)
    r = cli(*command, "--pack", MINI, "--db", f"sqlite:///{path}", timeout=60)
    assert r.returncode == 1, r.stderr
    assert f"{path} is not an SQLite database" in r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr
    assert path.read_bytes() == content  # untouched


@pytest.mark.parametrize(("command", "code", "words"), [
    (["status"], 1, "no database at"),
    (["verify"], 1, "no database at"),
    (["export", "-o", "out"], 1, "no database at"),
    (["plot", "--status", "-o", "g.svg"], 1, "no database at"),
    (["run", "--resume"], 1, "nothing to resume: no seedgraph run recorded"),
    (["plan"], 0, ""),
])
def test_read_only_commands_never_create_a_sqlite_file(
        tmp_path: Path, command: list[str], code: int, words: str) -> None:
    path = tmp_path / "typo.db"
    r = cli(*command, "--pack", MINI, "--db", f"sqlite:///{path}", cwd=tmp_path)
    assert r.returncode == code, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr
    assert not path.exists()
    if command == ["plan"]:
        assert "never seeded" in r.stdout


def test_plan_leaves_a_database_exactly_as_it_is(db_url: str) -> None:
    r = cli("plan", "--pack", MINI, "--db", db_url)
    assert r.returncode == 0, r.stderr
    if db_url.startswith("sqlite"):
        tables = query(db_url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        tables = query(db_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert tables == []


def test_resume_after_a_finished_run_is_success(db_url: str) -> None:
    run_engine(db_url)
    r = cli("run", "--resume", "--pack", MINI, "--db", db_url)
    assert r.returncode == 0, r.stderr
    assert "nothing to resume: the latest run #1 finished successfully" in r.stdout
    assert query(db_url, "SELECT COUNT(*) FROM seedgraph_runs")[0][0] == 1


@pytest.mark.parametrize(("sets", "words"), [
    ("customers=abc", "parameter 'customers' must be a whole number >= 0 (its default is 200)"),
    ("customers=-1", "parameter 'customers' must be a whole number >= 0"),
    ("customers=", "parameter 'customers' must be a whole number >= 0 (its default is 200), "
                   "got ''"),
    ("customers=1.5", "(its default is 200), got 1.5; e.g. --set customers=200"),
    ("customers=true", "(its default is 200), got True"),
    ("orders_per_customer=[1]", "parameter 'orders_per_customer' must be a whole number"),
])
def test_a_bad_parameter_is_named_before_anything_is_written(
        tmp_path: Path, sets: str, words: str) -> None:
    path = tmp_path / "p.db"
    r = cli("run", "--pack", MINI, "--db", f"sqlite:///{path}", "--set", sets)
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr
    assert query(f"sqlite:///{path}", "SELECT name FROM sqlite_master") == []


@pytest.mark.parametrize(("args", "words"), [
    (["--as-of", "0001-01-01"], "out of range; use a date from year 1900 to 2200"),
    (["--as-of", "9999-12-31T23:59:59-05:00"], "out of range"),
    (["--seed", str(2**70)], "--seed must be a whole number from 0 to 2**63-1"),
    (["--seed", "-1"], "--seed must be a whole number from 0 to 2**63-1"),
])
def test_seed_and_as_of_are_bounded(tmp_path: Path, args: list[str], words: str) -> None:
    path = tmp_path / "s.db"
    r = cli("run", "--pack", MINI, "--db", f"sqlite:///{path}", *args)
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(("toml", "words"), [
    ("seed = true", "'seed' must be a whole number from 0"),
    ("concurrency = 0", "'concurrency' must be a whole number from 1"),
    ("chunk_rows = 0", "'chunk_rows' must be a whole number from 1"),
    ("pack = 5", "'pack' must be a string, got 5"),
])
def test_config_values_are_checked(tmp_path: Path, toml: str, words: str) -> None:
    (tmp_path / "seedgraph.toml").write_text(toml + "\n")
    r = cli("run", "--pack", MINI, "--db", f"sqlite:///{tmp_path / 'c.db'}",
            "--config", str(tmp_path / "seedgraph.toml"))
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr


def test_the_run_lock_holds_however_the_sqlite_path_is_spelled(tmp_path: Path) -> None:
    import anyio

    from seedgraph.backends import Database, parse_url
    from seedgraph.errors import RunLockedError

    path = tmp_path / "db.sqlite"
    run_engine(f"sqlite:///{path}")
    os.link(path, tmp_path / "hard.sqlite")
    os.symlink(path, tmp_path / "soft.sqlite")
    (tmp_path / "sub").mkdir()

    async def go() -> list[str]:
        first = await Database.open(parse_url(f"sqlite:///{path}"))
        refused = []
        try:
            async with first.run_lock():
                for other in (tmp_path / "hard.sqlite", tmp_path / "soft.sqlite",
                              tmp_path / "sub" / ".." / "db.sqlite"):
                    db = await Database.open(parse_url(f"sqlite:///{other}"))
                    try:
                        async with db.run_lock():
                            pass
                    except RunLockedError:
                        refused.append(other.name)
                    finally:
                        await db.close()
            again = await Database.open(parse_url(f"sqlite:///{tmp_path / 'hard.sqlite'}"))
            try:
                async with again.run_lock():  # free once the first run let go
                    refused.append("released")
            finally:
                await again.close()
        finally:
            await first.close()
        return refused

    assert anyio.run(go) == ["hard.sqlite", "soft.sqlite", "db.sqlite", "released"]


@pytest.mark.parametrize(("args", "code", "words"), [
    (["status", "--runs", "-1"], 2, "--runs"),
    (["status", "--runs", "0"], 2, "--runs"),
    (["export", "--limit", "-1", "-o", "out"], 2, "--limit"),
    (["export", "--only", "tag:dims", "--exclude", "tag:dims", "-o", "out"], 2, "the selection"),
    (["clean", "--only", "tag:dims", "--exclude", "tag:dims", "--confirm"], 2, "the selection"),
    (["export", "-o", "a_file"], 2, "is a file; export writes one file per table"),
    (["plot", "-o", "missing/g.svg"], 2, "folder missing does not exist"),
])
def test_options_out_of_range_and_bad_places_are_usage_errors(
        tmp_path: Path, args: list[str], code: int, words: str) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    run_engine(url)
    (tmp_path / "a_file").write_text("keep me")
    r = cli(*args, "--pack", MINI, "--db", url, cwd=tmp_path)
    assert r.returncode == code, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr and "unexpected" not in r.stderr
    assert (tmp_path / "a_file").read_text() == "keep me"
    assert query(url, "SELECT COUNT(*) FROM orders")[0][0] > 0  # clean deleted nothing


def test_plan_exits_1_when_run_would_need_confirm(db_url: str) -> None:
    run_engine(db_url)
    from tests.helpers import execute

    execute(db_url, "INSERT INTO audit_notes (id, note, noted_at) "
                    "VALUES (99, 'by hand', '2026-01-01 00:00:00')")
    args = ["plan", "--pack", MINI, "--db", db_url, "--only", "audit_notes", "--force"]
    r = cli(*args)
    assert r.returncode == 1 and "needs --confirm" in r.stdout
    assert cli(*args, "--json").returncode == 1
    assert cli(*args, "--confirm").returncode == 0


def test_resume_accepts_the_recorded_settings_and_names_a_different_one(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINI_FAIL", "orders")
    run_engine(db_url, seed=5, sets={"customers": 30})
    base = ["run", "--resume", "--pack", MINI, "--db", db_url]
    different = cli(*base, "--seed", "6", env={"MINI_FAIL": "orders"})
    assert different.returncode == 2
    assert "run #1, which ran with --seed=5, not 6; drop --seed" in different.stderr
    other_set = cli(*base, "--set", "customers=31", env={"MINI_FAIL": "orders"})
    assert other_set.returncode == 2 and "--set customers=30, not 31" in other_set.stderr
    same = cli(*base, "--seed", "5", "--set", "customers=30")
    assert same.returncode == 0, same.stderr
    assert query(db_url, "SELECT COUNT(*) FROM customers")[0][0] == 30
    assert query(db_url, "SELECT status FROM seedgraph_runs") == [("done",)]


def test_resume_with_another_pack_names_the_recorded_one(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import REPO

    monkeypatch.setenv("MINI_FAIL", "orders")
    run_engine(db_url)
    other = str(REPO / "tests" / "packs" / "serial")
    r = cli("run", "--resume", "--pack", other, "--db", db_url)
    assert r.returncode == 2
    assert f"run #1 was made with pack '{MINI}'" in r.stderr
    assert f"resume it with --pack {MINI}" in r.stderr


def test_a_config_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    conf = tmp_path / "seedgraph.toml"
    conf.write_bytes(b'seed = 3\nprofile = "caf\xe9"\n')
    r = cli("run", "--pack", MINI, "--db", f"sqlite:///{tmp_path / 'u.db'}",
            "--config", str(conf))
    assert r.returncode == 2 and f"config file {conf} is not UTF-8 text" in r.stderr


def test_a_profile_selection_that_is_not_a_string_is_named(tmp_path: Path) -> None:
    conf = tmp_path / "seedgraph.toml"
    conf.write_text("[profiles.odd]\nonly = 5\n")
    r = cli("run", "--pack", MINI, "--db", f"sqlite:///{tmp_path / 'p.db'}",
            "--config", str(conf), "--profile", "odd")
    assert r.returncode == 2, r.stderr
    assert "profile 'odd'" in r.stderr and "'only' must be a selector string" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("value", ["soon", "0001-01-01"])
def test_a_bad_as_of_in_a_config_file_names_the_file(tmp_path: Path, value: str) -> None:
    conf = tmp_path / "seedgraph.toml"
    conf.write_text(f'as_of = "{value}"\n')
    r = cli("run", "--pack", MINI, "--db", f"sqlite:///{tmp_path / 'a.db'}",
            "--config", str(conf))
    assert r.returncode == 2, r.stderr
    assert f"as_of = '{value}' in {conf}" in r.stderr and "--as-of" not in r.stderr


@pytest.mark.parametrize(("damage", "table", "command"), [
    ("UPDATE seedgraph_runs SET params = '{not json'", "seedgraph_runs", ["status"]),
    ("UPDATE seedgraph_runs SET params = '{not json'", "seedgraph_runs", ["run", "--resume"]),
    ("UPDATE seedgraph_state SET rows = 'many'", "seedgraph_state", ["plan"]),
    ("UPDATE seedgraph_state SET rows = 'many'", "seedgraph_state", ["run", "--resume"]),
    ("ALTER TABLE seedgraph_tasks DROP COLUMN seconds", "seedgraph_tasks", ["status"]),
])
def test_damaged_bookkeeping_is_named_with_what_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str, table: str,
        command: list[str]) -> None:
    from tests.helpers import execute

    url = f"sqlite:///{tmp_path / 'd.db'}"
    monkeypatch.setenv("MINI_FAIL", "orders")
    run_engine(url)
    execute(url, damage)
    r = cli(*command, "--pack", MINI, "--db", url)
    assert r.returncode == 1, r.stderr
    assert f"seedgraph's bookkeeping table {table} is damaged" in r.stderr
    assert "drop seedgraph_runs, seedgraph_tasks and seedgraph_state" in r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr


def test_a_role_without_privileges_gets_what_to_grant(pg_url: str) -> None:
    from tests.helpers import execute

    execute(pg_url, "DROP ROLE IF EXISTS sg_reader")
    execute(pg_url, "CREATE ROLE sg_reader LOGIN")  # PostgreSQL 15: no CREATE on public
    base, name = pg_url.rsplit("/", 1)
    url = base.replace("postgres@", "sg_reader@") + "/" + name
    r = cli("run", "--pack", MINI, "--db", url)
    assert r.returncode == 1, r.stderr
    assert "the database role may not do this: permission denied" in r.stderr
    assert "GRANT CREATE ON SCHEMA public" in r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr
    assert query(pg_url, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


def test_an_existing_table_with_the_right_names_but_other_types_is_refused(
        db_url: str) -> None:
    from tests.helpers import execute

    execute(db_url, "CREATE TABLE regions (id TEXT PRIMARY KEY, name TEXT NOT NULL)")
    r = cli("run", "--pack", MINI, "--db", db_url)
    assert r.returncode == 1, r.stderr
    assert "table 'regions'" in r.stderr and "does not match the pack: id is" in r.stderr
    assert "the pack says INTEGER" in r.stderr and "Traceback" not in r.stderr
    assert query(db_url, "SELECT COUNT(*) FROM regions") == [(0,)]  # nothing written


def test_tables_whose_columns_hold_another_form_of_value_are_refused_before_writing(
        pg_url: str) -> None:
    """PostgreSQL's binary COPY sends each type in its own form: a bigint key where the
    pack says integer, or text where it says JSONB, would fail the load half-way or
    store every value with JSONB's version byte in front. Both are named up front,
    with the one command that drops them."""
    from tests.helpers import execute

    execute(pg_url, "CREATE TABLE regions (id BIGINT PRIMARY KEY, name TEXT NOT NULL)")
    execute(pg_url, "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT "
                    "NULL, placed_on DATE NOT NULL, placed_at TIMESTAMP NOT NULL, status "
                    "VARCHAR(20) NOT NULL, meta TEXT)")
    r = cli("run", "--pack", MINI, "--db", pg_url)
    assert r.returncode == 1, r.stderr
    assert "2 tables in" in r.stderr and "do not match the pack" in r.stderr
    assert "'regions' (id is BIGINT, the pack says INTEGER)" in r.stderr
    assert "'orders' (meta is TEXT, the pack says JSONB)" in r.stderr
    # timestamp for timestamptz and varchar for text are the same on the wire: not named
    assert "placed_at" not in r.stderr and "status" not in r.stderr
    assert "seedgraph schema drop --only 'orders regions' --confirm" in r.stderr
    assert "Traceback" not in r.stderr
    assert query(pg_url, "SELECT COUNT(*) FROM regions") == [(0,)]  # nothing written


def test_an_sqlite_file_another_program_holds_fails_after_lock_timeout(tmp_path: Path) -> None:
    import sqlite3
    import time

    db = tmp_path / "held.db"
    assert cli("run", "--pack", MINI, "--db", f"sqlite:///{db}", "-q").returncode == 0
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program's write transaction
    try:
        t0 = time.time()
        result = cli("run", "--pack", MINI, "--db", f"sqlite:///{db}", "--force", "-q",
                     "--lock-timeout", "1")
        waited = time.time() - t0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1, result.stderr
    assert "waiting up to 1 s for another program to release" in result.stderr
    assert "locked by another program" in result.stderr and "--lock-timeout" in result.stderr
    assert "Traceback" not in result.stderr
    assert waited < 30  # not the old 600 s
    assert cli("run", "--pack", MINI, "--db", f"sqlite:///{db}", "-q").returncode == 0
