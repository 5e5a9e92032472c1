"""The pytest plugin (seedgraph/pytest_plugin.py) driven through inner pytest sessions.

Each outer test writes a small test module, runs it with ``pytester`` against SQLite or
the session's real PostgreSQL, and checks what the inner tests saw and what the
session left behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

import asyncpg
import pytest

from tests.conftest import PgDatabases
from tests.helpers import MINI, REPO

pytest_plugins = ["pytester"]

# The entry point registers the plugin once seedgraph-db is (re)installed; until then it
# is loaded by name. Passing -p as well would register the module twice.
_INSTALLED = any(ep.value == "seedgraph.pytest_plugin"
                 for ep in entry_points(group="pytest11"))
PLUGIN = [] if _INSTALLED else ["-p", "seedgraph.pytest_plugin"]

INI = f"""
[pytest]
seedgraph_pack = {MINI}
seedgraph_seed = 7
seedgraph_as_of = 2026-01-15
seedgraph_params =
    customers=20
"""

# Run in file order. test_2 would fail if test_1's changes leaked into its database;
# every test logs the seeded run it sees, so the outer test can check there was one.
INNER = '''
import json
import os
from pathlib import Path

import pytest

from tests.helpers import MINI_TABLES, execute, query

LOG = Path(os.environ["SG_INNER_LOG"])


def seen(url, label):
    runs = [[r[0], str(r[1])] for r in query(url, "SELECT id, started_at FROM seedgraph_runs")]
    counts = {t: query(url, f"SELECT COUNT(*) FROM {t}")[0][0] for t in MINI_TABLES}
    with LOG.open("a") as f:
        f.write(json.dumps({"test": label, "runs": runs, "counts": counts}) + "\\n")
    return counts


def test_1_changes_its_copy(seedgraph_db):
    seen(seedgraph_db, "1")
    execute(seedgraph_db, "DELETE FROM audit_notes")
    execute(seedgraph_db, "UPDATE customers SET name = 'leaked'")
    execute(seedgraph_db, "INSERT INTO regions (id, name) VALUES (99, 'leaked')")
    assert query(seedgraph_db, "SELECT COUNT(*) FROM audit_notes")[0][0] == 0


def test_2_sees_none_of_it(seedgraph_db):
    counts = seen(seedgraph_db, "2")
    assert counts["audit_notes"] > 0
    assert query(seedgraph_db, "SELECT COUNT(*) FROM customers WHERE name = 'leaked'")[0][0] == 0
    assert counts["regions"] == 5


@pytest.mark.seedgraph(params={"customers": 5})
def test_3_marker_picks_another_template(seedgraph_db):
    assert seen(seedgraph_db, "3")["customers"] == 5
    execute(seedgraph_db, "DELETE FROM audit_notes")


@pytest.mark.seedgraph(params={"customers": 5})
def test_4_same_marker_same_template(seedgraph_db):
    counts = seen(seedgraph_db, "4")
    assert counts["customers"] == 5 and counts["audit_notes"] > 0


def test_5_factory_copies_are_separate_databases(seedgraph_template):
    template = seedgraph_template()
    a, b = template.copy(), template.copy()
    try:
        assert a != b
        if b.startswith("sqlite"):  # the template's WAL was folded in: one file is all
            import sqlite3

            conn = sqlite3.connect(b.split(":///", 1)[1])
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            conn.close()
        execute(a, "DELETE FROM audit_notes")
        assert query(b, "SELECT COUNT(*) FROM audit_notes")[0][0] > 0
    finally:
        template.drop(a)
        template.drop(b)
'''


def _leftovers_pg(admin_dsn: str) -> list[str]:
    """The inner session's databases still on the server: it ran in this process, so its
    names end in this pid (other sessions may share a server set by SEEDGRAPH_TEST_PG_URL)."""

    async def go() -> list[str]:
        conn = await asyncpg.connect(admin_dsn)
        try:
            rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname ~ $1",
                                    rf"^sg_(t|tpl_[0-9a-f]+)_main_{os.getpid()}(_|$)")
            return sorted(r[0] for r in rows)
        finally:
            await conn.close()

    return asyncio.run(go())


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, pytester: pytest.Pytester) -> str:
    """The inner session's seedgraph_url: an SQLite directory or the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{pytester.path / 'dbs'}"
    pg: PgDatabases = request.getfixturevalue("pg")
    return pg.admin_dsn


