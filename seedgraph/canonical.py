"""The canonical arrays: what a task wrote, and what a database returned, as numpy.

A task hands the writer whatever sequences are convenient; :func:`normalize`
turns each into a canonical numpy array plus a null mask. The PostgreSQL
binary COPY encoder (``backends.pgcopy``) and the SQLite row builder
(``backends.sqlite``) consume that canonical form; :func:`decode` turns values
read back from either database into the same canonical arrays, so ``ctx.read``
looks alike on both.

Canonical arrays per kind (``mask`` is a bool array, True where NULL, or None):

=============  =====================================================================
kind           canonical values
=============  =====================================================================
INT2/4/8       int64
FLOAT4/8       float64 (NaN is NULL)
NUMERIC        float64, rounded to ``scale`` when written (NaN is NULL)
BOOL           bool
TEXT           object array of str (also ENUM and VARCHAR)
DATE           datetime64[D]  (NaT is NULL)
TIMESTAMP      datetime64[us], UTC wall time (NaT is NULL); also TIMESTAMPTZ
TIME           timedelta64[us] since midnight
UUID           object array of canonical hyphenated str
JSON/JSONB     object array of serialized JSON text (str input is taken as JSON text)
FLOAT_ARRAY    2-D float64 (n, dim) when every row has the same length (no rows: (0, 0)),
               else (ragged or a NULL row) object array of lists of float, None for NULL
INT_ARRAY      object array of lists of int
TEXT_ARRAY     object array of lists of str
BYTEA          object array of bytes
=============  =====================================================================
"""

from __future__ import annotations

import json
import re
import uuid as _uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np

from seedgraph.columns import _INT_KINDS, Column, ColumnKind, ColumnSpec
from seedgraph.errors import UsageError
from seedgraph.jsonarrays import json_rows

__all__ = ["decode", "normalize"]

_FLOAT_KINDS = {ColumnKind.FLOAT4, ColumnKind.FLOAT8, ColumnKind.NUMERIC}
_INT_LIMITS = {ColumnKind.INT2: 2**15 - 1, ColumnKind.INT4: 2**31 - 1, ColumnKind.INT8: 2**63 - 1}

# -- normalising what a task wrote --------------------------------------------


def _bad(col: ColumnSpec, value: Any, want: str) -> UsageError:
    return UsageError(f"column '{col.name}' ({col.kind.value}) got {value!r}; expected {want}")


def _objects(values: Any, n: int) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    out = np.empty(n, dtype=object)
    if isinstance(values, np.ndarray) and values.ndim > 1:
        for i in range(n):
            out[i] = values[i]
    else:
        out[:] = list(values)
    return out


def _null_mask(obj: np.ndarray) -> np.ndarray | None:
    mask = np.fromiter((v is None for v in obj), dtype=bool, count=len(obj))
    return mask if mask.any() else None


_STR_OR_NONE = frozenset({str, type(None)})


def _texts_null_mask(out: np.ndarray) -> np.ndarray | None:
    """The NULL mask of an array holding only str and None: compared in one C loop (a
    str never equals None), twice as quick as asking each value ``is None``."""
    mask = np.asarray(out == None, dtype=bool)  # noqa: E711 (element by element)
    return mask if mask.any() else None


def _to_utc_naive(v: datetime) -> datetime:
    return v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo is not None else v


def _time_us(v: Any, col: ColumnSpec) -> int:
    if isinstance(v, time):
        return ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
    if isinstance(v, str):
        try:
            return _time_us(time.fromisoformat(v), col)
        except ValueError:
            raise _bad(col, v, "'HH:MM[:SS]'") from None
    if isinstance(v, np.timedelta64):
        return int(v.astype("timedelta64[us]").astype(np.int64))
    raise _bad(col, v, "a datetime.time or 'HH:MM[:SS]'")


def _json_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, np.ndarray):
        v = v.tolist()
    return _ENCODER.encode(v)


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, _uuid.UUID):
        return str(v)
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


# json.dumps with these arguments builds an encoder per call: one for every value
_ENCODER = json.JSONEncoder(default=_json_default, separators=(", ", ": "))
# the text str(uuid.UUID(v)) gives: a value already in this form is kept as it is
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalize(values: Any, col: ColumnSpec, n: int) -> Column:
    """Canonical numpy array (see the module docstring) and NULL mask for one column."""
    if len(values) != n:
        raise UsageError(f"column '{col.name}' has {len(values)} values, expected {n}")
    arr, mask = _normalize(values, col, n)
    if mask is not None and not mask.any():
        mask = None
    if mask is not None and not col.nullable:
        first = int(np.flatnonzero(mask)[0])
        raise UsageError(
            f"column '{col.name}' is NOT NULL but row {first} of the batch is NULL/NaN/NaT"
        )
    return arr, mask


