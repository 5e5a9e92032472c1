"""Data-file rows: YAML, JSON and CSV read with their lines, checked against the table
and coerced; natural keys resolved; upserts by key on both databases (no unique index
needed)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from seedgraph.backends.kinds import table_spec
from seedgraph.datafile import Ref, read_records
from seedgraph.errors import DataFileError
from tests.helpers import REPO, query, run_engine
from tests.packs.rows import METADATA

ROWS = str(REPO / "tests" / "packs" / "rows")
SPECS = {t.name: table_spec(t, "sqlite") for t in METADATA.tables.values()}


def read(tmp_path: Path, name: str, text: str, table: str, **kw: object) -> list[dict]:
    path = tmp_path / name
    path.write_text(text)
    spec = SPECS[table]
    recs = read_records(path, spec, foreign_keys=spec.foreign_keys, **kw)  # type: ignore[arg-type]
    return [r.values for r in recs]


def fails(tmp_path: Path, name: str, text: str, table: str, *parts: str, **kw: object) -> None:
    with pytest.raises(DataFileError) as err:
        read(tmp_path, name, text, table, **kw)
    for part in parts:
        assert part in str(err.value), str(err.value)


def test_csv_coerces_and_names_parents_by_header(tmp_path: Path) -> None:
    rows = read(tmp_path, "m.csv", "email,team_id.slug,joined_on,is_lead\n"
                "a@x.io,core,2024-03-01,yes\n\nb@x.io,web,2024-05-17,0\n", "members")
    assert rows[0] == {"email": "a@x.io", "team_id": Ref("teams", "id", (("slug", "core"),)),
                       "joined_on": date(2024, 3, 1), "is_lead": True}
    assert rows[1]["is_lead"] is False


def test_yaml_groups_json_columns_and_numbers(tmp_path: Path) -> None:
    rows = read(tmp_path, "t.yaml", "teams:\n  a:\n    - {slug: x, name: X, budget: 1.5, "
                "settings: {k: [1]}}\n  b:\n    - {slug: y, name: Y}\n", "teams", key=["slug"])
    assert rows == [{"slug": "x", "name": "X", "budget": 1.5, "settings": '{"k": [1]}'},
                    {"slug": "y", "name": "Y"}]


def test_json_rows_and_timestamps_to_utc(tmp_path: Path) -> None:
    rows = read(tmp_path, "p.json", '{"plans": [\n {"code": "a", "seats": 2, '
                '"starts_at": "2025-02-01T09:30:00+01:00"}]}', "plans")
    assert rows == [{"code": "a", "seats": 2, "starts_at": datetime(2025, 2, 1, 8, 30)}]


@pytest.mark.parametrize(("name", "text", "table", "parts"), [
    ("t.yaml", "teams:\n  - slug: x\n    name: X\n    colour: red\n", "teams",
     ["t.yaml:4", "table 'teams', column 'colour'", "no such column"]),
    ("t.yaml", "teams:\n  - slug: x\n    name: 1.10\n", "teams",
     ["t.yaml:3", "column 'name'", "expected text", "quote it"]),
    ("t.yaml", "teams:\n  - slug: x\n    name: X\n  - slug: x\n    name: Y\n", "teams",
     ["t.yaml:4", "duplicate natural key slug = 'x' (first on line 2)"]),
    ("t.yaml", "teams:\n  - slug: x\n    name: X\n    name: Y\n", "teams",
     ["t.yaml:4", "column 'name': given twice"]),
    ("t.yaml", "teams:\n  - slug: [x\n", "teams", ["t.yaml:3", "not valid YAML"]),
    ("t.yaml", "players:\n  - slug: x\n", "teams", ["no rows for table 'teams'"]),
    ("t.yaml", "teams:\n  - name: X\n", "teams", ["t.yaml:2", "column 'slug'",
                                                   "natural key"]),
    ("p.json", '{"plans": [\n {"code": "a",, }]}', "plans", ["p.json:2", "not valid JSON"]),
    ("p.json", '{"plans": [\n {"code": "a", "seats": true, "starts_at": "2025-01-01"}]}',
     "plans", ["p.json:2", "column 'seats'", "whole number"]),
    ("m.csv", "email,joined_on,team_id,is_lead\na@x.io,2024-02-30,1,true\n", "members",
     ["m.csv:2", "column 'joined_on'", "expected a date"]),
    ("m.csv", "email,joined_on\na@x.io\n", "members", ["m.csv:2", "1 fields, the header has 2"]),
    ("m.csv", "email,is_lead\na@x.io,maybe\n", "members", ["column 'is_lead'", "true or false"]),
])
def test_bad_files_name_file_line_table_and_column(tmp_path: Path, name: str, text: str,
                                                   table: str, parts: list[str]) -> None:
    fails(tmp_path, name, text, table, *parts, key=["slug"] if table == "teams" else [])


def test_rows_pack_on_both_databases(db_url: str) -> None:
    result = run_engine(db_url, pack=ROWS)
    assert result.status == "done", result.outcomes
    teams = query(db_url, "SELECT id, slug, name, budget FROM teams ORDER BY id")
    assert [(i, s, n) for i, s, n, _ in teams] == [
        (1, "core", "Core Platform"), (2, "web", "Web"), (3, "data", "Data")]
    assert Decimal(str(teams[0][3])) == Decimal("1200.50") and teams[1][3] is None
    members = query(db_url, "SELECT m.email, t.slug FROM members m JOIN teams t "
                    "ON t.id = m.team_id ORDER BY m.id")
    assert members == [("ann@example.com", "core"), ("bo@example.com", "web"),
                       ("cy@example.com", "core")]
    (starts,) = query(db_url, "SELECT starts_at FROM plans WHERE code = 'team'")[0]
    assert str(starts).startswith("2025-02-01 08:30:00")  # +01:00 stored as UTC


def test_upsert_without_a_unique_index_never_duplicates(db_url: str, tmp_path: Path) -> None:
    # the application made 'web' first, with its own name and id
    run_engine(db_url, pack=ROWS, only="plans")
    from tests.helpers import execute

    execute(db_url, "INSERT INTO teams (id, slug, name) VALUES (40, 'web', 'Web (app)')")
    result = run_engine(db_url, pack=ROWS)
    assert {o.table: o.note for o in result.outcomes}["teams"] == "2 new, 1 kept"
    rows = query(db_url, "SELECT id, slug, name FROM teams ORDER BY slug")
    assert rows == [(41, "core", "Core Platform"), (42, "data", "Data"), (40, "web", "Web (app)")]
    forced = run_engine(db_url, pack=ROWS, force=True)
    assert {o.table: o.note for o in forced.outcomes}["teams"] == "0 new, 1 updated, 2 kept"
    assert query(db_url, "SELECT name FROM teams WHERE slug = 'web'") == [("Web",)]
    assert query(db_url, "SELECT COUNT(*) FROM teams") == [(3,)]
    again = run_engine(db_url, pack=ROWS, force=True)
    assert {o.table: o.note for o in again.outcomes}["teams"] == "0 new, 0 updated, 3 kept"
