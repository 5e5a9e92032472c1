"""Reading columns through COPY (seedgraph.backends.pgread) gives exactly what reading
them through the driver gives: the same dtypes, values, NULLs and row order, for text
that holds the COPY format's own separators and escapes, non-ASCII text, infinite
times, and streams cut into many small pieces."""

from __future__ import annotations

from typing import Any

import anyio
import numpy as np
import pytest

from seedgraph.backends import Database, parse_url, pgread
from tests.helpers import execute

DDL = ("CREATE TABLE t (id integer PRIMARY KEY, i2 smallint, i8 bigint, f4 real, "
       "f8 double precision, b boolean, d date, ts timestamp, tz timestamptz, u uuid, "
       "s text, v varchar(40), c char(4), n numeric(8, 2), j jsonb, "
       "nn integer NOT NULL, nb boolean NOT NULL)")
TEXTS = ["plain", "", "tab\there", "new\nline", "back\\slash", "\\N", "é€😀", "cr\rlf",
         "\\t literally", "\b\f\v", None]
INSERT = (
    "INSERT INTO t SELECT g, "
    "CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 300) - 150 END, "
    "CASE WHEN g % 5 = 0 THEN NULL ELSE g::bigint * 4000000000 END, "
    "CASE WHEN g % 9 = 0 THEN NULL ELSE g / 3.0 END, "
    "CASE WHEN g % 11 = 0 THEN NULL WHEN g % 13 = 0 THEN 'NaN' WHEN g % 17 = 0 "
    "THEN '-Infinity' ELSE g * 1.0e-3 END, "
    "CASE WHEN g % 4 = 0 THEN NULL ELSE g % 2 = 0 END, "
    "CASE WHEN g % 6 = 0 THEN NULL ELSE date '1999-12-30' + g END, "
    "CASE WHEN g % 8 = 0 THEN NULL ELSE timestamp '1969-07-20 20:17:40.123456' "
    "+ g * interval '1 hour 1.000001 second' END, "
    "CASE WHEN g % 10 = 0 THEN NULL ELSE timestamptz '2026-01-15 00:00:00+05' "
    "- g * interval '1 minute' END, "
    "CASE WHEN g % 3 = 0 THEN NULL ELSE md5(g::text)::uuid END, "
    f"($1::text[])[1 + g % {len(TEXTS)}], "
    "CASE WHEN g % 3 = 0 THEN NULL ELSE 'v' || g END, "
    "CASE WHEN g % 2 = 0 THEN NULL ELSE 'c' END, "
    "g / 7.0, jsonb_build_object('g', g), g, g % 3 = 0 "
    "FROM generate_series(1, 3000) g"
)


async def _both(url: str, table: str, cols: list[str] | None = None
                ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    db = await Database.open(parse_url(url))
    try:
        spec = await db.spec(table)
        names = cols or [c.name for c in spec.columns]
        fast = await db.read_columns(table, names)
        driver = await Database._read(db, spec, names, None)  # the base class: the driver
    finally:
        await db.close()
    return fast, driver


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(all(x == y or (x is None and y is None) or (x != x and y != y)
                    for x, y in zip(a.tolist(), b.tolist(), strict=True)))


def _check(url: str, table: str = "t") -> dict[str, np.ndarray]:
    fast, driver = anyio.run(_both, url, table)
    assert list(fast) == list(driver)
    for name in driver:
        assert _same(fast[name], driver[name]), name
    return fast


def test_every_kind_reads_as_through_the_driver(pg_url: str) -> None:
    execute(pg_url, DDL)
    execute(pg_url, INSERT, (TEXTS,))
    got = _check(pg_url)
    assert got["s"][:len(TEXTS)].tolist() == TEXTS[1:] + TEXTS[:1]  # row g holds TEXTS[g % n]
    assert got["i2"].dtype == np.float64 and np.isnan(got["i2"][6])  # NULL in an int column
    assert got["nn"].dtype == np.int64 and got["nb"].dtype == bool
    assert got["u"][0] == "c4ca4238-a0b9-2382-0dcc-509a6f75849b" and got["u"][2] is None
    assert got["tz"][0] == np.datetime64("2026-01-14T18:59:00")  # +05:00, in UTC


def test_small_pieces_and_a_table_without_rows(pg_url: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(pgread, "PIECE_BYTES", 97)  # rows cut anywhere between chunks
    execute(pg_url, DDL)
    execute(pg_url, INSERT, (TEXTS,))
    _check(pg_url)
    execute(pg_url, "DELETE FROM t")
    got = _check(pg_url)
    assert len(got["id"]) == 0


def test_infinite_times_are_read_through_the_driver(pg_url: str) -> None:
    execute(pg_url, "CREATE TABLE w (id integer PRIMARY KEY, ts timestamp, d date, x int)")
    execute(pg_url, "INSERT INTO w VALUES (1, 'infinity', '-infinity', 1), "
                    "(2, '2020-01-01', '2020-01-01', NULL)")
    got = _check(pg_url, "w")
    assert got["x"].tolist()[0] == 1.0


@pytest.mark.parametrize("sql", ["CREATE TABLE k (a int, s text)"])
def test_a_table_without_a_primary_key_reads_through_the_driver(pg_url: str, sql: str) -> None:
    execute(pg_url, sql)
    execute(pg_url, "INSERT INTO k VALUES (2, 'b'), (1, 'z'), (1, 'a')")
    got = _check(pg_url, "k")
    assert got["s"].tolist() == ["a", "z", "b"]  # ordered by the columns asked for


def test_a_decoding_error_mid_stream_is_raised_not_a_hang(pg_url: str, monkeypatch: Any) -> None:
    """The driver waits forever on a COPY whose output callback raised: the reader keeps
    the error until the COPY has ended."""
    def broken(self: Any, data: bytes) -> int:
        raise ValueError("boom")

    monkeypatch.setattr(pgread, "PIECE_BYTES", 97)
    monkeypatch.setattr(pgread.TextReader, "_decode", broken)
    execute(pg_url, DDL)
    execute(pg_url, INSERT, (TEXTS,))

    async def read() -> None:
        with anyio.fail_after(60):
            await _both(pg_url, "t", ["id", "s"])

    with pytest.raises(ValueError, match="boom"):
        anyio.run(read)


def test_a_stream_cut_inside_a_row_is_an_error() -> None:
    reader = pgread.TextReader([])
    anyio.run(reader.feed, b"no newline at the end")
    with pytest.raises(ValueError, match="ended inside a row"):
        reader.columns()
