"""Property tests: random `--set` values, selectors and config documents thrown at the
CLI never give a traceback, and a refused command writes nothing.

The CLI runs in-process (typer's CliRunner) against a fresh SQLite file per example,
so each example costs a fraction of a second.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from seedgraph.cli import app
from tests.helpers import AS_OF, MINI, MINI_TABLES

RUNNER = CliRunner()
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

# the mini pack's parameters, some other names, and values of every shape a user types
KEYS = st.sampled_from(["customers", "orders_per_customer", "items_per_order", "customer",
                        "rows", "", "x.y", "customers "])
VALUES = st.one_of(
    st.integers(-10_000, 10_000).map(str),
    st.floats(-1e4, 1e4).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e400"]),
    st.sampled_from(["", "abc", "true", "null", "[]", "{}", "[1, 2]", '"7"', "1e3", "0x10",
                     "007", " 5", "2**70", "-0"]),
    st.text(max_size=8),
)


def _invoke(*args: str) -> tuple[int, str]:
    result = RUNNER.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: {type(result.exception).__name__}: "
                             f"{result.exception}\n{result.output}")
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    return result.exit_code, output


def _rows(db: Path) -> dict[str, int]:
    if not db.exists():
        return {}
    conn = sqlite3.connect(db)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                for t in MINI_TABLES if t in names}
    finally:
        conn.close()


@SETTINGS
@given(sets=st.lists(st.tuples(KEYS, VALUES), min_size=1, max_size=3))
def test_random_set_values_are_seeded_or_refused_before_anything_is_written(
        sets: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "p.db"
        flags = [arg for k, v in sets for arg in ("--set", f"{k}={v}")]
        code, output = _invoke("run", "--pack", MINI, "--db", f"sqlite:///{db}", "--seed", "1",
                               "--as-of", AS_OF, "-q", *flags)
        assert "Traceback" not in output
        assert code in (0, 2), output
        if code == 2:  # refused: named, and nothing of the pack written
            assert "error:" in output
            assert not any(_rows(db).values()), output
        else:
            conn = sqlite3.connect(db)
            try:
                assert conn.execute("SELECT status FROM seedgraph_runs").fetchall() == [("done",)]
            finally:
                conn.close()


SELECTOR = st.lists(st.one_of(
    st.sampled_from(["regions", "orders", "customers", "nope", "+", "@", "tag:", "tag:dims",
                     "tag:nope", ",", " ", "*", "order*", "1+", "+2", "path:x", "config.",
                     "regions+", "+orders", "@orders", "orders,customers"]),
    st.text(max_size=4)), min_size=1, max_size=4).map("".join)


@SETTINGS
@given(only=SELECTOR, exclude=st.one_of(st.none(), SELECTOR))
def test_random_selectors_plan_or_are_refused_and_plan_writes_nothing(
        only: str, exclude: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "s.db"
        args = ["plan", "--pack", MINI, "--db", f"sqlite:///{db}", "--only", only, "--json"]
        if exclude is not None:
            args += ["--exclude", exclude]
        code, output = _invoke(*args)
        assert "Traceback" not in output
        assert code in (0, 1, 2), output
        assert not db.exists()  # plan never creates the file
        if code == 0:
            steps = json.loads(output)["steps"]
            assert steps and {s["table"] for s in steps} <= set(MINI_TABLES)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.integers(2**62, 2**64),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6),
                    st.lists(st.integers(0, 3), max_size=2))
DOCS = st.dictionaries(
    st.sampled_from(["pack", "db", "seed", "as_of", "profile", "concurrency", "chunk_rows",
                     "auto", "params", "profiles", "extra_key"]),
    st.one_of(SCALARS, st.dictionaries(st.sampled_from(["customers", "only", "x"]), SCALARS,
                                       max_size=2)),
    max_size=5)


def _toml_value(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()
                               if v is not None) + "}"
    return json.dumps(value)


@SETTINGS
@given(doc=DOCS)
def test_random_config_documents_plan_or_are_refused_with_the_file_named(
        doc: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "seedgraph.toml"
        db = Path(tmp) / "c.db"
        lines = [f"{k} = {_toml_value(v)}" for k, v in doc.items() if v is not None]
        config.write_text("\n".join(lines) + "\n")
        code, output = _invoke("plan", "--pack", MINI, "--db", f"sqlite:///{db}",
                               "-c", str(config))
        assert "Traceback" not in output and "unexpected" not in output, output
        assert code in (0, 1, 2), output
        assert not db.exists()
