"""PNG rendering with Pillow (the optional ``png`` extra): the same layout, rasterised."""

from __future__ import annotations

import io
from collections.abc import Mapping

import networkx as nx

from seedgraph.errors import UsageError
from seedgraph.plot.layout import NODE_H, NODE_W, Layout
from seedgraph.plot.style import STATUS_COLORS, NodeStatus, label_of, tag_colors

__all__ = ["render_png"]


def render_png(graph: nx.DiGraph, lay: Layout, *, highlight: frozenset[str] | None = None,
               status: Mapping[str, NodeStatus] | None = None, title: str = "") -> bytes:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise UsageError(
            "PNG output needs the 'png' extra: pip install 'seedgraph[png]' "
            "(or write .svg or .html, which need nothing)"
        ) from None
    legend = 50 if status else 0
    img = Image.new("RGB", (int(lay.width), int(lay.height) + legend), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    draw.text((20, 12), title, fill="black", font=font)
    for (u, v), route in sorted(lay.routes.items()):
        pts = [lay.positions[p] for p in route]
        pts[0] = (pts[0][0] + NODE_W / 2, pts[0][1])
        pts[-1] = (pts[-1][0] - NODE_W / 2, pts[-1][1])
        dim = highlight is not None and not (u in highlight and v in highlight)
        draw.line(pts, fill="#cbd5e1" if dim else "#64748b", width=1)
        x, y = pts[-1]
        draw.polygon([(x, y), (x - 7, y - 4), (x - 7, y + 4)], fill="#64748b")
    fills = tag_colors(graph)
    for n in graph.nodes:
        x, y = lay.positions[n]
        fill = STATUS_COLORS.get(status[n].status, "#e5e7eb") if status and n in status \
            else fills[n]
        dim = highlight is not None and n not in highlight
        box = (x - NODE_W / 2, y - NODE_H / 2, x + NODE_W / 2, y + NODE_H / 2)
        draw.rounded_rectangle(box, radius=6, fill="#f8fafc" if dim else fill,
                               outline="#0f172a" if highlight and n in highlight else "#475569")
        draw.text((x, y), label_of(n, status), fill="#94a3b8" if dim else "black", font=font,
                  anchor="mm")
    if status:
        y0 = int(lay.height) + 20
        for i, (name, colour) in enumerate(STATUS_COLORS.items()):
            x0 = 20 + i * 110
            draw.rectangle((x0, y0, x0 + 14, y0 + 14), fill=colour, outline="#475569")
            draw.text((x0 + 20, y0 + 1), name, fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
