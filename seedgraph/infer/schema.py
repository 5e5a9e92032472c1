"""What inference reads off a reflected table: base types, unique sets, bounds, partitions.

Small pure functions over SQLAlchemy objects and parsed CHECK rules, shared by the
code writer in :mod:`seedgraph.infer.table`: a domain's underlying type, a column's
SQL type, every set of columns that must be unique, the numeric bounds of CHECK
ranges, a partition's bounds as a generator call, and a constraint described in words.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa

from seedgraph.backends.kinds import DIALECTS as _DIALECT
from seedgraph.backends.reflect import Partitioning, unique_sets
from seedgraph.checks import Range
from seedgraph.columns import ColumnKind

__all__ = ["INTS", "TIMES", "K", "_base", "_bounds", "_describe", "_partition_expr",
           "_type_sql", "_unique_sets"]

K = ColumnKind
INTS = {K.INT2, K.INT4, K.INT8}
TIMES = {K.TIMESTAMP, K.TIMESTAMPTZ}


def _base(type_: object) -> object:
    """A domain's underlying type (its length, precision, scale, enum values)."""
    return getattr(type_, "data_type", None) or type_


def _type_sql(c: sa.Column[object], dialect: str) -> str:
    try:
        return str(c.type.compile(dialect=_DIALECT[dialect]))
    except Exception:
        return str(type(c.type).__name__)


def _unique_sets(t: sa.Table) -> list[tuple[str, ...]]:
    """The sets :func:`unique_sets` lists, a partial unique index's as a whole one (its
    values are made distinct everywhere, which satisfies it)."""
    return [u.columns for u in unique_sets(t)]


def _bounds(ranges: list[Range]) -> tuple[float | None, float | None]:
    low: float | None = None
    high: float | None = None
    for r in ranges:
        if isinstance(r.low, int | float):
            lo = r.low if r.low_inclusive else r.low + (1 if isinstance(r.low, int) else 1e-6)
            low = lo if low is None else max(low, lo)
        if isinstance(r.high, int | float):
            hi = r.high if r.high_inclusive else r.high - (
                1 if isinstance(r.high, int) else 1e-6)
            high = hi if high is None else min(high, hi)
    return low, high


def _partition_expr(part: Partitioning, kind: ColumnKind) -> str:
    if part.strategy == "list":
        values = [_literal(v, kind) for bound in part.bounds for v in bound]
        return f"gen.choice(rng, {values!r}, n)"
    ranges = [(_literal(lo, kind), _literal(hi, kind)) for lo, hi in part.bounds
              if "MINVALUE" not in lo and "MAXVALUE" not in hi]
    return f"gen.in_ranges(rng, n, {ranges!r})"


def _literal(text: str, kind: ColumnKind) -> object:
    """A partition bound's SQL literal as a Python value: '2022-01-01 00:00:00+00' →
    an ISO string (UTC wall time), 10 → 10."""
    raw = text.strip()
    raw = re.sub(r"::[\w ]+$", "", raw).strip()
    if raw.startswith("'") and raw.endswith("'"):
        raw = raw[1:-1].replace("''", "'")
        if kind in TIMES | {K.DATE}:
            when = datetime.fromisoformat(raw)
            if when.tzinfo is not None:
                when = when.astimezone(UTC).replace(tzinfo=None)
            return when.isoformat()
        return raw
    try:
        return int(raw)
    except ValueError:
        return float(raw)


def _describe(k: sa.Constraint) -> str:
    cols = ", ".join(c.name for c in getattr(k, "columns", []))
    if isinstance(k, sa.ForeignKeyConstraint):
        return f"foreign key ({cols}) → {k.referred_table.name}"
    if isinstance(k, sa.CheckConstraint):
        return f"check {k.sqltext}"
    if isinstance(k, sa.PrimaryKeyConstraint):
        return f"primary key ({cols})"
    return f"unique ({cols})"
