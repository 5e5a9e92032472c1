"""Names in a plot come from packs and live databases: a task, tag or error holding markup
is shown as text in every format, never run as a script (checked in headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import networkx as nx
import pytest

from seedgraph import TaskContext, task
from seedgraph.graph import build_graph
from seedgraph.plot import render
from seedgraph.plot.style import NodeStatus

EVIL = "x<img src=y onerror=\"document.body.setAttribute('data-pwned','1')\">"
EVIL_TAG = "<script>document.body.setAttribute('data-pwned','tag')</script>"


async def _body(ctx: TaskContext) -> None:
    """Does nothing."""


def _graph() -> nx.DiGraph:
    return build_graph([
        task("parent", tags=[EVIL_TAG])(_body),
        task(EVIL, upstream=["parent"], tags=["ok"])(_body),
        task("child", upstream=[EVIL])(_body),
    ], [])


STATUS = {EVIL: NodeStatus("failed", None, 0.5, "<img src=z onerror=alert(1)>")}


def test_svg_and_text_formats_keep_names_as_text() -> None:
    graph = _graph()
    svg = render(graph, "svg", status=STATUS, title=EVIL)
    assert isinstance(svg, str)
    root = ET.fromstring(svg)  # still well-formed XML
    names = {g.get("data-name") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert EVIL in names
    assert "<img" not in svg and "<script" not in svg
    html = render(graph, "html", status=STATUS, title=EVIL)
    assert isinstance(html, str)
    body = html.split('id="graph-data">', 1)[1].split("</script>", 1)[0]
    assert "</" not in body  # the JSON cannot close its script element


def _chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return browser


@pytest.mark.parametrize("shown", [EVIL, "parent", "child"])
def test_the_html_panel_shows_markup_as_text_in_a_real_browser(
        tmp_path: Path, shown: str) -> None:
    browser = _chromium()
    page = tmp_path / "g.html"
    html = render(_graph(), "html", status=STATUS, title=EVIL)
    assert isinstance(html, str)
    page.write_text(html)
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=2000", "--dump-dom", page.as_uri() + "#" + quote(shown)],
        capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None and 'data-ready="3"' in body.group(0)
    assert "data-pwned" not in body.group(0) and "data-error" not in body.group(0)
    panel = dom.split('id="panel"', 1)[1].split("</div>", 1)[0]
    assert "<img" not in panel and "<script" not in panel
    assert "&lt;" in panel  # the markup is there, as text



ODD = ["a-b", "a_b", 'say "hi"', "back\\", "two\nlines"]


def _odd_graph() -> nx.DiGraph:
    return build_graph([task(n)(_body) for n in ODD], [])


def test_dot_keeps_every_name_and_parses() -> None:
    import pydot

    dot = render(_odd_graph(), "dot", title='t "x"\\')
    assert isinstance(dot, str)
    (parsed,) = pydot.graph_from_dot_data(dot)
    nodes = [n.get_name() for s in parsed.get_subgraphs() for n in s.get_nodes()]
    assert len(nodes) == len(ODD) == len(set(nodes))


def test_mermaid_gives_each_name_its_own_node_and_a_one_line_label() -> None:
    text = render(_odd_graph(), "mermaid", title="t\nx")
    assert isinstance(text, str)
    body = [ln for ln in text.splitlines() if re.match(r"^    n_\S+\[", ln)]
    ids = [ln.split("[", 1)[0].strip() for ln in body]
    assert len(ids) == len(ODD) == len(set(ids))
    for ln in body:  # the label is one quoted string: no quote inside it
        label = ln.split('["', 1)[1]
        assert label.endswith('"]') and '"' not in label[:-2]
    assert text.splitlines()[1] == 'title: "t x"'
