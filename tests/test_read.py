"""``ctx.read`` gives the same numpy arrays on SQLite and PostgreSQL for every column kind:
the canonical arrays of ``seedgraph.canonical`` (dtype, shape, values and NULLs alike)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import anyio
import numpy as np
import pytest

from seedgraph.backends import Database, parse_url
from seedgraph.backends.kinds import table_spec
from seedgraph.columns import ColumnKind
from tests.helpers import REPO, run_engine
from tests.packs.kinds import METADATA
from tests.packs.kinds.tasks import N

PACK = str(REPO / "tests" / "packs" / "kinds")


def f32(*values: float) -> list[float]:
    """The values a 4-byte float column stores."""
    return [float(np.float32(v)) for v in values]


def objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


DAYS = np.array(["1999-12-31", "2000-01-01", "1970-01-01", "2099-06-30"], dtype="datetime64[D]")
FULL: dict[str, np.ndarray] = {
    "id": np.arange(1, N + 1, dtype=np.int64),
    "i2": np.array([1, -2, 32767, 0], dtype=np.int64),
    "i4": np.array([5, 2**31 - 1, -7, 0], dtype=np.int64),
    "i8": np.array([2**62, -(2**62), 0, 9], dtype=np.int64),
    "f4": np.array(f32(0.1, -2.5, 1e10, 3.0)),
    "f8": np.array([0.1, -1e-9, 1e300, 3.25]),
    "num": np.array([0.01, -12345.67, 0, 2.5]),
    "flag": np.array([True, False, True, False]),
    "txt": objects(["plain", "tab\there", "é", ""]),
    "day": DAYS,
    "at": np.array(["2026-01-15T12:30", "1969-07-20T20:17:40", "2000-01-01T00:00:00.000001",
                    "2024-02-29"], dtype="datetime64[us]"),
    "atz": np.array(["2026-01-15T12:30", "1999-12-31T21:59:59.999999", "2000-01-01",
                     "2030-05-05T05:05:05"], dtype="datetime64[us]"),
    "clock": np.array([23 * 3600 * 10**6, 7.5 * 3600 * 10**6, 1, (12 * 3600 + 59) * 10**6],
                      dtype=np.int64).astype("timedelta64[us]"),
    "uid": objects([f"00000000-0000-0000-0000-00000000000{i}" for i in range(N)]),
    "doc": objects([{"a": 1}, [1, 2.5, None], "text", {"nested": {"b": [True]}}]),
    "docb": objects([{"a": 1}, [], 3, {"z": None}]),
    "vec4": np.array([f32(0.1, 0.2, 0.3), [1.0, 2.0, 3.0], [-0.5, 0.0, 0.5], f32(1e-3, 1e3, 7)]),
    "vec8": np.array([[0.1, 0.2], [1.0, 2.0], [-0.5, 0.0], [1e-300, 1e300]]),
    "ragged": objects([[0.1], [1.0, 2.0], [], [3.0, None, 4.0]]),
    "ints4": objects([[1, 2], [], [3], [-4, 5, 6]]),
    "ints8": objects([[2**40], [0, 1], [], [7]]),
    "words": objects([["a", "b"], [], ["é"], ["x y"]]),
    "raw": objects([b"\x00\x01", b"", b"abc", bytes(range(256))]),
}


def _with_hole(name: str, full: np.ndarray) -> np.ndarray:
    """The documented NULL forms: NaN in numbers (ints become float64), NaT in dates,
    times and timestamps, None in object columns (bool and array columns become object)."""
    if name == "id":
        return full
    if full.ndim == 1 and full.dtype.kind in "iuf":
        out = full.astype(np.float64)
        out[0] = np.nan
        return out
    if full.dtype.kind in "mM":
        out = full.copy()
        out[0] = np.datetime64("NaT") if full.dtype.kind == "M" else np.timedelta64("NaT")
        return out
    rows = full.tolist()
    return objects([None, *rows[1:]])


HOLES = {name: _with_hole(name, a) for name, a in FULL.items()}
HOLES["f8"] = np.array([np.nan, -1e-9, 1e300, 3.25])
EMPTY = {name: (np.zeros((0, 0)) if a.ndim == 2 else a[:0]) for name, a in FULL.items()}
EMPTY["ragged"] = np.zeros((0, 0))  # no rows: all (none) of the same length


def read_all(db_url: str) -> dict[str, dict[str, np.ndarray]]:
    """Each table's columns through the reader ``ctx.read`` uses."""
    async def go() -> dict[str, dict[str, np.ndarray]]:
        db = await Database.open(parse_url(db_url))
        try:
            db.register(METADATA)
            return {t: await db.read_columns(t, None) for t in ("dense", "holes", "empty")}
        finally:
            await db.close()

    return anyio.run(go)


def assert_same(got: np.ndarray, want: np.ndarray, where: str) -> None:
    assert (got.dtype, got.shape) == (want.dtype, want.shape), where
    if want.dtype == object:
        assert [type(v) for v in got] == [type(v) for v in want], where
        assert got.tolist() == want.tolist(), where
    else:
        np.testing.assert_array_equal(got, want, err_msg=where, strict=True)


def test_the_pack_has_every_kind() -> None:
    kinds = {c.kind for t in ("dense", "holes") for c in
             table_spec(METADATA.tables[t], "postgresql").columns}
    assert kinds == set(ColumnKind) - {ColumnKind.OTHER}


@pytest.mark.parametrize("table, want", [("dense", FULL), ("holes", HOLES), ("empty", EMPTY)])
def test_read_gives_the_canonical_arrays_on_both_databases(
        db_url: str, table: str, want: dict[str, np.ndarray]) -> None:
    result = run_engine(db_url, pack=PACK)
    assert result.status == "done", result
    got = read_all(db_url)[table]
    assert list(got) == list(want)
    for name, arr in want.items():
        assert_same(got[name], arr, f"{table}.{name} on {db_url.split(':')[0]}")


def test_sqlite_and_postgresql_read_alike(tmp_path: Any, pg_url: str) -> None:
    lite = f"sqlite+aiosqlite:///{tmp_path / 'kinds.db'}"
    both = []
    for url in (lite, pg_url):
        assert run_engine(url, pack=PACK).status == "done"
        both.append(read_all(url))
    for table, cols in both[1].items():
        for name, arr in cols.items():
            assert_same(both[0][table][name], arr, f"{table}.{name}")


def test_dates_in_query_parameters_bind_alike(db_url: str) -> None:
    assert run_engine(db_url, pack=PACK).status == "done"

    async def go() -> list[tuple[Any, ...]]:
        db = await Database.open(parse_url(db_url))
        try:
            return await db.query("SELECT id FROM dense WHERE day >= ? AND day < ? ORDER BY id",
                                  (np.datetime64("1999-12-31"), dt.date(2099, 6, 30)))
        finally:
            await db.close()

    assert [r[0] for r in anyio.run(go)] == [1, 2]
