"""One self-contained HTML file: the SVG plus a panel that explains the node under the pointer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from xml.sax.saxutils import escape

import networkx as nx

from seedgraph.plot.style import NodeStatus

__all__ = ["render_html"]

_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('graph-data').textContent);
  var panel = document.getElementById('panel');
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function list(items) {  // names come from packs and live databases: escape every one
    return items.map(esc).join(', ') || '-';
  }
  function show(name) {
    var n = data[name];
    if (!n) { return; }
    var html = '<h2>' + esc(name) + '</h2>';
    html += '<p><b>tags</b>: ' + list(n.tags) + '</p>';
    html += '<p><b>upstream</b>: ' + list(n.upstream) + '</p>';
    html += '<p><b>downstream</b>: ' + list(n.downstream) + '</p>';
    if (n.status) {
      html += '<p><b>last run</b>: ' + esc(n.status.status) +
        (n.status.rows !== null ? ', ' + n.status.rows + ' rows' : '') +
        (n.status.seconds !== null ? ', ' + n.status.seconds.toFixed(2) + ' s' : '') +
        (n.status.error ? '<br><code>' + esc(n.status.error) + '</code>' : '') + '</p>';
    }
    if (n.description) { html += '<p>' + esc(n.description) + '</p>'; }
    panel.innerHTML = html;
    var related = {};
    related[name] = true;
    n.upstream.concat(n.downstream).forEach(function (m) { related[m] = true; });
    document.querySelectorAll('g.node').forEach(function (g) {
      g.setAttribute('opacity', related[g.getAttribute('data-name')] ? '1' : '0.3');
    });
    document.querySelectorAll('path.edge').forEach(function (p) {
      var on = p.getAttribute('data-from') === name || p.getAttribute('data-to') === name;
      p.setAttribute('stroke', on ? '#0f172a' : '#e2e8f0');
    });
  }
  document.querySelectorAll('g.node').forEach(function (g) {
    g.style.cursor = 'pointer';
    g.addEventListener('mouseenter', function () { show(g.getAttribute('data-name')); });
    g.addEventListener('click', function () { show(g.getAttribute('data-name')); });
  });
  // graph.html#orders opens with that task shown
  function fromHash() {
    if (location.hash.length > 1) { show(decodeURIComponent(location.hash.slice(1))); }
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
  document.body.setAttribute('data-ready', String(Object.keys(data).length));
})();
"""

_GUARD = """
window.onerror = function (msg) { document.body.setAttribute('data-error', String(msg)); };
(function () {
  var original = console.error;
  console.error = function () {
    document.body.setAttribute('data-error', Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
})();
"""


def render_html(graph: nx.DiGraph, svg: str, *, status: Mapping[str, NodeStatus] | None = None,
                title: str = "") -> str:
    data = {}
    for n in graph.nodes:
        st = status.get(n) if status else None
        data[n] = {
            "tags": list(graph.nodes[n].get("tags", ())),
            "description": graph.nodes[n].get("description", ""),
            "upstream": sorted(graph.predecessors(n)), "downstream": sorted(graph.successors(n)),
            "status": None if st is None else {"status": st.status, "rows": st.rows,
                                                "seconds": st.seconds, "error": st.error},
        }
    payload = json.dumps(data, sort_keys=True).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<script>{_GUARD}</script>
<style>
body {{ margin: 0; font-family: Helvetica, Arial, sans-serif; display: flex; }}
#graph {{ flex: 1; overflow: auto; }}
#panel {{ width: 320px; padding: 12px 16px; border-left: 1px solid #e2e8f0; background: #f8fafc;
          min-height: 100vh; box-sizing: border-box; }}
#panel h2 {{ font-size: 16px; margin: 4px 0 12px; }}
</style></head>
<body>
<div id="graph">{svg}</div>
<div id="panel"><h2>{escape(title)}</h2><p>Hover or click a task to see its upstream,
downstream, tags and last run.</p></div>
<script type="application/json" id="graph-data">{payload}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
