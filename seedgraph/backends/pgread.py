"""Reading columns from PostgreSQL with ``COPY ... TO STDOUT``, decoded column-wise with
numpy: the canonical arrays of :func:`seedgraph.canonical.decode`, without a Python
object per number, time or row.

Numbers, booleans, dates, times and UUIDs come in one binary COPY in which every field
has a fixed width: each column is cast to one wire type and sent as two fields, ``col
IS NULL`` and ``COALESCE(col, zero)``, so every row has the same length and the whole
stream is one numpy structured array. Text comes in a text-format COPY, where a tab
ends every field and a newline every row (the server escapes both inside values), so
numpy finds every field's boundaries at once and only the rare field holding a
backslash (an escape, or ``\\N`` for NULL) is unescaped in Python. Streams are decoded
a few megabytes at a time, so memory stays bounded whatever the table's size.

Columns of other kinds (JSON, arrays, numeric, intervals, enums, a user's own types)
are not read here: :func:`split` leaves them to the driver.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seedgraph.backends.url import quote
from seedgraph.columns import ColumnKind, ColumnSpec

__all__ = ["FixedReader", "TextReader", "fixed_query", "split", "text_query"]

PIECE_BYTES = 4 << 20  # stream bytes decoded at a time
_HEADER = 19  # PGCOPY signature, flags, header extension length
_EPOCH_2000_DAYS = 10_957
_EPOCH_2000_US = 946_684_800_000_000


@dataclass(frozen=True, slots=True)
class _Wire:
    cast: str  # the type every value is sent as
    zero: str  # what a NULL is sent as (the null flag says it was NULL)
    dtype: str  # its binary form


_FIXED = {
    ColumnKind.INT2: _Wire("int8", "0", ">i8"),
    ColumnKind.INT4: _Wire("int8", "0", ">i8"),
    ColumnKind.INT8: _Wire("int8", "0", ">i8"),
    ColumnKind.FLOAT4: _Wire("float8", "0", ">f8"),
    ColumnKind.FLOAT8: _Wire("float8", "0", ">f8"),
    ColumnKind.BOOL: _Wire("bool", "false", "u1"),
    ColumnKind.DATE: _Wire("date", "'2000-01-01'", ">i4"),
    ColumnKind.TIMESTAMP: _Wire("timestamp", "'2000-01-01'", ">i8"),
    ColumnKind.TIMESTAMPTZ: _Wire("timestamptz", "'2000-01-01 00:00:00+00'", ">i8"),
    ColumnKind.UUID: _Wire("uuid", "'00000000-0000-0000-0000-000000000000'", "V16"),
}
# the declared types whose values the driver hands back as plain strings (an enum, a
# domain or a user's own type keeps the driver's decoding)
_PLAIN_TEXT = re.compile(r"(TEXT|VARCHAR|CHAR|CHARACTER( VARYING)?|NVARCHAR)(\(\d+\))?",
                         re.IGNORECASE)
_INFINITE = {">i8": (2**63 - 1, -(2**63)), ">i4": (2**31 - 1, -(2**31))}


class Unreadable(Exception):
    """A value this reader does not decode (an infinite date or time): the caller reads
    the column through the driver instead."""


def split(cols: Sequence[ColumnSpec]) -> tuple[list[ColumnSpec], list[ColumnSpec],
                                                 list[ColumnSpec]]:
    """*cols* as (read with the binary COPY, read with the text COPY, left to the driver)."""
    fixed, text, rest = [], [], []
    for c in cols:
        if c.kind in _FIXED:
            fixed.append(c)
        elif c.kind is ColumnKind.TEXT and _PLAIN_TEXT.fullmatch(c.pg_type.strip()):
            text.append(c)
        else:
            rest.append(c)
    return fixed, text, rest


def _select(table: str, order: Sequence[str], exprs: Sequence[str]) -> str:
    return (f"SELECT {', '.join(exprs)} FROM {quote(table)} "
            f"ORDER BY {', '.join(quote(c) for c in order)}")


def fixed_query(table: str, order: Sequence[str], cols: Sequence[ColumnSpec]) -> str:
    exprs = []
    for c in cols:
        w = _FIXED[c.kind]
        exprs += [f"({quote(c.name)} IS NULL)",
                  f"COALESCE({quote(c.name)}::{w.cast}, {w.zero}::{w.cast})"]
    return _select(table, order, exprs)


def text_query(table: str, order: Sequence[str], cols: Sequence[ColumnSpec]) -> str:
    return _select(table, order, [quote(c.name) for c in cols])


class _Stream:
    """Chunks of a COPY stream, decoded a piece at a time by :meth:`_decode` (which
    returns how many bytes it used; the rest waits for the next chunk)."""

    def __init__(self) -> None:
        self._held: list[bytes] = []
        self._size = 0
        self._error: Exception | None = None

    async def feed(self, chunk: bytes) -> None:
        """Take the next chunk. It never raises: the driver waits forever on a COPY
        whose output raised, so an error waits for :meth:`_finish`."""
        if self._error is not None:
            return
        self._held.append(chunk)
        self._size += len(chunk)
        if self._size >= PIECE_BYTES:
            try:
                self._drain()
            except Exception as exc:  # re-raised by _finish
                self._error = exc
                self._held = []

    def _finish(self) -> None:
        if self._error is not None:
            raise self._error
        self._drain()
        if b"".join(self._held) != self._END:
            raise ValueError(f"a COPY stream ended inside a row: {self._size} bytes left")

    _END = b""  # what is left once the whole stream is decoded

    def _drain(self) -> None:
        data = b"".join(self._held)
        used = self._decode(data)
        rest = data[used:]
        self._held, self._size = ([rest], len(rest)) if rest else ([], 0)

    def _decode(self, data: bytes) -> int:
        raise NotImplementedError


class FixedReader(_Stream):
    """Decodes the binary COPY of :func:`fixed_query`: feed it the stream, then call
    :meth:`columns`."""

    def __init__(self, cols: Sequence[ColumnSpec]) -> None:
        super().__init__()
        self._cols = list(cols)
        fields: list[tuple[str, str]] = [("count", ">i2")]
        for i, c in enumerate(self._cols):
            fields += [(f"nl{i}", ">i4"), (f"null{i}", "u1"),
                       (f"vl{i}", ">i4"), (f"v{i}", _FIXED[c.kind].dtype)]
        self._row = np.dtype(fields)
        self._widths = [np.dtype(_FIXED[c.kind].dtype).itemsize for c in self._cols]
        self._pieces: list[np.ndarray] = []
        self._started = False

    _END = b"\xff\xff"  # the binary format's trailer

    def _decode(self, data: bytes) -> int:
        start = 0
        if not self._started:
            if len(data) < _HEADER:
                return 0
            start, self._started = _HEADER, True
        n = (len(data) - start) // self._row.itemsize
        rows = np.frombuffer(data, dtype=self._row, count=n, offset=start)
        ok = rows["count"] == 2 * len(self._cols)
        for i, w in enumerate(self._widths):
            ok &= (rows[f"nl{i}"] == 1) & (rows[f"vl{i}"] == w)
        if not ok.all():
            raise ValueError("unexpected row layout in a binary COPY of fixed-width fields")
        self._pieces.append(rows.copy())
        return start + n * self._row.itemsize

    def columns(self) -> tuple[dict[str, np.ndarray], list[ColumnSpec]]:
        """The decoded columns, and those holding a value this reader leaves to the
        driver (an infinite date or time)."""
        self._finish()
        rows = np.concatenate(self._pieces) if self._pieces else np.zeros(0, self._row)
        out, left = {}, []
        for i, c in enumerate(self._cols):
            try:
                out[c.name] = _fixed_column(rows[f"v{i}"], rows[f"null{i}"] != 0, c)
            except Unreadable:
                left.append(c)
        return out, left


def _fixed_column(v: np.ndarray, null: np.ndarray, col: ColumnSpec) -> np.ndarray:
    k, dtype = col.kind, _FIXED[col.kind].dtype
    has_null = bool(null.any())
    if dtype in _INFINITE and np.isin(v[~null], _INFINITE[dtype]).any():
        raise Unreadable(col.name)
    if k in (ColumnKind.INT2, ColumnKind.INT4, ColumnKind.INT8):
        if not has_null:
            return v.astype(np.int64)
        out = v.astype(np.float64)
        out[null] = np.nan
        return out
    if k in (ColumnKind.FLOAT4, ColumnKind.FLOAT8):
        out = v.astype(np.float64)
        out[null] = np.nan
        return out
    if k is ColumnKind.BOOL:
        flags: np.ndarray = v != 0
        if not has_null:
            return flags
        obj = np.empty(len(v), dtype=object)
        obj[:] = flags.tolist()
        obj[null] = None
        return obj
    if k is ColumnKind.UUID:
        from seedgraph.gen.values import uuid_texts

        raw = np.frombuffer(v.tobytes(), dtype=np.uint8).reshape(len(v), 16)
        obj = uuid_texts(raw)
        obj[null] = None
        return obj
    if k is ColumnKind.DATE:
        out = (v.astype(np.int64) + _EPOCH_2000_DAYS).astype("datetime64[D]")
    else:
        out = (v.astype(np.int64) + _EPOCH_2000_US).astype("datetime64[us]")
    out[null] = np.datetime64("NaT")
    return out


_UNESCAPE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unescape(text: str) -> str | None:
    if text == "\\N":
        return None
    return _ESCAPE.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(1)), text)


class TextReader(_Stream):
    """Decodes the text COPY of :func:`text_query`."""

    def __init__(self, cols: Sequence[ColumnSpec]) -> None:
        super().__init__()
        self._cols = list(cols)
        self._pieces: list[list[np.ndarray]] = [[] for _ in self._cols]

    def _decode(self, data: bytes) -> int:
        end = data.rfind(b"\n") + 1
        if end == 0:
            return 0
        buf = np.frombuffer(data, dtype=np.uint8, count=end)
        stops = np.flatnonzero((buf == 9) | (buf == 10))
        ncol = len(self._cols)
        if len(stops) % ncol or not (buf[stops[ncol - 1::ncol]] == 10).all():
            raise ValueError("unexpected row layout in a text COPY")
        starts = np.empty_like(stops)
        starts[0], starts[1:] = 0, stops[:-1] + 1
        escaped = np.zeros(len(stops), dtype=bool)
        escaped[np.searchsorted(stops, np.flatnonzero(buf == 92))] = True
        values = _slices(data[:end], starts, stops, ascii_only=bool((buf < 128).all()))
        for i in np.flatnonzero(escaped).tolist():
            values[i] = _unescape(str(values[i]))
        flat = np.empty(len(values), dtype=object)
        flat[:] = values
        table = flat.reshape(-1, ncol)
        for i in range(ncol):
            self._pieces[i].append(table[:, i])
        return end

    def columns(self) -> dict[str, np.ndarray]:
        self._finish()
        out = {}
        for c, parts in zip(self._cols, self._pieces, strict=True):
            out[c.name] = (np.concatenate(parts) if parts else np.empty(0, dtype=object))
        return out


def _slices(data: bytes, starts: np.ndarray, stops: np.ndarray, *,
            ascii_only: bool) -> list[str | None]:
    """The text of every field: slices of one decoded string when the bytes are ASCII
    (byte and character offsets agree), else each field's bytes decoded."""
    if ascii_only:
        text = data.decode("ascii")
        return [text[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]
    view = memoryview(data)
    return [str(view[a:b], "utf-8") for a, b in zip(starts.tolist(), stops.tolist(),
                                                      strict=True)]
