"""File values as the column they land in stores them: what a data file may say for each
column kind, and the error when it says something else (see :mod:`seedgraph.datafile`).

A value that would be stored differently from what is written is refused, never
converted: ``1.10`` for a text column (YAML reads the number 1.1), ``true`` for an
integer, a timestamp for a date.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from seedgraph.columns import ColumnKind, ColumnSpec

__all__ = ["coerce"]

_INTS = {ColumnKind.INT2, ColumnKind.INT4, ColumnKind.INT8}
_FLOATS = {ColumnKind.FLOAT4, ColumnKind.FLOAT8, ColumnKind.NUMERIC}
_ARRAYS = {ColumnKind.INT4_ARRAY: int, ColumnKind.INT8_ARRAY: int,
           ColumnKind.FLOAT4_ARRAY: float, ColumnKind.FLOAT8_ARRAY: float,
           ColumnKind.TEXT_ARRAY: str}
_TRUE, _FALSE = {"true", "t", "yes", "y", "1"}, {"false", "f", "no", "n", "0"}


def coerce(value: Any, col: ColumnSpec, *, text: bool = False) -> Any:
    """*value* as the Python value column *col* stores; *text*: it came from a CSV cell.
    Raises ValueError saying what is wrong."""
    k = col.kind
    if k in _INTS:
        if isinstance(value, bool):
            raise ValueError(f"expected a whole number ({col.pg_type or k.value}), got {value}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and text:
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ValueError(f"expected a whole number ({col.pg_type or k.value}), got {value!r}")
    if k in _FLOATS:
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and text:
            try:
                return Decimal(value.strip()) if k is ColumnKind.NUMERIC else float(value)
            except (ValueError, InvalidOperation):
                pass
        raise ValueError(f"expected a number ({col.pg_type or k.value}), got {value!r}")
    if k is ColumnKind.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and text and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError(f"expected true or false, got {value!r}")
    if k is ColumnKind.TEXT:
        if isinstance(value, str):
            return value
        raise ValueError(f"expected text, got {type(value).__name__} {value!r}; quote it "
                         f"(\"{value}\") so it is stored exactly as written")
    if k is ColumnKind.DATE:
        if isinstance(value, datetime):
            raise ValueError(f"expected a date (YYYY-MM-DD), got the timestamp {value}")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValueError(f"expected a date (YYYY-MM-DD), got {value!r}")
    if k in (ColumnKind.TIMESTAMP, ColumnKind.TIMESTAMPTZ):
        parsed = value
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                parsed = None
        elif isinstance(value, date) and not isinstance(value, datetime):
            parsed = datetime(value.year, value.month, value.day)
        if not isinstance(parsed, datetime):
            raise ValueError(f"expected a timestamp (YYYY-MM-DDTHH:MM:SS, UTC unless it "
                             f"says +HH:MM), got {value!r}")
        return parsed if parsed.tzinfo is None else parsed.astimezone(UTC).replace(tzinfo=None)
    if k is ColumnKind.UUID:
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise ValueError(f"expected a UUID, got {value!r}") from None
    if k in (ColumnKind.JSON, ColumnKind.JSONB):
        if text and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"expected JSON text, got {value!r} ({exc.msg})") from None
        try:
            return json.dumps(value, sort_keys=False, ensure_ascii=False)
        except TypeError:
            raise ValueError(f"expected JSON (a mapping, list, text, number or true/false), "
                             f"got {value!r}; quote dates and times") from None
    if k in _ARRAYS:
        return _coerce_array(value, col, _ARRAYS[k], text=text)
    raise ValueError(f"seedgraph cannot take values of type {col.pg_type or k.value} from a "
                     "data file; fill this column in the task instead")


def _coerce_array(value: Any, col: ColumnSpec, item: type, *, text: bool) -> list[Any]:
    if text and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"expected a list in JSON syntax, e.g. [1, 2], got {value!r}"
                             ) from None
    if not isinstance(value, list):
        raise ValueError(f"expected a list ({col.pg_type or col.kind.value}), got {value!r}")
    for v in value:
        ok = isinstance(v, str) if item is str else (
            isinstance(v, int | float) and not isinstance(v, bool)
            and (item is float or isinstance(v, int)))
        if not ok:
            raise ValueError(f"expected a list of {item.__name__}, got the item {v!r}")
    return [item(v) for v in value]
