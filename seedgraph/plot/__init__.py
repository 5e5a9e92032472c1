"""``seedgraph plot``: the task graph as terminal text, SVG, PNG, HTML, Mermaid or DOT."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import networkx as nx

from seedgraph.errors import UsageError
from seedgraph.plot.html import render_html
from seedgraph.plot.layout import Layout, count_crossings, layout
from seedgraph.plot.png import render_png
from seedgraph.plot.style import STATUS_COLORS, NodeStatus
from seedgraph.plot.svg import render_svg
from seedgraph.plot.terminal import render_terminal
from seedgraph.plot.text import render_dot, render_mermaid

__all__ = [
    "FORMATS",
    "STATUS_COLORS",
    "Layout",
    "NodeStatus",
    "count_crossings",
    "format_for_path",
    "layout",
    "render",
    "render_terminal",
]

FORMATS = {".svg": "svg", ".png": "png", ".html": "html", ".htm": "html", ".mmd": "mermaid",
           ".dot": "dot", ".gv": "dot"}


def format_for_path(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise UsageError(
            f"cannot tell the format of '{path}'; use one of "
            f"{', '.join(sorted(set(FORMATS)))} (e.g. -o graph.svg)"
        ) from None


def render(graph: nx.DiGraph, fmt: str, *, highlight: frozenset[str] | None = None,
           status: Mapping[str, NodeStatus] | None = None, title: str = "") -> str | bytes:
    """The graph in *fmt* (svg, png, html, mermaid, dot)."""
    if fmt == "mermaid":
        return render_mermaid(graph, highlight=highlight, status=status, title=title)
    if fmt == "dot":
        return render_dot(graph, highlight=highlight, status=status, title=title)
    lay = layout(graph)
    if fmt == "png":
        return render_png(graph, lay, highlight=highlight, status=status, title=title)
    svg = render_svg(graph, lay, highlight=highlight, status=status, title=title)
    if fmt == "svg":
        return svg
    if fmt == "html":
        return render_html(graph, svg, status=status, title=title)
    raise UsageError(f"unknown plot format '{fmt}'")
