"""JSON text of numeric array rows (seedgraph/jsonarrays.py) is exactly what json.dumps
writes, on the fast path (numbers rounded to a few decimals) and off it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seedgraph.jsonarrays import json_rows, json_runs

RNG = np.random.default_rng(7)
CASES = {
    "embedding, 4 decimals (with -0.0)": np.round(RNG.normal(0, 0.044, (300, 64)), 4),
    "skeletons, 1 decimal, 3-D": np.round(RNG.random((40, 17, 3)) * 1000, 1),
    "large values far apart, 2 decimals": np.round(RNG.normal(0, 1e5, (30, 4)), 2),
    "whole numbers as floats": np.arange(12, dtype=float).reshape(2, 3, 2) - 5,
    "full precision": RNG.random((20, 3)),
    "6 decimals": np.round(RNG.normal(0, 1, (20, 5)), 6),
    "NaN and infinity": np.array([[1.5, np.nan], [np.inf, -np.inf]]),
    "integers": np.array([[1, -2], [3, 4]]),
    "counts, 3-D": RNG.integers(0, 40, (50, 9, 16)),
    "integers far apart": np.array([[-(2**62), 2**62], [0, 7]]),
    "uint8": RNG.integers(0, 256, (20, 4)).astype(np.uint8),
    "huge unsigned": np.array([[2**64 - 1, 2**64 - 2]], dtype=np.uint64),
    "int32 negative": RNG.integers(-5, 5, (20, 3)).astype(np.int32),
    "float32": np.round(RNG.random((10, 3)), 2).astype(np.float32),
    "negative zero alone": np.array([[-0.0, 0.0], [0.5, -0.5]]),
    "more numbers than one block": np.round(RNG.normal(0, 1, (300, 512)), 3),
}


@pytest.mark.parametrize("name", list(CASES))
def test_rows_are_what_json_dumps_writes(name: str) -> None:
    values = CASES[name]
    assert json_rows(values) == [json.dumps(r.tolist()) for r in values]


def test_the_fast_path_is_taken_for_rounded_numbers() -> None:
    from seedgraph import jsonarrays

    assert jsonarrays._texts(CASES["embedding, 4 decimals (with -0.0)"]) is not None
    assert jsonarrays._texts(CASES["full precision"]) is None
    assert jsonarrays._texts(CASES["NaN and infinity"]) is None


RUNS = {
    "points, 4 and 2 decimals": np.stack([np.round(RNG.random(60), 4), np.round(RNG.random(60), 4),
                                          np.round(RNG.random(60) * 90, 2)], axis=1),
    "full precision": RNG.random((60, 3)),
    "integers": RNG.integers(-9, 9, (60, 2)),
    "scalars": np.round(RNG.random(60), 1),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_runs_are_what_json_dumps_writes(name: str) -> None:
    items = RUNS[name]
    counts = np.array([0, 3, 1, 0, 17, 3, 36])
    begin = np.cumsum(counts) - counts
    assert json_runs(items, counts).tolist() == [
        json.dumps(items[a:a + m].tolist()) for a, m in zip(begin, counts, strict=True)]


def test_tables_kept_between_calls_grow_and_stay_exact() -> None:
    from seedgraph import jsonarrays

    jsonarrays._TABLES.clear()
    for values in (np.round(RNG.random((50, 8)), 3), np.round(RNG.normal(0, 40, (50, 8)), 3),
                   np.round(RNG.random((50, 8)) - 0.5, 3)):
        assert json_rows(values) == [json.dumps(r.tolist()) for r in values]
    low, texts = jsonarrays._TABLES[3]
    assert low < -10_000 and len(texts) > 20_000  # one table, grown to the widest range
    wide = np.round(RNG.normal(0, 1e3, (50, 8)), 3)  # past CACHED_STEPS: not kept
    assert json_rows(wide) == [json.dumps(r.tolist()) for r in wide]
    assert jsonarrays._TABLES[3][1] is texts