def test_each_test_gets_a_fresh_copy_of_a_template_seeded_once(
        pytester: pytest.Pytester, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    log = pytester.path / "seen.jsonl"
    monkeypatch.setenv("SG_INNER_LOG", str(log))
    pytester.makeini(INI)
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest(*PLUGIN, "--seedgraph-url", where, "-p", "no:randomly")
    result.assert_outcomes(passed=5)
    seen = {r["test"]: r for r in map(json.loads, log.read_text().splitlines())}
    assert sorted(seen) == ["1", "2", "3", "4"]
    # tests 1 and 2 copy one template: the same single run, the same full data (test 1
    # logged before it changed anything), so the template was seeded once, not per test
    assert len(seen["1"]["runs"]) == 1
    assert seen["1"] == {**seen["2"], "test": "1"}
    assert seen["1"]["counts"]["customers"] == 20
    assert all(n > 0 for n in seen["1"]["counts"].values()), seen["1"]
    # the marked tests share a second template: one run, not the first template's
    assert seen["3"] == {**seen["4"], "test": "3"}
    assert seen["3"]["counts"]["customers"] == 5
    # two templates in all, each seeded once, and every copy made reported
    summary = [line for line in result.outlines if line.startswith("seedgraph: ")]
    assert len(summary) == 1 and "2 template(s) seeded" in summary[0], result.outlines
    assert "6 copies" in summary[0]
    # nothing is left behind: copies after each test, templates at the session's end
    if where.startswith("sqlite"):
        assert list((pytester.path / "dbs").iterdir()) == []
    else:
        assert _leftovers_pg(where) == []


def test_the_default_keeps_its_files_in_a_temporary_directory(
        pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_inner='''
def test_copy(seedgraph_db):
    assert seedgraph_db.startswith("sqlite+aiosqlite:///")
    assert "/seedgraph" in seedgraph_db and seedgraph_db.endswith(".db")
''')
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=1)


def test_no_pack_is_a_clear_error_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner='''
def test_a(seedgraph_db):
    pass

def test_b(seedgraph_db):
    pass
''')
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(errors=2)
    assert result.stdout.str().count("Traceback") == 0
    result.stdout.fnmatch_lines(["*ERROR at setup of test_a*",
                                 "seedgraph: no pack configured*set seedgraph_pack*",
                                 "*ERROR at setup of test_b*",
                                 "seedgraph: no pack configured*set seedgraph_pack*"])


def test_a_task_failing_fails_the_tests_with_its_error(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINI_FAIL", "orders")
    pytester.makeini(INI)
    pytester.makepyfile(test_inner='''
def test_a(seedgraph_db):
    pass

def test_b(seedgraph_db):
    pass
''')
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*could not seed the template*injected failure in orders*"])
    assert "template(s) seeded" not in result.stdout.str()


def test_a_password_in_the_url_is_never_shown(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_inner="def test_a(seedgraph_db):\n    pass\n")
    result = pytester.runpytest(*PLUGIN, "--seedgraph-url",
                                "postgresql://me:s3cr3t-pw@127.0.0.1:1/postgres")
    result.assert_outcomes(errors=1)
    out = result.stdout.str() + result.stderr.str()
    assert "cannot connect to postgresql+asyncpg://me:***@127.0.0.1:1/postgres" in out
    assert "s3cr3t" not in out


def test_bad_marker_arguments_are_named(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_inner='''
import pytest

@pytest.mark.seedgraph(profiles="tiny")
def test_a(seedgraph_db):
    pass
''')
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown argument(s) profiles*"])


def test_xdist_workers_each_seed_their_own_template(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    log = pytester.path / "seen.jsonl"
    monkeypatch.setenv("SG_INNER_LOG", str(log))
    # the workers are new processes: they import seedgraph and tests from the repo
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    pytester.makeini(INI)
    pytester.makepyfile(test_inner=INNER)
    dbs = pytester.path / "dbs"
    result = pytester.runpytest(*PLUGIN, "-n", "2", "--seedgraph-url", f"sqlite:///{dbs}")
    result.assert_outcomes(passed=5)
    assert list(dbs.iterdir()) == []


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    """pytest imports every installed plugin in every project: the module must not pull
    in the engine. (``import seedgraph`` itself is what it costs; measured here too.)"""
    code = ("import json, sys, pytest, seedgraph; before = set(sys.modules); "
            "import seedgraph.pytest_plugin; "
            "print(json.dumps(sorted(m for m in set(sys.modules) - before "
            "if '.' not in m or m.startswith('seedgraph'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    added = json.loads(out)
    assert added == ["seedgraph.pytest_plugin"], added


def test_the_doc_names_every_option_and_fixture() -> None:
    from seedgraph.pytest_plugin import _INI

    doc = (REPO / "docs" / "testing-with-pytest.md").read_text()
    for name in [n for n, _, _ in _INI] + ["--seedgraph-url", "seedgraph_db",
                                           "seedgraph_template", "@pytest.mark.seedgraph("]:
        assert f"`{name}" in doc, name
