"""`seedgraph plot`: every format parses, every node and edge is drawn, status colours."""

from __future__ import annotations

import os
import random
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pydot
import pytest

from seedgraph import TaskContext, UsageError, task
from seedgraph.graph import build_graph
from seedgraph.pack import load_pack
from seedgraph.plot import (
    STATUS_COLORS,
    NodeStatus,
    count_crossings,
    format_for_path,
    layout,
    render,
)
from tests.helpers import MINI, REPO, cli

HS = str(REPO / "tasks" / "home_security")


@pytest.fixture(scope="module")
def hs_graph() -> nx.DiGraph:
    pack = load_pack(HS)
    return build_graph(list(pack.tasks.values()), pack.foreign_keys())


def test_svg_is_valid_xml_with_every_node_and_edge(hs_graph: nx.DiGraph) -> None:
    svg = render(hs_graph, "svg", title="home")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    nodes = {g.get("data-name") for g in root.iterfind(".//s:g[@class='node']", ns)}
    edges = {(p.get("data-from"), p.get("data-to"))
             for p in root.iterfind(".//s:path[@class='edge']", ns)}
    assert nodes == set(hs_graph.nodes) and len(nodes) == 53
    assert edges == set(hs_graph.edges)


MERMAID_LINE = re.compile(
    r'^(flowchart LR|    n_\w+\["[^"\n]*"\]|    n_\w+ --> n_\w+|    classDef \w+ [\w:#,.\-]+'
    r'|    class (n_\w+,)*n_\w+ \w+|---|title: .*)$')


def test_mermaid_follows_the_flowchart_grammar(hs_graph: nx.DiGraph) -> None:
    text = render(hs_graph, "mermaid", highlight=frozenset({"events"}))
    assert isinstance(text, str)
    lines = text.strip().splitlines()
    bad = [line for line in lines if not MERMAID_LINE.match(line)]
    assert bad == []
    assert sum(1 for line in lines if "-->" in line) == hs_graph.number_of_edges()
    declared = {m.group(1) for line in lines if (m := re.match(r"    (n_\w+)\[", line))}
    used = {x for line in lines if "-->" in line for x in line.split(" --> ")}
    assert {u.strip() for u in used} <= declared and len(declared) == 53


def test_dot_parses_back_to_the_same_graph(hs_graph: nx.DiGraph) -> None:
    text = render(hs_graph, "dot")
    assert isinstance(text, str)
    (parsed,) = pydot.graph_from_dot_data(text)
    edges = {(e.get_source().strip('"'), e.get_destination().strip('"'))
             for e in parsed.get_edges()}
    assert edges == set(hs_graph.edges)
    names = {n.get_name().strip('"') for sub in parsed.get_subgraphs() for n in sub.get_nodes()}
    assert names == set(hs_graph.nodes)


def test_png_has_the_layout_size(hs_graph: nx.DiGraph) -> None:
    pytest.importorskip("PIL", reason="the png extra is not installed")
    data = render(hs_graph, "png")
    assert isinstance(data, bytes) and data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    lay = layout(hs_graph)
    assert (width, height) == (int(lay.width), int(lay.height))


def test_barycentre_ordering_cuts_crossings(hs_graph: nx.DiGraph) -> None:
    lay = layout(hs_graph)
    assert lay.crossings_after < lay.crossings_before / 2
    assert count_crossings(hs_graph, lay.layers) == lay.crossings_after


def test_crossings_drop_on_a_scrambled_random_dag() -> None:
    rnd = random.Random(3)
    g = nx.DiGraph()
    for i in range(40):
        g.add_node(f"t{i:02d}", tags=(), description="")
    for i in range(40):
        for j in range(i + 1, min(i + 12, 40)):
            if rnd.random() < 0.2:
                g.add_edge(f"t{i:02d}", f"t{j:02d}")
    lay = layout(g)
    assert lay.crossings_after <= lay.crossings_before
    assert lay.crossings_after < lay.crossings_before or lay.crossings_before == 0


def test_status_colours_and_legend_follow_the_run() -> None:
    async def body(ctx: TaskContext) -> None:
        return None

    g = build_graph([task("a")(body), task("b", upstream=["a"])(body),
                     task("c", upstream=["b"])(body)])
    status = {"a": NodeStatus("done", 10, 0.5), "b": NodeStatus("failed", error="boom"),
              "c": NodeStatus("skipped")}
    svg = render(g, "svg", status=status)
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    fill = {gr.get("data-name"): gr.find("s:rect", ns).get("fill")  # type: ignore[union-attr]
            for gr in root.iterfind(".//s:g[@class='node']", ns)}
    assert fill == {"a": STATUS_COLORS["done"], "b": STATUS_COLORS["failed"],
                    "c": STATUS_COLORS["skipped"]}
    assert "10 rows" in svg and "last run" in svg


