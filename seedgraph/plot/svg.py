"""SVG rendering of the layered layout (no system binaries)."""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import escape

import networkx as nx

from seedgraph.plot.layout import NODE_H, NODE_W, Layout
from seedgraph.plot.style import STATUS_COLORS, NodeStatus, label_of, tag_colors, units

__all__ = ["render_svg"]



def _attr(value: str) -> str:
    """*value* inside a double-quoted attribute: names come from packs and databases."""
    return escape(value, {'"': "&quot;"})

def _path(points: list[tuple[float, float]]) -> str:
    (x0, y0), rest = points[0], points[1:]
    d = f"M{x0:.1f},{y0:.1f}"
    px, py = x0, y0
    for x, y in rest:
        mid = (px + x) / 2
        d += f" C{mid:.1f},{py:.1f} {mid:.1f},{y:.1f} {x:.1f},{y:.1f}"
        px, py = x, y
    return d


def render_svg(graph: nx.DiGraph, lay: Layout, *, highlight: frozenset[str] | None = None,
               status: Mapping[str, NodeStatus] | None = None, title: str = "") -> str:
    fills = tag_colors(graph)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}" '
           f'height="{lay.height + (90 if status else 0):.0f}" font-family="Helvetica, Arial, '
           'sans-serif" font-size="12">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#64748b"/></marker></defs>',
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           f'<text x="20" y="26" font-size="16" font-weight="bold">{escape(title)}</text>']
    for members in units(graph):  # a cycle's tables: one unit, in one transaction
        xs = [lay.positions[m][0] for m in members]
        ys = [lay.positions[m][1] for m in members]
        x0, y0 = min(xs) - NODE_W / 2 - 8, min(ys) - NODE_H / 2 - 18
        w, h = max(xs) - min(xs) + NODE_W + 16, max(ys) - min(ys) + NODE_H + 26
        out.append(f'<g class="unit" data-members="{_attr(" ".join(members))}">'
                   f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{h:.1f}" rx="10" '
                   'fill="none" stroke="#7c3aed" stroke-dasharray="5,3"/>'
                   f'<text x="{x0 + 6:.1f}" y="{y0 + 12:.1f}" font-size="10" fill="#7c3aed">'
                   'seeded together (foreign-key cycle)</text></g>')
    for (u, v), route in sorted(lay.routes.items()):
        pts = [lay.positions[p] for p in route]
        pts[0] = (pts[0][0] + NODE_W / 2, pts[0][1])
        pts[-1] = (pts[-1][0] - NODE_W / 2, pts[-1][1])
        dim = highlight is not None and not (u in highlight and v in highlight)
        out.append(f'<path class="edge" data-from="{_attr(u)}" data-to="{_attr(v)}" '
                   f'd="{_path(pts)}" fill="none" stroke="{"#cbd5e1" if dim else "#64748b"}" '
                   f'stroke-width="{1 if dim else 1.4}" marker-end="url(#arrow)"/>')
    for node in sorted(graph.nodes):
        x, y = lay.positions[node]
        dim = highlight is not None and node not in highlight
        fill = STATUS_COLORS.get(status[node].status, "#e5e7eb") if status and node in status \
            else fills[node]
        stroke = "#0f172a" if highlight is not None and node in highlight else "#475569"
        tags = ", ".join(graph.nodes[node].get("tags", ()))
        out.append(
            f'<g class="node" data-name="{_attr(node)}" opacity="{0.35 if dim else 1}">'
            f'<title>{escape(node)}{" [" + escape(tags) + "]" if tags else ""}</title>'
            f'<rect x="{x - NODE_W / 2:.1f}" y="{y - NODE_H / 2:.1f}" width="{NODE_W}" '
            f'height="{NODE_H}" rx="6" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{2 if stroke == "#0f172a" else 1}"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle">'
            f'{escape(label_of(node, status))}</text></g>')
    if status:
        y0 = lay.height + 20
        out.append(f'<text x="20" y="{y0:.0f}" font-weight="bold">last run</text>')
        for i, (name, colour) in enumerate(STATUS_COLORS.items()):
            x = 100 + i * 110
            out.append(f'<rect x="{x}" y="{y0 - 12:.0f}" width="14" height="14" fill="{colour}" '
                       f'stroke="#475569"/><text x="{x + 20}" y="{y0:.0f}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out)
