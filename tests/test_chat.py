"""The chat pack (source document 004) on both databases: every mode's rows against the
document's mode table, upserts by natural key (skip-existing and --force), a second run
as a no-op, the production mode, and data files that are wrong in each way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from argon2 import PasswordHasher

from seedgraph import api
from tests.helpers import REPO, checksums, cli, execute, query, run_engine

CHAT = str(REPO / "tasks" / "chat")
SEED_DATA = REPO / "tasks" / "chat" / "seed_data.yaml"
CONFIG = ["providers", "models", "embedding_spaces", "users", "chat_profiles", "prompts"]
CONTENT = ["conversations", "messages", "documents", "document_chunks"]
ALL = CONFIG + CONTENT

# 004's mode table: users, profiles, prompts, conversations, documents
MODES = {
    "minimal": (1, 3, 3, 0, 0),
    "development": (4, 3, 3, 1, 2),
    "demo": (4, 6, 6, 2, 2),
    "testing": (3, 3, 3, 1, 0),
    "production": (1, 3, 3, 0, 0),
}


def counts(url: str) -> dict[str, int]:
    return {t: int(query(url, f"SELECT COUNT(*) FROM {t}")[0][0]) for t in ALL}


@pytest.fixture
def prod_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_ADMIN_PASSWORD", "s3cret-admin")


@pytest.mark.parametrize("mode", sorted(MODES))
def test_mode_rows_match_the_document(db_url: str, mode: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if mode == "production":
        monkeypatch.setenv("CHAT_ADMIN_PASSWORD", "s3cret-admin")
    result = run_engine(db_url, pack=CHAT, profile=mode)
    assert result.status == "done", result.outcomes
    users, profiles, prompts, conversations, documents = MODES[mode]
    got = counts(db_url)
    assert (got["users"], got["chat_profiles"], got["prompts"], got["conversations"],
            got["documents"]) == (users, profiles, prompts, conversations, documents)
    # the model registry in every mode: OpenAI, GPT-4 (+ a small model), one embedding space
    assert (got["providers"], got["models"], got["embedding_spaces"]) == (1, 3, 1)
    if conversations:
        assert got["messages"] >= 2 * conversations
    assert (got["document_chunks"] > 0) == (documents > 0)
    # verify passes, tables the mode seeds empty (documents in testing) included
    checks = anyio.run(lambda: api.verify(api.Options(pack=CHAT, db=db_url)))
    assert [c for c in checks if not c.ok] == []
    assert any(c.kind == "invariant" for c in checks)


def test_known_credentials_are_real_argon2_hashes(db_url: str) -> None:
    run_engine(db_url, pack=CHAT, profile="development")
    rows = dict(query(db_url, "SELECT email, password_hash FROM users"))
    ph = PasswordHasher()
    assert ph.verify(rows["alice@chatter.local"], "alice-dev-pass")
    assert ph.verify(rows["admin@chatter.local"], "chatter-admin-dev")
    with pytest.raises(Exception, match="does not match"):
        ph.verify(rows["bob@chatter.local"], "alice-dev-pass")
    salts = {h.split("$")[4] for h in rows.values()}
    assert len(salts) == len(rows)  # salted: no two users share a salt


def test_second_run_is_a_no_op_and_force_updates_nothing_unchanged(db_url: str) -> None:
    first = run_engine(db_url, pack=CHAT, profile="demo")
    assert first.status == "done"
    before = checksums(db_url, ALL)
    again = run_engine(db_url, pack=CHAT, profile="demo")
    assert {o.status for o in again.outcomes} == {"up-to-date"}
    forced = run_engine(db_url, pack=CHAT, profile="demo", force=True)
    notes = {o.table: o.note for o in forced.outcomes}
    assert notes["users"] == "0 new, 0 updated, 4 kept"
    assert checksums(db_url, ALL) == before


def _data_copy(tmp_path: Path, edit: Any) -> Path:
    """A copy of seed_data.yaml changed by *edit* (text -> text), and a config using it."""
    data = tmp_path / "my_seed_data.yaml"
    data.write_text(edit(SEED_DATA.read_text()))
    config = tmp_path / "seedgraph.toml"
    config.write_text(f'pack = "{CHAT}"\ndata = "{data.name}"\n')
    return config


def test_skip_existing_keeps_rows_force_updates_them(db_url: str, tmp_path: Path) -> None:
    run_engine(db_url, pack=CHAT, profile="development")
    # the application added a user of its own, and one of the file's users exists already
    execute(db_url, "INSERT INTO users (email, username, full_name, password_hash, role, "
            "is_active, created_at) VALUES ('zed@app.example', 'zed', 'Zed', 'x', 'user', "
            "true, '2025-01-01 00:00:00')")
    config = _data_copy(tmp_path, lambda t: t.replace("Alice Developer", "Alice Renamed"))
    ids_before = dict(query(db_url, "SELECT email, id FROM users"))
    run = run_engine(db_url, pack=None, config=config, profile="development")
    assert run.status == "done"
    names = dict(query(db_url, "SELECT email, full_name FROM users"))
    assert names["alice@chatter.local"] == "Alice Developer"  # skip-existing
    assert names["zed@app.example"] == "Zed"  # never deleted
    forced = run_engine(db_url, pack=None, config=config, profile="development", force=True,
                        only="users")
    assert {o.table: o.note for o in forced.outcomes}["users"] == "0 new, 1 updated, 3 kept"
    names = dict(query(db_url, "SELECT email, full_name FROM users"))
    assert names["alice@chatter.local"] == "Alice Renamed"
    assert names["zed@app.example"] == "Zed"
    assert dict(query(db_url, "SELECT email, id FROM users")) == ids_before  # same ids
    assert query(db_url, "SELECT COUNT(*) FROM users")[0][0] == 5  # no duplicate


def test_editing_the_data_file_reruns_that_table_and_below(db_url: str, tmp_path: Path) -> None:
    run_engine(db_url, pack=None, config=_data_copy(tmp_path, lambda t: t), profile="demo")
    config = _data_copy(tmp_path, lambda t: t.replace(
        "Can I share the profile with my team?", "Can my team use the profile?"))
    again = run_engine(db_url, pack=None, config=config, profile="demo")
    assert {o.table for o in again.outcomes if o.status == "done"} == {"messages"}
    config = _data_copy(tmp_path, lambda t: t.replace("Bob Developer", "Robert Developer"))
    again = run_engine(db_url, pack=None, config=config, profile="demo")
    assert {o.table for o in again.outcomes if o.status == "done"} == {
        "users", "chat_profiles", "prompts", "conversations", "messages", "documents",
        "document_chunks"}


def test_production_mode(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run_engine(db_url, pack=CHAT, profile="development")
    execute(db_url, "INSERT INTO users (email, username, full_name, password_hash, role, "
            "is_active, created_at) VALUES ('ops@app.example', 'ops', 'Ops', 'x', 'admin', "
            "true, '2025-01-01 00:00:00')")
    before = counts(db_url)
    env = {"SEEDGRAPH_ENV": "production"}
    # without the password: refused before anything is written
    out = cli("run", "--pack", CHAT, "--db", db_url, "--profile", "production", env=env)
    assert out.returncode != 0 and "CHAT_ADMIN_PASSWORD" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    # any other mode rebuilds tables: the production guard refuses it
    out = cli("run", "--pack", CHAT, "--db", db_url, "--profile", "demo",
              env={**env, "CHAT_ADMIN_PASSWORD": "s3cret-admin"})
    assert out.returncode != 0 and "production" in out.stderr, out.stderr
    assert counts(db_url) == before
    # with it: upserts the configuration, deletes nothing (conversations stay)
    out = cli("run", "--pack", CHAT, "--db", db_url, "--profile", "production",
              env={**env, "CHAT_ADMIN_PASSWORD": "s3cret-admin"})
    assert out.returncode == 0, out.stderr
    assert "s3cret-admin" not in out.stdout + out.stderr
    after = counts(db_url)
    assert after == before  # every configuration row existed already; nothing deleted
    assert query(db_url, "SELECT COUNT(*) FROM users WHERE email = 'ops@app.example'") == [(1,)]


def test_production_mode_on_an_empty_database_needs_the_tables(db_url: str) -> None:
    env = {"SEEDGRAPH_ENV": "production", "CHAT_ADMIN_PASSWORD": "s3cret-admin"}
    out = cli("run", "--pack", CHAT, "--db", db_url, "--profile", "production", env=env)
    assert out.returncode != 0 and "migrations" in out.stderr, out.stderr


def test_production_admin_password_is_the_given_one(db_url: str, prod_env: None) -> None:
    run_engine(db_url, pack=CHAT, profile="production")
    (hashed,) = query(db_url, "SELECT password_hash FROM users WHERE role = 'admin'")[0]
    assert PasswordHasher().verify(hashed, "s3cret-admin")


@pytest.mark.parametrize(("edit", "expect"), [
    (lambda t: t.replace("    display_name: OpenAI\n", "    display_name: OpenAI\n"
                         "    colour: blue\n"),
     ["my_seed_data.yaml:12", "table 'providers'", "column 'colour'", "no such column"]),
    (lambda t: t.replace("context_window: 8192", "context_window: lots"),
     ["my_seed_data.yaml:21", "table 'models'", "column 'context_window'", "whole number"]),
    (lambda t: t.replace("- name: gpt-4o-mini", "- name: gpt-4"),
     ["table 'models'", "duplicate natural key name = 'gpt-4'"]),
    (lambda t: t.replace("users:\n  admin:", "users:\n  admin\n:"),
     ["my_seed_data.yaml:", "not valid YAML"]),
    (lambda t: t.replace("user_id: {email: alice@chatter.local}",
                         "user_id: {email: nobody@chatter.local}"),
     ["my_seed_data.yaml:", "table 'conversations'", "column 'user_id'",
      "no row of 'users' has email = 'nobody@chatter.local'"]),
])
def test_bad_data_file(db_url: str, tmp_path: Path, edit: Any, expect: list[str]) -> None:
    config = _data_copy(tmp_path, edit)
    out = cli("run", "--config", str(config), "--db", db_url, "--profile", "development",
              cwd=tmp_path)
    assert out.returncode != 0
    message = " ".join(out.stderr.split())
    for part in expect:
        assert part in message, message
    assert "Traceback" not in out.stderr
    if "nobody" in expect[-1]:  # found while loading: only that table (and below) unwritten
        assert query(db_url, "SELECT COUNT(*) FROM conversations") == [(0,)]
        assert query(db_url, "SELECT COUNT(*) FROM users")[0][0] == 4
    else:  # found before anything is written
        assert _rows_or_none(db_url, "providers") in (None, 0)


def _rows_or_none(url: str, table: str) -> int | None:
    """The table's row count, or None when it (or the SQLite file) does not exist."""
    try:
        return int(query(url, f"SELECT COUNT(*) FROM {table}")[0][0])
    except Exception:
        return None