def test_unknown_extension_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match=r"\.svg"):
        format_for_path(Path("graph.jpeg"))


MINI_EDGES = {("regions", "customers"), ("customers", "orders"), ("orders", "order_items"),
              ("products", "order_items"), ("orders", "shipments")}


def test_cli_plots_status_after_a_failed_run(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    run = cli("run", "--pack", MINI, "--db", db, "--quiet", env={"MINI_FAIL": "orders"})
    assert run.returncode == 1
    out = tmp_path / "g.svg"
    r = cli("plot", "--pack", MINI, "--db", db, "--status", "-o", str(out))
    assert r.returncode == 0, r.stderr
    svg = out.read_text()
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    fill = {gr.get("data-name"): gr.find("s:rect", ns).get("fill")  # type: ignore[union-attr]
            for gr in root.iterfind(".//s:g[@class='node']", ns)}
    edges = {(p.get("data-from"), p.get("data-to"))
             for p in root.iterfind(".//s:path[@class='edge']", ns)}
    # every node is drawn, each in the colour of what the failed run did to it
    done, failed, skipped = (STATUS_COLORS[k] for k in ("done", "failed", "skipped"))
    assert len({done, failed, skipped}) == 3
    assert fill == {"regions": done, "customers": done, "products": done, "audit_notes": done,
                    "orders": failed, "order_items": skipped, "shipments": skipped}
    assert edges == MINI_EDGES
    assert "last run" in svg and "200 rows" in svg  # customers' row count in its label

    term = cli("plot", "--pack", MINI, "--db", db, "--status")
    assert term.returncode == 0, term.stderr
    lines = {ln.split()[1]: ln.split()[0] for ln in term.stdout.splitlines()
             if ln.startswith("  ") and len(ln.split()) > 1}
    assert lines == {"regions": "✔", "customers": "✔", "products": "✔", "audit_notes": "✔",
                     "orders": "✘", "order_items": "↷", "shipments": "↷"}
    assert "legend:" in term.stdout

    sub = cli("plot", "--pack", MINI, "--only", "orders+", "-o", str(tmp_path / "s.mmd"))
    assert sub.returncode == 0, sub.stderr
    mmd = (tmp_path / "s.mmd").read_text()
    declared = set(re.findall(r"^    (n_\w+)\[", mmd, re.M))
    arrows = set(re.findall(r"^    (n_\w+) --> (n_\w+)$", mmd, re.M))
    assert declared == {"n_orders", "n_order_items", "n_shipments"}
    assert arrows == {("n_orders", "n_order_items"), ("n_orders", "n_shipments")}


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_html_loads_in_headless_chromium_without_errors(hs_graph: nx.DiGraph,
                                                        tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = tmp_path / "g.html"
    html = render(hs_graph, "html", title="home")
    assert isinstance(html, str) and "http://" not in html.replace(
        "http://www.w3.org/2000/svg", "")
    page.write_text(html)
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert 'data-ready="53"' in body.group(0) and "data-error" not in body.group(0)


def test_a_cycle_is_drawn_as_one_unit_in_every_format() -> None:
    async def body(ctx: TaskContext) -> None:
        return None

    tasks = [task("store")(body), task("staff", upstream=["store"])(body),
             task("rental", upstream=["staff"])(body)]
    graph = build_graph(tasks, cycle_keys=[("store", "staff")])
    svg = render(graph, "svg")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    boxes = [g.get("data-members") for g in root.iterfind(".//s:g[@class='unit']", ns)]
    assert boxes == ["store staff"]  # rental is outside the unit
    mermaid = render(graph, "mermaid")
    assert isinstance(mermaid, str)
    block = mermaid.split("subgraph unit_0", 1)[1].split("end", 1)[0]
    assert "n_store" in block and "n_staff" in block and "n_rental" not in block
    dot = render(graph, "dot")
    assert isinstance(dot, str)
    parsed = pydot.graph_from_dot_data(dot)
    assert parsed is not None
    dashed = [e for e in parsed[0].get_edges() if e.get("style") == "dashed"]
    assert {e.get_source().strip('"') for e in dashed} == {"store", "staff"}
