"""SQLite's row encoding: the values of a normalised chunk as SQLite stores them (the
way SQLAlchemy's SQLite dialect does), grouped for multi-row INSERTs. The SQLite
counterpart of :mod:`seedgraph.backends.pgcopy`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Literal

import numpy as np

from seedgraph.backends.sql import plain_param
from seedgraph.canonical import _json_default
from seedgraph.columns import _INT_KINDS, Column, ColumnKind, ColumnSpec

__all__ = ["param", "sqlite_groups"]


# -- SQLite rows ----------------------------------------------------------------


def _with_nulls(items: list[Any], mask: np.ndarray | None) -> list[Any]:
    if mask is not None:
        for i in np.flatnonzero(mask).tolist():
            items[i] = None
    return items


def _format_times(arr: np.ndarray, unit: Literal["D", "us"]) -> list[Any]:
    """ISO text as SQLAlchemy's SQLite dialect stores it (each distinct date formatted once)."""
    if unit != "D":  # timestamps are mostly distinct: format directly
        out_ts: list[Any] = np.char.replace(np.datetime_as_string(arr, unit=unit), "T",
                                            " ").tolist()
        return out_ts
    uniq, inverse = np.unique(arr, return_inverse=True)
    text = np.datetime_as_string(uniq, unit=unit)
    pool = np.empty(len(uniq), dtype=object)
    pool[:] = text.tolist()
    out: list[Any] = pool[inverse.reshape(-1)].tolist()
    return out


def _sqlite_column(arr: np.ndarray, mask: np.ndarray | None, col: ColumnSpec) -> list[Any]:
    k = col.kind
    if k is ColumnKind.FLOAT4:  # the float32 value, as PostgreSQL's real stores it
        return _with_nulls(arr.astype(np.float32).astype(np.float64).tolist(), mask)
    if k in _INT_KINDS or k is ColumnKind.FLOAT8:
        return _with_nulls(arr.tolist(), mask)
    if k is ColumnKind.NUMERIC:
        vals = np.round(arr, col.scale) if col.scale is not None else arr
        return _with_nulls(vals.tolist(), mask)
    if k is ColumnKind.BOOL:
        return _with_nulls(arr.astype(np.int64).tolist(), mask)
    if k is ColumnKind.DATE:
        return _with_nulls(_format_times(arr, "D"), mask)
    if k in (ColumnKind.TIMESTAMP, ColumnKind.TIMESTAMPTZ):
        return _with_nulls(_format_times(arr, "us"), mask)
    if k is ColumnKind.TIME:
        us = arr.astype("timedelta64[us]").astype(np.int64)
        return _with_nulls([f"{u // 3_600_000_000:02d}:{u // 60_000_000 % 60:02d}:"
                            f"{u // 1_000_000 % 60:02d}.{u % 1_000_000:06d}" for u in us.tolist()],
                           mask)
    if k is ColumnKind.UUID:
        return [None if v is None else v.replace("-", "") for v in arr]
    if k in (ColumnKind.FLOAT4_ARRAY, ColumnKind.FLOAT8_ARRAY):
        # JSON text holding exactly the values PostgreSQL stores (float4: the float32
        # value, written at full precision, so a read gives the same float on both)
        f32 = k is ColumnKind.FLOAT4_ARRAY
        if arr.ndim == 2:  # a row at a time keeps one row's Python floats alive
            values = (arr.astype(np.float32) if f32 else arr).astype(np.float64)
            if not np.isfinite(values).all():
                return [json.dumps(r.tolist()) for r in values]
            # one C-level format per row: 17 significant digits give back every double
            # exactly, and it is 1.5x faster than json.dumps of the row's list
            fmt = "[" + ",".join(["%.17g"] * values.shape[1]) + "]"
            return [fmt % tuple(r.tolist()) for r in values]
        return [None if v is None else json.dumps([None if x is None else _float(x, f32)
                                                   for x in v]) for v in arr]
    if k in (ColumnKind.INT4_ARRAY, ColumnKind.INT8_ARRAY, ColumnKind.TEXT_ARRAY):
        return [None if v is None else json.dumps(v, default=_json_default) for v in arr]
    return list(arr)


def param(value: Any) -> Any:
    """A query parameter in the text form the rows store (dates, times, timestamps)."""
    value = plain_param(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat("microseconds")
    return value


def _float(x: Any, single: bool) -> float:
    return float(np.float32(x)) if single else float(x)


def sqlite_groups(columns: Sequence[Column], specs: Sequence[ColumnSpec], group: int
                  ) -> tuple[list[list[Any]], list[list[Any]]]:
    """Parameters for multi-row INSERTs, stored the way SQLAlchemy's SQLite dialect stores
    them: one flat list per *group* rows, then the leftover rows one by one (binding a
    statement per row costs SQLite more than the insert)."""
    converted = [_sqlite_column(a, m, c) for (a, m), c in zip(columns, specs, strict=True)]
    n = len(converted[0]) if converted else 0
    grid = np.empty((n, len(converted)), dtype=object)
    for j, values in enumerate(converted):
        grid[:, j] = values
    full = n - n % group
    grouped: list[list[Any]] = grid[:full].reshape(-1, group * len(converted)).tolist()
    rest: list[list[Any]] = grid[full:].tolist()
    return grouped, rest
