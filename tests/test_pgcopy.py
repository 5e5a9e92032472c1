"""The binary COPY encoder for the kinds the main round-trip test leaves out: float4,
float4[]/float8[]/int4[]/int8[]/text[] with NULL elements, empty arrays and NULL arrays.

Every value is compared with what PostgreSQL itself hands back through asyncpg's own
decoder, so an encoder bug cannot hide behind a matching bug in seedgraph's decoder;
the same rows written as text through asyncpg's parameter binding are the reference.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import asyncpg
import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from seedgraph.columns import ColumnKind, normalize, table_spec
from seedgraph.pgcopy import encode_binary

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
