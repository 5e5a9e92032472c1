"""Colours and labels shared by every plot format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

__all__ = ["STATUS_COLORS", "NodeStatus", "label_of", "tag_colors", "units"]


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """A node's latest checkpoint, for ``--status``."""

    status: str  # done | failed | skipped | interrupted | running | pending | never
    rows: int | None = None
    seconds: float | None = None
    error: str | None = None


STATUS_COLORS = {
    "done": "#22c55e", "failed": "#ef4444", "skipped": "#eab308", "interrupted": "#a855f7",
    "running": "#06b6d4", "pending": "#94a3b8", "never": "#e5e7eb",
}
PALETTE = ("#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#e0e7ff", "#ccfbf1", "#fee2e2",
           "#ede9fe", "#f3f4f6", "#ffedd5")


def tag_colors(graph: nx.DiGraph) -> dict[str, str]:
    """A fill colour per node from its first tag (tags are colour groups)."""
    groups = sorted({(graph.nodes[n].get("tags") or ("",))[0] for n in graph})
    colour = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    return {n: colour[(graph.nodes[n].get("tags") or ("",))[0]] for n in graph}


def label_of(node: str, status: Mapping[str, NodeStatus] | None) -> str:
    if not status or node not in status:
        return node
    st = status[node]
    extra = []
    if st.rows is not None:
        extra.append(f"{st.rows:,} rows")
    if st.seconds is not None:
        extra.append(f"{st.seconds:.1f}s")
    return f"{node} ({', '.join(extra)})" if extra else node


def units(graph: nx.DiGraph) -> list[tuple[str, ...]]:
    """The groups of tables seeded together because their foreign keys form a cycle."""
    return sorted({tuple(graph.nodes[n]["unit"]) for n in graph.nodes
                   if len(graph.nodes[n].get("unit", ())) > 1})
