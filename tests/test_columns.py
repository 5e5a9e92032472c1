"""Column kinds: normalisation, the binary COPY encoder and SQLite rows round-trip every kind."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from seedgraph import TaskContext, UsageError
from seedgraph.backends.kinds import table_spec
from seedgraph.backends.pgcopy import encode_binary
from seedgraph.backends.sqlite import sqlite_groups
from seedgraph.canonical import decode, normalize
from seedgraph.columns import ColumnKind, ColumnSpec
from seedgraph.context import CHUNK_BYTES

JSONB = postgresql.JSONB().with_variant(sa.JSON(), "sqlite")
FLOATS = postgresql.ARRAY(sa.Float).with_variant(sa.JSON(), "sqlite")

META = sa.MetaData()
TABLE = sa.Table(
    "kinds", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("small", sa.SmallInteger), sa.Column("big", sa.BigInteger),
    sa.Column("f8", sa.Float), sa.Column("money", sa.Numeric(12, 2)),
    sa.Column("flag", sa.Boolean), sa.Column("txt", sa.Text),
    sa.Column("day", sa.Date), sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("naive", sa.DateTime), sa.Column("clock", sa.Time),
    sa.Column("uid", sa.Uuid(as_uuid=False)), sa.Column("doc", JSONB),
    sa.Column("vec", FLOATS), sa.Column("raw", sa.LargeBinary),
)

N = 6
VALUES: dict[str, Any] = {
    "id": np.arange(1, N + 1),
    "small": [1, -2, None, 32767, 0, 5],
    "big": np.array([2**62, -(2**62), 0, 1, 7, 9]),
    "f8": [0.5, -1e-9, None, 1e300, 3.25, float("nan")],
    "money": [0.01, -12345.67, 0, 9999999999.99, None, 2.5],
    "flag": [True, False, None, True, False, True],
    "txt": ["plain", "tab\there", "new\nline", "back\\slash", "", None],
    "day": np.array(["1999-12-31", "2000-01-01", "1970-01-01", "2099-06-30", "NaT",
                     "2026-01-15"], dtype="datetime64[D]"),
    "at": [dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC),
           dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=2))),
           None, dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
           dt.datetime(2030, 5, 5, 5, 5, 5, tzinfo=dt.UTC), dt.datetime(1990, 1, 1)],
    "naive": np.array(["2026-01-15T00:00:00", "1969-07-20T20:17:40", "NaT",
                       "2000-01-01T00:00:00.000001", "2024-02-29T12:00:00", "2001-09-09T01:46:40"],
                      dtype="datetime64[us]"),
    "clock": [dt.time(23, 0), "07:30", None, dt.time(0, 0, 0, 1), "12:00:59", dt.time(14, 0)],
    "uid": [str(uuid.UUID(int=i)) for i in range(5)] + [None],
    "doc": [{"a": 1}, [1, 2, "x"], None, "\"already json\"", {"nested": {"k": [True, None]}},
            {"unicode": "é€😀"}],
    "vec": np.arange(N * 3, dtype=float).reshape(N, 3) / 7,
    "raw": [b"\x00\x01", b"", None, bytes(range(256)), b"x", b"\xff"],
}


def _normalised(dialect: str) -> tuple[list[ColumnSpec], list[tuple[np.ndarray, Any]]]:
    spec = table_spec(TABLE, dialect)
    cols = [spec.by_name[c] for c in VALUES]
    return cols, [normalize(VALUES[c.name], c, N) for c in cols]


# what reading VALUES back gives, every row of every column: NULL (None, NaN or NaT) is None,
# aware timestamps come back in UTC without a zone (a naive one was taken as UTC)
EXPECTED: dict[str, list[Any]] = {
    "id": [1, 2, 3, 4, 5, 6],
    "small": [1, -2, None, 32767, 0, 5],
    "big": [2**62, -(2**62), 0, 1, 7, 9],
    "f8": [0.5, -1e-9, None, 1e300, 3.25, None],  # NaN is NULL
    "money": [0.01, -12345.67, 0.0, 9999999999.99, None, 2.5],
    "flag": [True, False, None, True, False, True],
    "txt": ["plain", "tab\there", "new\nline", "back\\slash", "", None],
    "day": [dt.date(1999, 12, 31), dt.date(2000, 1, 1), dt.date(1970, 1, 1),
            dt.date(2099, 6, 30), None, dt.date(2026, 1, 15)],
    "at": [dt.datetime(2026, 1, 15, 12, 30), dt.datetime(1999, 12, 31, 21, 59, 59, 999999),
           None, dt.datetime(2000, 1, 1), dt.datetime(2030, 5, 5, 5, 5, 5),
           dt.datetime(1990, 1, 1)],
    "naive": [dt.datetime(2026, 1, 15), dt.datetime(1969, 7, 20, 20, 17, 40), None,
              dt.datetime(2000, 1, 1, 0, 0, 0, 1), dt.datetime(2024, 2, 29, 12),
              dt.datetime(2001, 9, 9, 1, 46, 40)],
    "clock": [dt.timedelta(hours=23), dt.timedelta(hours=7, minutes=30), None,
              dt.timedelta(microseconds=1), dt.timedelta(hours=12, seconds=59),
              dt.timedelta(hours=14)],
    "uid": [f"00000000-0000-0000-0000-00000000000{i}" for i in range(5)] + [None],
    "doc": [{"a": 1}, [1, 2, "x"], None, "already json", {"nested": {"k": [True, None]}},
            {"unicode": "é€😀"}],
    "vec": [[(3 * r + c) / 7 for c in range(3)] for r in range(N)],
    "raw": [b"\x00\x01", b"", None, bytes(range(256)), b"x", b"\xff"],
}


def _plain(value: Any) -> Any:
    """A decoded value as a comparable Python value; every kind of NULL is None."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _check(back: dict[str, np.ndarray]) -> None:
    assert set(back) == set(EXPECTED)
    for name, expected in EXPECTED.items():
        got = [_plain(v) for v in back[name].tolist()]
        assert got == expected, name
    # no 1/0 standing in for a boolean
    assert all(v is None or type(v) is bool for v in back["flag"].tolist())


