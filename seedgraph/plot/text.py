"""Text formats: Mermaid flowcharts and Graphviz DOT."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

import networkx as nx

from seedgraph.plot.style import STATUS_COLORS, NodeStatus, label_of, tag_colors, units

__all__ = ["render_dot", "render_mermaid"]


def _mermaid_id(name: str) -> str:
    """A Mermaid node id: word characters only, plus a digest when the name had others,
    so 'a-b' and 'a_b' stay two nodes."""
    safe = re.sub(r"\W", "_", name)
    if safe != name:
        safe += "_" + hashlib.sha256(name.encode()).hexdigest()[:6]
    return "n_" + safe


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: quotes as entities, no line breaks."""
    return _one_line(text).replace('"', "#quot;")


def _one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text)


def render_mermaid(graph: nx.DiGraph, *, highlight: frozenset[str] | None = None,
                   status: Mapping[str, NodeStatus] | None = None, title: str = "") -> str:
    lines = []
    if title:
        lines += ["---", "title: " + json.dumps(_one_line(title)), "---"]
    lines.append("flowchart LR")
    for n in sorted(graph.nodes):
        label = _mermaid_text(label_of(n, status))
        lines.append(f'    {_mermaid_id(n)}["{label}"]')
    for u, v in sorted(graph.edges):
        lines.append(f"    {_mermaid_id(u)} --> {_mermaid_id(v)}")
    for i, unit in enumerate(units(graph)):  # a cycle's tables, seeded together
        lines.append(f'    subgraph unit_{i}["seeded together (foreign-key cycle)"]')
        lines += [f"        {_mermaid_id(m)}" for m in unit]
        lines.append("    end")
    classes: dict[str, list[str]] = {}
    for n in sorted(graph.nodes):
        if status and n in status:
            classes.setdefault(status[n].status, []).append(_mermaid_id(n))
        elif highlight is not None:
            classes.setdefault("selected" if n in highlight else "dimmed", []).append(
                _mermaid_id(n))
    defs = {**{k: f"fill:{c},stroke:#475569" for k, c in STATUS_COLORS.items()},
            "selected": "fill:#fde68a,stroke:#0f172a,stroke-width:2px",
            "dimmed": "fill:#f8fafc,stroke:#cbd5e1,color:#94a3b8"}
    for name, members in classes.items():
        lines.append(f"    classDef {name} {defs[name]}")
        lines.append(f"    class {','.join(members)} {name}")
    return "\n".join(lines) + "\n"


def _dot_id(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"\r?\n", "\\\\n", escaped) + '"'


def render_dot(graph: nx.DiGraph, *, highlight: frozenset[str] | None = None,
               status: Mapping[str, NodeStatus] | None = None, title: str = "") -> str:
    fills = tag_colors(graph)
    lines = ["digraph seedgraph {", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
             f"  label={_dot_id(title)}; labelloc=t;"]
    groups: dict[str, list[str]] = {}
    for n in graph.nodes:
        groups.setdefault((graph.nodes[n].get("tags") or ("untagged",))[0], []).append(n)
    for i, (tag, members) in enumerate(sorted(groups.items())):
        lines.append(f"  subgraph cluster_{i} {{ label={_dot_id('tag: ' + tag)}; "
                     'style=dashed; color="#94a3b8";')
        for n in sorted(members):
            fill = STATUS_COLORS.get(status[n].status, "#e5e7eb") if status and n in status \
                else fills[n]
            extra = ""
            if highlight is not None:
                extra = ", penwidth=2" if n in highlight else ', fontcolor="#94a3b8"'
            lines.append(f"    {_dot_id(n)} [label={_dot_id(label_of(n, status))}, "
                         f'fillcolor="{fill}"{extra}];')
        lines.append("  }")
    for u, v in sorted(graph.edges):
        lines.append(f"  {_dot_id(u)} -> {_dot_id(v)};")
    for unit in units(graph):  # a cycle's tables, seeded together
        lines.append("  { rank=same; " + " ".join(_dot_id(m) for m in unit) + " }")
        lines.append("  " + " -> ".join(_dot_id(m) for m in (*unit, unit[0]))
                     + ' [style=dashed, color="#7c3aed", label="seeded together", '
                     "constraint=false];")
    lines.append("}")
    return "\n".join(lines) + "\n"