def test_undeclared_template_variable_is_refused(db_url: str, tmp_path: Path) -> None:
    config = _data_copy(tmp_path, lambda t: t.replace("variables: [language, code]",
                                                      "variables: [language]"))
    out = cli("run", "--config", str(config), "--db", db_url, cwd=tmp_path)
    assert out.returncode != 0
    assert "template uses {code}, which 'variables' does not declare" in out.stderr


def test_generated_users_follow_zipf_and_a_daily_rhythm(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'load.db'}"
    result = run_engine(url, pack=CHAT, profile="testing", sets={"users": 1500})
    assert result.status == "done"
    per_user = sorted((c for (c,) in query(
        url, "SELECT COUNT(*) FROM conversations GROUP BY user_id")), reverse=True)
    total = sum(per_user)
    assert total == pytest.approx(1 + 1500 * 6.0, abs=1)
    top_share = sum(per_user[:15]) / total  # the top 1% of users
    assert 0.05 < top_share < 0.5  # heavy users exist (uniform would give 1%)
    hours = dict(query(url, "SELECT CAST(strftime('%H', created_at) AS INTEGER), COUNT(*) "
                            "FROM conversations GROUP BY 1"))
    assert hours[10] > 5 * hours[3]  # office hours are busy, nights quiet
    out = cli("verify", "--pack", CHAT, "--db", url)
    assert out.returncode == 0, out.stdout + out.stderr


def test_profiles_rows_show_the_mode_table(tmp_path: Path) -> None:
    out = cli("profiles", "--pack", CHAT, "--rows", "--json", cwd=tmp_path,
              env={"CHAT_ADMIN_PASSWORD": "s3cret-admin"})
    assert out.returncode == 0, out.stderr
    import json

    got = json.loads(out.stdout)
    for mode, (users, profiles, prompts, conversations, documents) in MODES.items():
        c = got[mode]
        assert (c.get("users"), c.get("chat_profiles"), c.get("prompts"),
                c.get("conversations", 0), c.get("documents", 0)) == (
            users, profiles, prompts, conversations, documents), mode


def test_clean_empties_children_first(db_url: str) -> None:
    run_engine(db_url, pack=CHAT, profile="demo")
    refused = cli("clean", "--pack", CHAT, "--db", db_url)
    assert refused.returncode != 0 and "--confirm" in refused.stderr + refused.stdout
    out = cli("clean", "--pack", CHAT, "--db", db_url, "--confirm")
    assert out.returncode == 0, out.stderr
    assert set(counts(db_url).values()) == {0}