def test_binary_copy_round_trips_every_kind(pg_url: str) -> None:
    async def go() -> dict[str, np.ndarray]:
        dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(dsn)
        try:
            ddl = str(sa.schema.CreateTable(TABLE).compile(dialect=postgresql.dialect()))
            await conn.execute(ddl)
            cols, values = _normalised("postgresql")
            data = encode_binary(values, cols)
            # PostgreSQL's binary COPY header, and the -1 trailer
            assert data[:11] == b"PGCOPY\n\xff\r\n\x00" and data[-2:] == b"\xff\xff"
            status = await conn.copy_to_table("kinds", source=_chunks(data),
                                              columns=[c.name for c in cols], format="binary")
            assert status == f"COPY {N}"
            rows = await conn.fetch(f"SELECT {', '.join(VALUES)} FROM kinds ORDER BY id")
            assert len(rows) == N
            return {c.name: decode([r[i] for r in rows], c, "postgresql")
                    for i, c in enumerate(cols)}
        finally:
            await conn.close()

    back = asyncio.run(go())
    _check(back)
    assert back["raw"].tolist() == VALUES["raw"]  # bytea, byte for byte


def test_binary_encoding_in_small_steps_gives_the_same_bytes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide values are placed a few rows at a time (bounded index arrays): same stream."""
    from seedgraph.backends import pgcopy

    cols, values = _normalised("postgresql")
    whole = encode_binary(values, cols)
    monkeypatch.setattr(pgcopy, "_SCATTER_INDEX", 5)
    assert encode_binary(values, cols) == whole
    for long in (0, 10**9):  # every batch joined, or every batch scattered
        monkeypatch.setattr(pgcopy, "LONG", long)
        assert encode_binary(values, cols) == whole


async def _chunks(data: bytes) -> Any:
    for i in range(0, len(data), 7):  # odd chunk sizes: the stream is one byte sequence
        yield data[i : i + 7]


def test_sqlite_groups_round_trip_and_read_as_sqlalchemy_types(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    META.create_all(engine)
    cols, values = _normalised("sqlite")
    con = sqlite3.connect(path)
    one = f"({', '.join('?' for _ in VALUES)})"
    head = f"INSERT INTO kinds ({', '.join(VALUES)}) VALUES "
    grouped, rest = sqlite_groups(values, cols, 2)  # pairs of rows, then the odd one out
    assert grouped and len(grouped[0]) == 2 * len(VALUES)
    con.executemany(head + f"{one}, {one}", grouped)
    con.executemany(head + one, rest)
    con.commit()
    rows = con.execute(f"SELECT {', '.join(VALUES)} FROM kinds ORDER BY id").fetchall()
    _check({c.name: decode([r[i] for r in rows], c, "sqlite") for i, c in enumerate(cols)})
    with engine.connect() as c:
        first = c.execute(sa.select(TABLE).order_by(TABLE.c.id)).first()
    assert first is not None
    assert first.day == dt.date(1999, 12, 31) and first.flag is True
    assert first.at == dt.datetime(2026, 1, 15, 12, 30) and first.money == Decimal("0.01")
    assert first.uid == VALUES["uid"][0] and first.clock == dt.time(23, 0)


def test_not_null_and_bad_values_are_clear_errors() -> None:
    col = ColumnSpec("qty", ColumnKind.INT4, nullable=False)
    with pytest.raises(UsageError, match="'qty' is NOT NULL"):
        normalize([1, None], col, 2)
    with pytest.raises(UsageError, match="out of range"):
        normalize(np.array([2**40]), col, 1)
    with pytest.raises(UsageError, match="expected 3"):
        normalize([1, 2], col, 3)
    with pytest.raises(UsageError, match="HH:MM"):
        normalize(["25h"], ColumnSpec("t", ColumnKind.TIME), 1)


def test_numeric_encoding_handles_any_scale(pg_url: str) -> None:
    async def go() -> list[Any]:
        conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute("CREATE TABLE n (a numeric(10,6), b numeric, c numeric(20,0))")
            specs = [ColumnSpec("a", ColumnKind.NUMERIC, scale=6),
                     ColumnSpec("b", ColumnKind.NUMERIC, scale=None),
                     ColumnSpec("c", ColumnKind.NUMERIC, scale=0)]
            vals = [np.array([1.234567, -0.000001, 0.0, 3999.5]),
                    np.array([1.5, -2.25, 100.0, 0.125]),
                    np.array([1e15, -7.0, 0.0, 42.0])]
            data = encode_binary([normalize(v, s, 4) for v, s in zip(vals, specs, strict=True)],
                                 specs)
            await conn.copy_to_table("n", source=_chunks(data), format="binary")
            return [tuple(r) for r in await conn.fetch("SELECT a, b, c FROM n ORDER BY ctid")]
        finally:
            await conn.close()

    rows = asyncio.run(go())
    # every value of every row, as an exact decimal
    expected = [("1.234567", "1.5", "1000000000000000"), ("-0.000001", "-2.25", "-7"),
                ("0", "100", "0"), ("3999.5", "0.125", "42")]
    assert rows == [tuple(Decimal(v) for v in r) for r in expected]
    assert all(r[0].as_tuple().exponent == -6 for r in rows)  # numeric(10,6) keeps six places


class _Recorder:
    """Collects what a TaskContext hands its writer (the chunks, not a database)."""

    def __init__(self) -> None:
        self.chunks: list[tuple[int, bool, int]] = []

    async def write_batch(self, columns: Any, n: int, *, full: bool = False) -> None:
        self.chunks.append((n, full, sum(np.asarray(v).nbytes for v in columns.values())))


def test_wide_rows_make_smaller_chunks_that_still_count_as_big() -> None:
    """512 floats a row: a chunk stops at about CHUNK_BYTES of data, not at chunk_rows,
    and every chunk but the last is marked full (so the load takes the bulk path)."""
    table = sa.Table("emb", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("v", postgresql.ARRAY(sa.Float)))
    recorder = _Recorder()
    ctx = TaskContext(table="emb", seed=1, as_of=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                      params={}, upstream=[], dialect="postgresql", reader=None,  # type: ignore[arg-type]
                      writer=recorder, spec=table_spec(table, "postgresql"), chunk_rows=50_000)
    n = 10_000
    asyncio.run(ctx.write({"id": np.arange(n), "v": np.ones((n, 512))}))
    asyncio.run(ctx.flush())
    assert sum(c[0] for c in recorder.chunks) == n == ctx.rows_written
    assert len(recorder.chunks) > 1
    assert all(nbytes <= CHUNK_BYTES + 4104 for _, _, nbytes in recorder.chunks)
    assert [full for _, full, _ in recorder.chunks] == [True] * (len(recorder.chunks) - 1) + [
        recorder.chunks[-1][0] == recorder.chunks[0][0]]
    narrow = _Recorder()
    ctx = TaskContext(table="emb", seed=1, as_of=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                      params={}, upstream=[], dialect="postgresql", reader=None,  # type: ignore[arg-type]
                      writer=narrow, spec=table_spec(table, "postgresql"), chunk_rows=4_000)
    asyncio.run(ctx.write({"id": np.arange(n), "v": np.ones((n, 2))}))
    asyncio.run(ctx.flush())
    assert [(c[0], c[1]) for c in narrow.chunks] == [(4000, True), (4000, True), (2000, False)]


def test_uuid_values_are_stored_in_canonical_text_whatever_form_they_come_in() -> None:
    col = ColumnSpec("uid", ColumnKind.UUID, nullable=True)
    u = uuid.UUID("12345678-9abc-4def-8123-456789abcdef")
    forms = [str(u), str(u).upper(), u.hex, "{" + str(u) + "}", u, None]
    out, mask = normalize(np.array(forms, dtype=object), col, len(forms))
    assert out.tolist() == [str(u)] * 5 + [None]
    assert mask is not None and mask.tolist() == [False] * 5 + [True]
    with pytest.raises(ValueError):
        normalize(np.array(["12345678-9abc-4def-8123-456789abcdeg"], dtype=object), col, 1)


def test_text_values_are_kept_apart_from_the_array_the_task_wrote() -> None:
    col = ColumnSpec("t", ColumnKind.TEXT, nullable=True)
    given = np.array(["a", None, "c"], dtype=object)
    out, mask = normalize(given, col, 3)
    given[0] = "changed after the write"  # the task reuses its array for the next batch
    assert out.tolist() == ["a", None, "c"] and mask is not None
    assert mask.tolist() == [False, True, False]
    # anything but str and None becomes its text; a str subclass stays as it is
    class Tag(str):
        pass
    out, mask = normalize(np.array([1, Tag("x"), 2.5, None], dtype=object), col, 4)
    assert out.tolist() == ["1", "x", "2.5", None] and mask is not None
    assert mask.tolist() == [False, False, False, True]
    out, mask = normalize(["a", "b"], col, 2)
    assert out.tolist() == ["a", "b"] and mask is None


def test_uuid_texts_match_the_uuid_module() -> None:
    from seedgraph.gen import uuid_texts

    raw = np.random.default_rng(3).integers(0, 256, (200, 16), dtype=np.uint8)
    assert uuid_texts(raw).tolist() == [str(uuid.UUID(bytes=r.tobytes())) for r in raw]
