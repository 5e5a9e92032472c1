"""The binary COPY encoder (seedgraph.backends.pgcopy), checked against PostgreSQL itself.

Every value is compared with what PostgreSQL hands back through asyncpg's own decoder, or
byte for byte with what the server writes out with binary COPY TO, so an encoder bug cannot
hide behind a matching bug in seedgraph's decoder; the same rows written through asyncpg's
parameter binding are the reference. Covered: every kind with NULLs first, in the middle and
last; range extremes; float arrays as 2-D blocks and as ragged lists with NULL elements;
every batch shape (packed, fixed with NULLs, variable only, one row, none); numeric decimals,
display scales and its binary layout; the row spans the wide-value scatter works in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import math
import struct
import warnings
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import asyncpg
import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from seedgraph.backends.kinds import table_spec
from seedgraph.backends.pgcopy import HEADER, TRAILER, _row_spans, encode_binary, encode_rows
from seedgraph.canonical import normalize
from seedgraph.columns import ColumnKind, ColumnSpec
from seedgraph.errors import UsageError

META = sa.MetaData()
TABLE = sa.Table(
    "arrays", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("f4", sa.REAL),
    sa.Column("f4s", postgresql.ARRAY(sa.REAL)),
    sa.Column("f8s", postgresql.ARRAY(sa.Float)),
    sa.Column("i4s", postgresql.ARRAY(sa.Integer)),
    sa.Column("i8s", postgresql.ARRAY(sa.BigInteger)),
    sa.Column("txts", postgresql.ARRAY(sa.Text)),
)
DDL = ("CREATE TABLE arrays (id integer PRIMARY KEY, f4 real, f4s real[], "
       "f8s double precision[], i4s integer[], i8s bigint[], txts text[])")

ROWS: list[dict[str, Any]] = [
    {"id": 1, "f4": 0.1, "f4s": [0.1, -2.5, 3.4028234e38], "f8s": [0.1, -1e-300, 1e300],
     "i4s": [1, -2, 2**31 - 1], "i8s": [2**62, -(2**62)], "txts": ["a", "", "tab\there"]},
    {"id": 2, "f4": -1.5e-7, "f4s": [], "f8s": [], "i4s": [], "i8s": [], "txts": []},
    {"id": 3, "f4": None, "f4s": None, "f8s": None, "i4s": None, "i8s": None, "txts": None},
    {"id": 4, "f4": 123456.789, "f4s": [1.0], "f8s": [2.0 / 3.0], "i4s": [-(2**31)],
     "i8s": [0], "txts": ['quote"d', "back\\slash", "é€😀", "{braces}", "NULL", "a,b"]},
    {"id": 5, "f4": 0.0, "f4s": [1.5, None, -0.0], "f8s": [None, 4.25], "i4s": [None, 7],
     "i8s": [9, None], "txts": [None, "x"]},
]
COLUMNS = list(ROWS[0])


async def _fetch(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
    rows = await conn.fetch(f"SELECT {', '.join(COLUMNS)} FROM arrays ORDER BY id")
    return [tuple(r) for r in rows]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a)
                                                      == math.copysign(1, b))
    return bool(a == b) and type(a) is type(b)


def test_binary_copy_stores_exactly_what_parameter_binding_stores(pg_url: str) -> None:
    spec = table_spec(TABLE, "postgresql")
    cols = [spec.by_name[c] for c in COLUMNS]
    assert [c.kind for c in cols[1:]] == [
        ColumnKind.FLOAT4, ColumnKind.FLOAT4_ARRAY, ColumnKind.FLOAT8_ARRAY,
        ColumnKind.INT4_ARRAY, ColumnKind.INT8_ARRAY, ColumnKind.TEXT_ARRAY]
    n = len(ROWS)
    values = [normalize([r[c.name] for r in ROWS], c, n) for c in cols]
    data = encode_binary(values, cols)

    async def go() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute(DDL)

            async def chunks() -> Any:
                for i in range(0, len(data), 5):
                    yield data[i : i + 5]

            await conn.copy_to_table("arrays", source=chunks(), columns=COLUMNS,
                                     format="binary")
            copied = await _fetch(conn)
            await conn.execute("TRUNCATE arrays")
            await conn.executemany(
                f"INSERT INTO arrays ({', '.join(COLUMNS)}) VALUES "
                f"({', '.join(f'${i + 1}' for i in range(len(COLUMNS)))})",
                [tuple(r[c] for c in COLUMNS) for r in ROWS])
            return copied, await _fetch(conn)
        finally:
            await conn.close()

    copied, bound = asyncio.run(go())
    assert len(copied) == len(bound) == n
    for row_c, row_b in zip(copied, bound, strict=True):
        for name, c, b in zip(COLUMNS, row_c, row_b, strict=True):
            assert _same(c, b), f"row {row_b[0]} column {name}: COPY {c!r} vs bound {b!r}"
    # and the float4 values are the float32 of what was generated, not float64 or rounder
    assert copied[0][1] == float(np.float32(0.1)) and copied[0][1] != 0.1
    assert copied[1][2] == [] and copied[2][2] is None


# -- every kind, byte for byte against PostgreSQL's own binary output ---------------------------
#
# PostgreSQL's binary COPY TO writes each value with the type's send function, which for every
# kind below (numeric aside: the server normalises its digit groups) is exactly the layout COPY
# FROM expects. So the strongest reference for the encoder is: the stream seedgraph builds must
# equal, byte for byte, what the server writes out for the same rows inserted through asyncpg's
# parameter binding (and what it writes out after loading the stream itself).

K = ColumnKind
UTC = dt.UTC
# (name, kind, SQL type)
WIDE: list[tuple[str, ColumnKind, str]] = [
    ("id", K.INT4, "integer"), ("i2", K.INT2, "smallint"), ("i8", K.INT8, "bigint"),
    ("f8", K.FLOAT8, "double precision"), ("f4", K.FLOAT4, "real"), ("flag", K.BOOL, "boolean"),
    ("day", K.DATE, "date"), ("ts", K.TIMESTAMP, "timestamp"),
    ("tstz", K.TIMESTAMPTZ, "timestamptz"), ("clock", K.TIME, "time"), ("uid", K.UUID, "uuid"),
    ("txt", K.TEXT, "text"), ("js", K.JSON, "json"), ("jb", K.JSONB, "jsonb"),
    ("raw", K.BYTEA, "bytea"), ("f8s", K.FLOAT8_ARRAY, "double precision[]"),
    ("f4s", K.FLOAT4_ARRAY, "real[]"), ("i4s", K.INT4_ARRAY, "integer[]"),
    ("i8s", K.INT8_ARRAY, "bigint[]"), ("txts", K.TEXT_ARRAY, "text[]"),
    ("vec", K.FLOAT8_ARRAY, "double precision[]"), ("vec4", K.FLOAT4_ARRAY, "real[]"),
]
NAN = float("nan")
F4_MAX = 3.4028234663852886e38
# NULLs first, in the middle and last; extremes of every range; timestamps whose microseconds
# a float64 would lose (more than 2**53 microseconds from 1970). Not date.min/max or
# datetime.max: asyncpg binds those as -infinity/infinity.
WIDE_VALUES: dict[str, list[Any]] = {
    "id": [1, 2, 3, 4, 5],
    "i2": [None, -(2**15), 2**15 - 1, 0, None],
    "i8": [-(2**63), None, 2**63 - 1, 1, -1],
    "f8": [-0.0, 5e-324, NAN, 1.7976931348623157e308, -2.5],
    "f4": [F4_MAX, None, -0.0, 1e-45, 0.1],
    "flag": [True, None, False, True, None],
    "day": [dt.date(1, 1, 2), dt.date(9999, 12, 30), None, dt.date(1999, 12, 31),
            dt.date(2000, 1, 1)],
    "ts": [dt.datetime(1500, 1, 1, 0, 0, 0, 1), None, dt.datetime(9999, 12, 31, 23, 59, 59, 999997),
           dt.datetime(1999, 12, 31, 23, 59, 59, 999999), dt.datetime(2400, 2, 29, 12, 0, 0, 7)],
    "tstz": [None, dt.datetime(2400, 1, 1, 0, 0, 0, 3, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
             dt.datetime(1600, 6, 1, 1, 2, 3, 999999, tzinfo=UTC),
             dt.datetime(2000, 1, 1, tzinfo=UTC),
             dt.datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC)],
    "clock": [dt.time(0, 0), dt.time(23, 59, 59, 999999), None, dt.time(12, 0, 0, 1),
              dt.time(0, 0, 0, 1)],
    "uid": ["ffffffff-ffff-ffff-ffff-ffffffffffff", None, "00000000-0000-0000-0000-000000000001",
            "01234567-89ab-cdef-0123-456789abcdef", None],
    "txt": ["", None, "é€😀", "tab\there\nnew line", None],
    "js": ['{"a": 1}', None, "[]", '  {"raw":   "spacing kept"}', '"s"'],
    "jb": [None, '{"a": 1}', '[1, "x"]', '"s"', "null"],
    "raw": [b"", None, bytes(range(256)), b"\x00", b"x"],
    "f8s": [[1.0, None], [None], [], None, [-0.0, 1e300, 5e-324]],
    "f4s": [None, [None, None], [1.5], [], [F4_MAX, -0.0]],
    "i4s": [[None], [-(2**31), 2**31 - 1], [], None, [0, None]],
    "i8s": [[2**63 - 1, -(2**63)], None, [None], [], [1, None, 2]],
    "txts": [["", None, "é"], [], None, [None], ["a,b", "{x}"]],
    "vec": [[0.1, -0.0, 1e300], [1.0, 2.0, 3.0], [5e-324, -1e-300, 7.0], [0.0, 0.0, 0.0],
            [-1.5, 2.5, -3.5]],
    "vec4": [[0.1, -0.0], [F4_MAX, 1e-45], [1.0, 2.0], [-3.5, 0.0], [7.25, -7.25]],
}


def _ddl(table: str, cols: Sequence[tuple[str, ColumnKind, str]]) -> str:
    return f"CREATE TABLE {table} ({', '.join(f'{n} {t}' for n, _, t in cols)})"


def _encode(cols: Sequence[tuple[str, ColumnKind, str]], values: dict[str, list[Any]],
            as_2d: Sequence[str] = ()) -> bytes:
    specs = [ColumnSpec(n, k) for n, k, _ in cols]
    n = len(values[cols[0][0]])
    normalised = [normalize(np.array(values[s.name]) if s.name in as_2d else values[s.name], s, n)
                  for s in specs]
    for s, (arr, _) in zip(specs, normalised, strict=True):  # the fixed-width array path
        assert (arr.ndim == 2) == (s.name in as_2d), s.name
    return encode_binary(normalised, specs)


def _bound(value: Any) -> Any:
    """A value as asyncpg binds it (NaN is NULL)."""
    return None if isinstance(value, float) and math.isnan(value) else value


async def _copy_out(conn: asyncpg.Connection, table: str) -> bytes:
    buf = io.BytesIO()
    await conn.copy_from_table(table, output=buf, format="binary")
    return buf.getvalue()


async def _load(conn: asyncpg.Connection, table: str, data: bytes) -> str:
    async def chunks() -> Any:
        for i in range(0, len(data), 11):
            yield data[i : i + 11]

    return str(await conn.copy_to_table(table, source=chunks(), format="binary"))


def _first_difference(a: bytes, b: bytes) -> str:
    i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"lengths {len(a)} vs {len(b)}; first difference at byte {i}: {a[i:i + 24]!r} vs " \
           f"{b[i:i + 24]!r}"


def test_every_kind_is_byte_for_byte_what_postgres_writes_for_bound_rows(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from seedgraph.backends import pgcopy

    data = _encode(WIDE, WIDE_VALUES, as_2d=("vec", "vec4"))
    names = [n for n, _, _ in WIDE]
    n = len(WIDE_VALUES["id"])

    async def go() -> tuple[str, bytes, bytes]:
        conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute(_ddl("copied", WIDE))
            await conn.execute(_ddl("bound", WIDE))
            status = await _load(conn, "copied", data)
            await conn.executemany(
                f"INSERT INTO bound ({', '.join(names)}) VALUES "
                f"({', '.join(f'${i + 1}' for i in range(len(names)))})",
                [tuple(_bound(WIDE_VALUES[c][r]) for c in names) for r in range(n)])
            return status, await _copy_out(conn, "copied"), await _copy_out(conn, "bound")
        finally:
            await conn.close()

    status, copied, bound = asyncio.run(go())
    assert status == f"COPY {n}"
    assert bound == data, _first_difference(bound, data)
    assert copied == data, _first_difference(copied, data)
    # placing the wide values a few rows (or one byte) at a time changes nothing
    for budget in (1, 7, 64):
        monkeypatch.setattr(pgcopy, "_SCATTER_INDEX", budget)
        assert _encode(WIDE, WIDE_VALUES, as_2d=("vec", "vec4")) == data, budget
    # rows joined piece by piece (long values) or scattered (short ones): the same stream
    for long in (0, 10**9):
        monkeypatch.setattr(pgcopy, "LONG", long)
        assert _encode(WIDE, WIDE_VALUES, as_2d=("vec", "vec4")) == data, long


# the packed path (every column fixed-width and NULL-free) and the other shapes of a batch
FIXED = [c for c in WIDE if c[0] in ("id", "i2", "i8", "f8", "f4", "flag", "day", "ts", "tstz",
                                     "clock", "uid", "vec", "vec4")]
FIXED_VALUES: dict[str, list[Any]] = {
    "id": [7, 8, 9], "i2": [-(2**15), 2**15 - 1, 0], "i8": [-(2**63), 2**63 - 1, 0],
    "f8": [-0.0, 1e300, 5e-324], "f4": [F4_MAX, -0.0, 0.1], "flag": [True, False, True],
    "day": [dt.date(1, 1, 2), dt.date(9999, 12, 30), dt.date(1999, 12, 31)],
    "ts": [dt.datetime(9999, 12, 31, 23, 59, 59, 999997), dt.datetime(1500, 1, 1, 0, 0, 0, 1),
           dt.datetime(2000, 1, 1)],
    "tstz": [dt.datetime(2400, 1, 1, 0, 0, 0, 3, tzinfo=UTC),
             dt.datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
             dt.datetime(2000, 1, 1, tzinfo=UTC)],
    "clock": [dt.time(23, 59, 59, 999999), dt.time(0, 0), dt.time(0, 0, 0, 1)],
    "uid": ["ffffffff-ffff-ffff-ffff-ffffffffffff", "00000000-0000-0000-0000-000000000001",
            "01234567-89ab-cdef-0123-456789abcdef"],
    "vec": [[0.1, -0.0], [1e300, 5e-324], [1.0, 2.0]],
    "vec4": [[0.1, -0.0, 1.0], [F4_MAX, 1e-45, 2.0], [-1.0, 0.5, 0.25]],
}
Cols = list[tuple[str, ColumnKind, str]]
SHAPES: list[tuple[str, Cols, dict[str, list[Any]], tuple[str, ...]]] = [
    # every column fixed-width, no NULL: one packed record array
    ("packed", FIXED, FIXED_VALUES, ("vec", "vec4")),
    ("packed_one_row", FIXED, {k: v[:1] for k, v in FIXED_VALUES.items()}, ("vec", "vec4")),
    # every column fixed-width, each with a NULL somewhere: not packable
    ("fixed_nulls", [("i4", K.INT4, "integer"), ("day", K.DATE, "date"),
                     ("f8", K.FLOAT8, "double precision")],
     {"i4": [1, None, 3], "day": [None, dt.date(2000, 1, 2), dt.date(1999, 1, 1)],
      "f8": [0.5, 1.5, NAN]}, ()),
    # a NULL only in the fixed-width column, none in the variable-width one
    ("some_nulls", [("i4", K.INT4, "integer"), ("txt", K.TEXT, "text")],
     {"i4": [None, 2], "txt": ["a", "bc"]}, ()),
    # variable-width columns only, no NULL
    ("variable", [("txt", K.TEXT, "text"), ("raw", K.BYTEA, "bytea"), ("i4s", K.INT4_ARRAY,
                                                                      "integer[]")],
     {"txt": ["a", "", "é"], "raw": [b"\x00", b"", b"xyz"], "i4s": [[1], [], [2, 3]]}, ()),
    ("variable_one_row", [("txt", K.TEXT, "text"), ("id", K.INT4, "integer")],
     {"txt": ["only"], "id": [1]}, ()),
]


def test_every_shape_of_batch_loads_and_reads_back_byte_for_byte(pg_url: str) -> None:
    encoded = [(name, cols, _encode(cols, values, as_2d)) for name, cols, values, as_2d in SHAPES]

    async def go() -> list[tuple[str, bytes]]:
        conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            out = []
            for name, cols, data in encoded:
                await conn.execute(_ddl(name, cols))
                status = await _load(conn, name, data)
                out.append((status, await _copy_out(conn, name)))
            return out
        finally:
            await conn.close()

    for (name, _, values, _), (_, _, data), (status, back) in zip(
            SHAPES, encoded, asyncio.run(go()), strict=True):
        assert status == f"COPY {len(next(iter(values.values())))}", name
        assert back == data, f"{name}: {_first_difference(back, data)}"


def test_no_rows_or_no_columns_give_an_empty_stream() -> None:
    # (numeric is left out: an empty numeric column raises, see test_numeric_*)
    specs = [ColumnSpec(f"c{i}", k) for i, k in enumerate(ColumnKind) if k is not K.NUMERIC]
    empty = [normalize([], s, 0) for s in specs]
    assert encode_rows(empty, specs) == b""
    for s, col in zip(specs, empty, strict=True):
        assert encode_rows([col], [s]) == b"", s.kind
    assert encode_binary(empty, specs) == HEADER + TRAILER
    assert encode_rows([], []) == b""
    assert encode_binary([], []) == HEADER + TRAILER


def test_columns_and_specs_must_pair_up() -> None:
    a, b = ColumnSpec("a", K.INT4), ColumnSpec("b", K.TEXT)
    col_a, col_b = normalize([1, 2], a, 2), normalize(["x", "y"], b, 2)
    with pytest.raises(ValueError):
        encode_rows([col_a, col_b], [a])
    with pytest.raises(ValueError):
        encode_rows([col_a], [a, b])


def test_row_spans_cover_every_row_greedily_within_the_budget() -> None:
    assert _row_spans(np.array([2, 2, 2, 2]), 4) == [(0, 2), (2, 4)]
    assert _row_spans(np.array([1, 1, 1, 1]), 3) == [(0, 3), (3, 4)]
    assert _row_spans(np.array([10, 10]), 5) == [(0, 1), (1, 2)]  # a row bigger than the budget
    assert _row_spans(np.array([3, 1, 1, 5, 2]), 100) == [(0, 5)]
    assert _row_spans(np.array([], dtype=np.int64), 4) == []
    rng = np.random.default_rng(1)
    for _ in range(200):
        sizes = rng.integers(0, 9, size=int(rng.integers(1, 30)))
        budget = int(rng.integers(1, 20))
        spans = _row_spans(sizes, budget)
        assert [a for a, _ in spans] == [0] + [b for _, b in spans[:-1]]  # consecutive
        assert spans[-1][1] == len(sizes) and all(b > a for a, b in spans)
        for a, b in spans:
            assert b - a == 1 or sizes[a:b].sum() <= budget  # within budget (or a single row)
            assert b == len(sizes) or sizes[a : b + 1].sum() > budget  # and as long as it can be


# -- numeric -------------------------------------------------------------------------------------
#
# The server normalises numeric digit groups, so here the reference is the text PostgreSQL shows
# (digits and display scale) for the same decimals bound as parameters.

NUMERIC_COLS: list[tuple[str, int | None, str]] = [
    ("a", None, "numeric"), ("b", 2, "numeric(12,2)"), ("c", 0, "numeric(20,0)"),
    ("d", 5, "numeric(14,5)"), ("e", 8, "numeric(18,8)"),
]
# (value, the decimal PostgreSQL must hold) per column, ten rows; None is NULL
NUMERIC_ROWS: dict[str, list[tuple[float | None, str | None]]] = {
    # no scale: every decimal of the float's shortest text, and no trailing zeros
    "a": [(1.5, "1.5"), (None, None), (100.0, "100"), (0.1234567, "0.1234567"), (-0.0, "0"),
          (10000.0, "10000"), (1e8, "100000000"), (-2.25, "-2.25"),
          (400000000.000001, "400000000.000001"), (0.000001, "0.000001")],
    "b": [(None, None), (10000.0, "10000.00"), (-12345.67, "-12345.67"), (0.0, "0.00"),
          (9999999999.99, "9999999999.99"), (0.01, "0.01"), (1e8, "100000000.00"),
          (-0.0, "0.00"), (0.1, "0.10"), (5.0, "5.00")],
    "c": [(10000.0, "10000"), (1e8, "100000000"), (-1.0, "-1"), (0.0, "0"), (9999.0, "9999"),
          (1e15, "1000000000000000"), (None, None), (123456789012.0, "123456789012"),
          (10001.0, "10001"), (NAN, None)],
    "d": [(10000.00001, "10000.00001"), (-0.00001, "-0.00001"), (0.0, "0.00000"),
          (1e8, "100000000.00000"), (None, None), (123.45, "123.45000"),
          (99999.99999, "99999.99999"), (1.0, "1.00000"), (10000.0, "10000.00000"),
          (-7.5, "-7.50000")],
    "e": [(0.00000001, "0.00000001"), (12345678.12345678, "12345678.12345678"),
          (10000.0, "10000.00000000"), (None, None), (-1e-8, "-0.00000001"), (0.0, "0.00000000"),
          (1.0, "1.00000000"), (1e9, "1000000000.00000000"), (-3.14159265, "-3.14159265"),
          (42.0, "42.00000000")],
}


def test_numeric_reads_back_as_the_same_decimals_as_bound_ones(pg_url: str) -> None:
    specs = [ColumnSpec("id", K.INT4)] + [ColumnSpec(n, K.NUMERIC, scale=s)
                                          for n, s, _ in NUMERIC_COLS]
    n = 10
    values = [normalize(list(range(n)), specs[0], n)] + [
        normalize([v for v, _ in NUMERIC_ROWS[s.name]], s, n) for s in specs[1:]]
    data = encode_binary(values, specs)
    ddl = ", ".join(["id integer"] + [f"{c} {t}" for c, _, t in NUMERIC_COLS])
    select = ", ".join(f"{c}::text" for c, _, _ in NUMERIC_COLS)

    async def go() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute(f"CREATE TABLE copied ({ddl}); CREATE TABLE bound ({ddl})")
            assert await _load(conn, "copied", data) == f"COPY {n}"
            await conn.executemany(
                "INSERT INTO bound VALUES ($1, $2, $3, $4, $5, $6)",
                [(i, *(None if (d := NUMERIC_ROWS[c][i][1]) is None else Decimal(d)
                       for c, _, _ in NUMERIC_COLS)) for i in range(n)])
            tables = [[tuple(r) for r in await conn.fetch(f"SELECT {select} FROM {t} ORDER BY id")]
                      for t in ("copied", "bound")]
            return tables[0], tables[1]
        finally:
            await conn.close()

    copied, bound = asyncio.run(go())
    expected = [tuple(NUMERIC_ROWS[c][i][1] for c, _, _ in NUMERIC_COLS) for i in range(n)]
    assert bound == expected  # the reference agrees with the table above
    for i, (got, want) in enumerate(zip(copied, expected, strict=True)):
        assert got == want, f"row {i}"


def _numeric_field(ndigits: int, weight: int, sign: int, dscale: int, *digits: int) -> bytes:
    assert len(digits) == ndigits
    return struct.pack(">i", 8 + 2 * ndigits) + struct.pack(f">hhHh{ndigits}h", ndigits, weight,
                                                            sign, dscale, *digits)


def _one_column(spec: ColumnSpec, values: list[Any]) -> bytes:
    return encode_rows([normalize(values, spec, len(values))], [spec])


def test_numeric_binary_layout() -> None:
    """One fixed number of base-10000 groups per batch: just enough integer groups for the
    largest value and ceil(scale / 4) fraction groups, positive zero, the display scale."""
    neg = 0x4000
    one = b"\x00\x01"
    spec = ColumnSpec("m", K.NUMERIC, scale=2)
    assert _one_column(spec, [0.0, -12345.67, 10000.0, None]) == (
        one + _numeric_field(3, 1, 0, 2, 0, 0, 0)
        + one + _numeric_field(3, 1, neg, 2, 1, 2345, 6700)
        + one + _numeric_field(3, 1, 0, 2, 1, 0, 0)
        + one + b"\xff\xff\xff\xff")
    assert _one_column(spec, [1.5]) == one + _numeric_field(2, 0, 0, 2, 1, 5000)
    assert _one_column(spec, [-0.0, 9999.99]) == (
        one + _numeric_field(2, 0, 0, 2, 0, 0) + one + _numeric_field(2, 0, 0, 2, 9999, 9900))
    assert _one_column(ColumnSpec("m", K.NUMERIC, scale=0), [1e8, 7.0]) == (
        one + _numeric_field(3, 2, 0, 0, 1, 0, 0) + one + _numeric_field(3, 2, 0, 0, 0, 0, 7))
    assert _one_column(ColumnSpec("m", K.NUMERIC, scale=3), [-1.5]) == (
        one + _numeric_field(2, 0, neg, 3, 1, 5000))
    # no scale: six places (two fraction groups), display scale trimmed per value
    assert _one_column(ColumnSpec("m", K.NUMERIC), [1.5, 100.0, 0.0, -2.25, 0.000001]) == (
        one + _numeric_field(3, 0, 0, 1, 1, 5000, 0)
        + one + _numeric_field(3, 0, 0, 0, 100, 0, 0)
        + one + _numeric_field(3, 0, 0, 0, 0, 0, 0)
        + one + _numeric_field(3, 0, neg, 2, 2, 2500, 0)
        + one + _numeric_field(3, 0, 0, 6, 0, 0, 100))


def test_null_values_are_never_computed_with() -> None:
    """A NULL's placeholder (NaN, NaT) never reaches an integer cast: no RuntimeWarning, and
    no result that depends on what the platform makes of NaN as an integer."""
    cols = [("n0", K.NUMERIC, 0), ("n2", K.NUMERIC, 2), ("n4", K.NUMERIC, 4),
            ("n", K.NUMERIC, None), ("f8", K.FLOAT8, None), ("f4", K.FLOAT4, None),
            ("day", K.DATE, None), ("ts", K.TIMESTAMP, None), ("clock", K.TIME, None)]
    specs = [ColumnSpec(name, kind, scale=scale) for name, kind, scale in cols]
    values = [normalize([1.25, None, -3.0] if s.kind in (K.NUMERIC, K.FLOAT4, K.FLOAT8) else
                        [None, None, None], s, 3) for s in specs]
    for s in specs[:4]:  # every row NULL
        values.append(normalize([None, None, None], s, 3))
        specs.append(s)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = encode_rows(values, specs)
    assert len(data) > 0


@pytest.mark.parametrize(("pg_type", "scale", "values", "stored"), [
    # beyond int64 once scaled: these were silently stored as other numbers
    ("numeric", None, [1e11, 92233720368.55, -1e15], ["100000000000", "92233720368.55",
                                                      "-1000000000000000"]),
    ("numeric(20,5)", 5, [123456789012.5], ["123456789012.50000"]),
    ("numeric(30,0)", 0, [1e19], ["10000000000000000000"]),
    ("numeric(40,20)", 20, [0.5, -0.25], ["0.50000000000000000000",
                                          "-0.25000000000000000000"]),
    # unscaled numerics keep every decimal the float has (they were rounded to six)
    ("numeric", None, [0.1234567, 1e-9, 2.5], ["0.1234567", "0.000000001", "2.5"]),
    # no rows at all: nothing to encode (it raised)
    ("numeric(10,2)", 2, [], []),
    # the largest value exactly a power of 10000: it needs one more digit group
    ("numeric(10,0)", 0, [10000.0, 3.0], ["10000", "3"]),
    ("numeric(12,0)", 0, [100000000.0], ["100000000"]),
    # every value finer than six places, and more digits than a float64 division keeps
    ("numeric", None, [0.1234567], ["0.1234567"]),
    ("numeric(30,0)", 0, [1.2345678901234568e17], ["123456789012345680"]),
    ("numeric(30,5)", 5, [1234567890123.4568], ["1234567890123.45680"]),
    ("numeric(10,2)", 2, [10000.0], ["10000.00"]),
    ("numeric(20,0)", 0, [1.2345678901234568e18], ["1234567890123456768"]),
    ("numeric(40,0)", 0, [1.2345678901234566e25], ["12345678901234566000000000"]),
])
def test_numerics_the_int64_path_cannot_hold_are_stored_exactly(
        pg_url: str, pg_type: str, scale: int | None, values: list[float],
        stored: list[str]) -> None:
    spec = ColumnSpec("v", K.NUMERIC, scale=scale)
    data = encode_binary([normalize(values, spec, len(values))], [spec])

    async def go() -> list[str]:
        conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute(f"CREATE TABLE t (v {pg_type})")
            await _load(conn, "t", data)
            return [r[0] for r in await conn.fetch("SELECT v::text FROM t")]
        finally:
            await conn.close()

    assert asyncio.run(go()) == stored


def test_float_infinities_are_stored_as_infinities(pg_url: str) -> None:
    specs = [ColumnSpec("f8", K.FLOAT8), ColumnSpec("f4", K.FLOAT4)]
    values = [float("inf"), float("-inf"), 1.5]
    data = encode_binary([normalize(values, s, 3) for s in specs], specs)

    async def go() -> list[tuple[str, str]]:
        conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute("CREATE TABLE t (f8 float8, f4 float4)")
            await _load(conn, "t", data)
            return [tuple(r) for r in await conn.fetch("SELECT f8::text, f4::text FROM t")]
        finally:
            await conn.close()

    assert asyncio.run(go()) == [("Infinity", "Infinity"), ("-Infinity", "-Infinity"),
                                 ("1.5", "1.5")]


def test_an_infinite_numeric_is_refused_by_name() -> None:
    with pytest.raises(UsageError, match=r"column 'v' \(numeric\) got inf; expected finite"):
        normalize([1.0, float("inf")], ColumnSpec("v", K.NUMERIC, scale=2), 2)