def _normalize(values: Any, col: ColumnSpec, n: int) -> Column:
    k = col.kind
    is_arr = isinstance(values, np.ndarray) and values.dtype != object
    if k in _INT_KINDS:
        if is_arr and values.dtype.kind in "iub":
            out = values.astype(np.int64, copy=False)
            mask = None
        elif is_arr and values.dtype.kind == "f":
            mask = np.isnan(values)
            out = np.where(mask, 0, values).astype(np.int64)
        else:
            obj = _objects(values, n)
            mask = _null_mask(obj)
            try:
                out = np.array([0 if v is None else int(v) for v in obj], dtype=np.int64)
            except (TypeError, ValueError) as exc:
                raise _bad(col, exc, "integers") from None
        if n and (out.max() > _INT_LIMITS[k] or out.min() < -_INT_LIMITS[k] - 1):
            raise UsageError(f"column '{col.name}' ({k.value}) has a value out of range")
        return out, mask
    if k in _FLOAT_KINDS:
        if is_arr and values.dtype.kind in "iufb":
            out = values.astype(np.float64, copy=False)
        else:
            obj = _objects(values, n)
            try:
                out = np.array([np.nan if v is None else float(v) for v in obj], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise _bad(col, exc, "numbers") from None
        mask = np.isnan(out)
        if k is ColumnKind.NUMERIC and np.isinf(out).any():
            raise _bad(col, float(out[np.isinf(out)][0]), "finite numbers (or None for NULL)")
        return out, mask
    if k is ColumnKind.BOOL:
        if is_arr and values.dtype.kind in "biu":
            return values.astype(bool, copy=False), None
        obj = _objects(values, n)
        mask = _null_mask(obj)
        return np.array([bool(v) if v is not None else False for v in obj], dtype=bool), mask
    if k is ColumnKind.DATE:
        if is_arr and values.dtype.kind == "M":
            out = values.astype("datetime64[D]")
        else:
            obj = _objects(values, n)
            conv = [None if v is None else (v.date() if isinstance(v, datetime) else v)
                    for v in obj]
            try:
                out = np.array(conv, dtype="datetime64[D]")
            except (TypeError, ValueError):
                raise _bad(col, obj[0], "dates") from None
        return out, np.isnat(out)
    if k in (ColumnKind.TIMESTAMP, ColumnKind.TIMESTAMPTZ):
        if is_arr and values.dtype.kind == "M":
            out = values.astype("datetime64[us]")
        else:
            obj = _objects(values, n)
            conv = [_to_utc_naive(v) if isinstance(v, datetime) else v for v in obj]
            try:
                out = np.array(conv, dtype="datetime64[us]")
            except (TypeError, ValueError):
                raise _bad(col, obj[0], "datetimes") from None
        return out, np.isnat(out)
    if k is ColumnKind.TIME:
        if is_arr and values.dtype.kind == "m":
            out = values.astype("timedelta64[us]")
            return out, np.isnat(out)
        obj = _objects(values, n)
        mask = _null_mask(obj)
        us = np.array([0 if v is None else _time_us(v, col) for v in obj], dtype=np.int64)
        return us.astype("timedelta64[us]"), mask
    if k is ColumnKind.UUID:
        obj = _objects(values, n)
        out = np.empty(n, dtype=object)
        canonical = _CANONICAL_UUID.fullmatch
        for i, v in enumerate(obj):
            out[i] = None if v is None else v if isinstance(v, str) and canonical(v) else \
                str(v) if isinstance(v, _uuid.UUID) else str(_uuid.UUID(str(v)))
        return out, _texts_null_mask(out)
    if k in (ColumnKind.JSON, ColumnKind.JSONB):
        if isinstance(values, np.ndarray) and values.ndim >= 2:
            out = np.empty(n, dtype=object)
            out[:] = json_rows(values)
            return out, None
        obj = _objects(values, n)
        out = np.empty(n, dtype=object)
        out[:] = [None if v is None else _json_text(v) for v in obj]
        return out, _texts_null_mask(out)
    if k in (ColumnKind.FLOAT4_ARRAY, ColumnKind.FLOAT8_ARRAY):
        if isinstance(values, np.ndarray) and values.ndim >= 2:
            return values.astype(np.float64, copy=False), None
        obj = _objects(values, n)
        mask = _null_mask(obj)
        # a NULL element stays NULL (np.asarray would turn it into NaN)
        rows = [None if v is None else np.asarray(v, dtype=np.float64)
                if not any(x is None for x in v) else
                [None if x is None else float(x) for x in v] for v in obj]
        lengths = {len(r) for r in rows if r is not None}
        if (mask is None and len(lengths) == 1 and n
                and all(isinstance(r, np.ndarray) for r in rows)):
            return np.vstack(rows), None  # type: ignore[arg-type]
        out = np.empty(n, dtype=object)
        out[:] = rows
        return out, mask
    if k in (ColumnKind.INT4_ARRAY, ColumnKind.INT8_ARRAY, ColumnKind.TEXT_ARRAY):
        obj = _objects(values, n)
        out = np.empty(n, dtype=object)
        out[:] = [None if v is None else list(v) for v in obj]
        return out, _null_mask(out)
    if k is ColumnKind.BYTEA:
        obj = _objects(values, n)
        return obj, _null_mask(obj)
    # TEXT
    if is_arr and values.dtype.kind == "U":
        return values.astype(object), None
    obj = _objects(values, n)
    if set(map(type, obj)) <= _STR_OR_NONE:  # the usual case, checked in one C loop
        out = obj.copy() if obj is values else obj  # the task may reuse its own array
    else:
        out = np.empty(n, dtype=object)
        out[:] = [None if v is None else v if isinstance(v, str) else str(v) for v in obj]
    return out, _texts_null_mask(out)


# -- decoding what the database returns ------------------------------------------


def _hyphenate(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, _uuid.UUID):
        return str(v)
    return str(_uuid.UUID(str(v)))


def decode(values: Sequence[Any], col: ColumnSpec, dialect: str) -> np.ndarray:
    """Values of one column as read from *dialect* -> the canonical array, the same on
    every database (the column's kind does not depend on it: see :func:`kind_for`).

    Integer columns holding NULLs come back as float64 with NaN; bool columns
    holding NULLs as an object array; JSON columns as the parsed values.
    """
    k = col.kind
    has_null = any(v is None for v in values)
    if k in _INT_KINDS:
        return np.array(values, dtype=np.float64 if has_null else np.int64)
    if k in _FLOAT_KINDS:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    if k is ColumnKind.BOOL:
        if has_null:
            return np.array([None if v is None else bool(v) for v in values], dtype=object)
        return np.array([bool(v) for v in values], dtype=bool)
    if k is ColumnKind.DATE:
        return np.array(values, dtype="datetime64[D]")
    if k in (ColumnKind.TIMESTAMP, ColumnKind.TIMESTAMPTZ):
        conv = [_to_utc_naive(v) if isinstance(v, datetime) else v for v in values]
        return np.array(conv, dtype="datetime64[us]")
    if k is ColumnKind.TIME:
        out = np.array([0 if v is None else _time_us(v, col) for v in values], dtype=np.int64)
        td = out.astype("timedelta64[us]")
        if has_null:
            td[np.array([v is None for v in values])] = np.timedelta64("NaT")
        return td
    obj = np.empty(len(values), dtype=object)
    if k is ColumnKind.UUID:
        obj[:] = [_hyphenate(v) for v in values]
        return obj
    if k in (ColumnKind.JSON, ColumnKind.JSONB):
        obj[:] = [json.loads(v) if isinstance(v, str | bytes) else v for v in values]
        return obj
    if k in (ColumnKind.FLOAT4_ARRAY, ColumnKind.FLOAT8_ARRAY, ColumnKind.INT4_ARRAY,
             ColumnKind.INT8_ARRAY, ColumnKind.TEXT_ARRAY):
        rows = [json.loads(v) if isinstance(v, str) else (None if v is None else list(v))
                for v in values]
        if k in (ColumnKind.FLOAT4_ARRAY, ColumnKind.FLOAT8_ARRAY) and not has_null:
            if not rows:
                return np.zeros((0, 0))  # no rows: every row has the same length
            if len({len(r or ()) for r in rows}) == 1:
                return np.array(rows, dtype=np.float64)
        obj[:] = rows
        return obj
    obj[:] = list(values)
    return obj
