"""``seedgraph export`` writes one file per table, always inside the output folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import anyio
import networkx as nx
import pytest

from seedgraph.backends import Database, parse_url, quote
from seedgraph.export import export_tables, file_name
from tests.helpers import execute

CRAFTED = ["plain", "../../escaped_by_export", "/tmp/abs_name", ".hidden", "a/b", "é x"]


def test_file_names_are_confined_and_distinct() -> None:
    names = [file_name(t, "csv") for t in [*CRAFTED, "a_b", "a\\b"]]
    assert names[0] == "plain.csv"
    for n in names:
        assert "/" not in n and "\\" not in n and not n.startswith(".") and n.endswith(".csv")
    assert len(set(names)) == len(names)  # 'a/b', 'a\\b' and 'a_b' do not collide


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_crafted_table_names_are_written_inside_the_output_folder(
        db_url: str, tmp_path: Path, fmt: str) -> None:
    for i, t in enumerate(CRAFTED):
        execute(db_url, f"CREATE TABLE {quote(t)} (id INTEGER PRIMARY KEY, v TEXT)")
        execute(db_url, f"INSERT INTO {quote(t)} VALUES (1, 'x{i}'), (2, NULL)")
    out = tmp_path / "deep" / "out"
    graph = nx.DiGraph()
    graph.add_nodes_from(CRAFTED)

    async def go() -> dict[str, int]:
        db = await Database.open(parse_url(db_url))
        try:
            return await export_tables(db, graph, CRAFTED, out, fmt)
        finally:
            await db.close()

    written = anyio.run(go)
    assert written == dict.fromkeys(CRAFTED, 2)
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(file_name(t, fmt) for t in CRAFTED)
    assert not (tmp_path / "escaped_by_export.csv").exists()
    assert not Path(f"/tmp/abs_name.{fmt}").exists()
    for i, t in enumerate(CRAFTED):
        path = out / file_name(t, fmt)
        if fmt == "csv":
            rows = list(csv.reader(path.open()))
            assert rows == [["id", "v"], ["1", f"x{i}"], ["2", ""]]
        else:
            assert json.loads(path.read_text()) == [{"id": 1, "v": f"x{i}"},
                                                    {"id": 2, "v": None}]
