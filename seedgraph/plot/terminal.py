"""Terminal rendering: the graph by levels, one line per task, coloured by status."""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
from rich.console import Console
from rich.text import Text

from seedgraph.plot.layout import layout
from seedgraph.plot.style import NodeStatus

__all__ = ["render_terminal"]

_STYLE = {"done": "green", "failed": "bold red", "skipped": "yellow", "interrupted": "magenta",
          "running": "cyan", "pending": "bright_black", "never": "bright_black"}


def render_terminal(graph: nx.DiGraph, console: Console, *,
                    highlight: frozenset[str] | None = None,
                    status: Mapping[str, NodeStatus] | None = None, title: str = "") -> None:
    lay = layout(graph)
    width = max(60, min(console.width, 120))
    console.print(Text(title, style="bold"))
    for i, layer in enumerate(lay.layers):
        names = [n for n in layer if not lay.is_dummy(n)]
        console.print(Text(f"level {i}  ({len(names)} task{'s' if len(names) != 1 else ''})",
                           style="bold underline"))
        for n in names:
            line = Text("  ")
            st = status.get(n) if status else None
            glyph = {"done": "✔", "failed": "✘", "skipped": "↷", "interrupted": "⏸",
                     "running": "▶"}.get(st.status if st else "", "•")
            style = _STYLE.get(st.status, "") if st else ""
            if highlight is not None:
                style = "bold" if n in highlight else "bright_black"
            line.append(f"{glyph} ", style=style)
            line.append(n, style=style or "bold")
            partners = [m for m in graph.nodes[n].get("unit", ()) if m != n]
            if partners:  # a foreign-key cycle: seeded together in one transaction
                line.append(f"  ⟳ with {', '.join(partners)}", style="magenta")
            if st and st.rows is not None:
                line.append(f"  {st.rows:,} rows", style="cyan")
            if st and st.seconds is not None:
                line.append(f" {st.seconds:.1f}s", style="cyan")
            ups = sorted(graph.predecessors(n))
            if ups:
                room = width - len(line.plain) - 5
                joined = ", ".join(ups)
                if len(joined) > room > 10:
                    joined = joined[: room - 1] + "…"
                line.append(f"  ← {joined}", style="bright_black")
            console.print(line, overflow="ellipsis", no_wrap=True)
    if status:
        legend = Text("legend: ")
        for name, style in _STYLE.items():
            legend.append(f"{name} ", style=style)
        console.print(legend)
