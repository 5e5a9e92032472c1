"""``seedgraph export``: selected tables to CSV or JSON fixture files, one per table."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import networkx as nx

from seedgraph.backends import Database, quote
from seedgraph.graph import parents_first

__all__ = ["export_tables", "file_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def file_name(table: str, fmt: str) -> str:
    """A file name for *table* that stays inside the output folder: table names come from
    the database, and ``../x`` or ``/tmp/x`` must not become paths. A name that had to be
    changed gets a short digest, so two such names never share a file."""
    safe = _UNSAFE.sub("_", table).lstrip(".") or "_"
    if safe != table:
        safe += "-" + hashlib.sha256(table.encode()).hexdigest()[:8]
    return f"{safe}.{fmt}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str) or value is None or isinstance(value, int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


async def export_tables(db: Database, graph: nx.DiGraph, tables: Iterable[str], out: Path,
                        fmt: str, limit: int | None = None) -> dict[str, int]:
    """Write ``out/<table>.<fmt>`` for each table (parents first); return rows per table."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for name in parents_first(graph, tables):
        spec = await db.spec(name)
        cols = [c.name for c in spec.columns]
        order = ", ".join(quote(c) for c in (spec.primary_key or tuple(cols)))
        sql = f"SELECT {', '.join(quote(c) for c in cols)} FROM {quote(name)} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = await db.query(sql)
        path = out / file_name(name, fmt)
        if fmt == "csv":
            with path.open("w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(cols)
                for r in rows:
                    w.writerow(["" if v is None else _plain(v) for v in r])
        else:
            path.write_text(json.dumps([dict(zip(cols, map(_plain, r), strict=True))
                                        for r in rows], indent=1))
        written[name] = len(rows)
    return written
