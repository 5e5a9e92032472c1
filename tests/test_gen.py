"""The generators library: each generator's contract, determinism, and canonical output."""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from faker import Faker

from seedgraph import UsageError, gen
from seedgraph.canonical import normalize
from seedgraph.columns import ColumnKind, ColumnSpec
from seedgraph.gen import GenerationError

N = 300
# 14:00 at UTC+2 is 12:00 UTC: a generator that ignores the zone lands two hours late
AS_OF = datetime(2026, 1, 15, 14, 0, 0, 750_000, tzinfo=timezone(timedelta(hours=2)))
AS_OF_UTC = np.datetime64("2026-01-15T12:00:00.750000", "us")
_FAKER = Faker("en_US")


def _rng(seed: int = 7) -> np.random.Generator:
    return np.random.default_rng(seed)


def _faker(seed: int = 7) -> Faker:
    _FAKER.seed_instance(seed)
    return _FAKER


Make = Callable[[np.random.Generator, Faker], np.ndarray]
PARENTS = gen.ids(40, start=100)

# name: (column kind, canonical dtype, generator call); every call draws N rows
CASES: dict[str, tuple[ColumnKind, str, Make]] = {
    "ids": (ColumnKind.INT8, "int64", lambda r, f: gen.ids(N)),
    "integers": (ColumnKind.INT4, "int64", lambda r, f: gen.integers(r, N, -5, 5)),
    "unique_integers": (ColumnKind.INT8, "int64",
                        lambda r, f: gen.unique_integers(r, N, 0, 2**40)),
    "floats": (ColumnKind.FLOAT8, "float64", lambda r, f: gen.floats(r, N, 0.0, 1.0)),
    "decimals": (ColumnKind.NUMERIC, "float64", lambda r, f: gen.decimals(r, N, 0, 99, 2)),
    "booleans": (ColumnKind.BOOL, "bool", lambda r, f: gen.booleans(r, N)),
    "choice": (ColumnKind.TEXT, "object", lambda r, f: gen.choice(r, ["a", "b", "c"], N)),
    "choice_ints": (ColumnKind.INT4, "int64",
                    lambda r, f: gen.choice(r, [1, 2, 3], N, weights=[1, 1, 2])),
    "unique_choice": (ColumnKind.TEXT, "object",
                      lambda r, f: gen.unique_choice(r, [f"v{i}" for i in range(N * 2)], N)),
    "foreign_keys": (ColumnKind.INT4, "int64", lambda r, f: gen.foreign_keys(r, PARENTS, N)),
    "foreign_keys_zipf": (ColumnKind.INT4, "int64",
                          lambda r, f: gen.foreign_keys(r, PARENTS, N, fanout="zipf")),
    "foreign_keys_poisson": (ColumnKind.INT4, "int64",
                             lambda r, f: gen.foreign_keys(r, PARENTS, N, fanout="poisson")),
    "children_per_parent": (ColumnKind.INT4, "int64",
                            lambda r, f: gen.children_per_parent(r, PARENTS, mean=3)),
    "unique_pairs_left": (ColumnKind.INT4, "int64",
                          lambda r, f: gen.unique_pairs(r, PARENTS, PARENTS, N)[0]),
    "unique_pairs_right": (ColumnKind.INT4, "int64",
                           lambda r, f: gen.unique_pairs(r, PARENTS, PARENTS, N)[1]),
    "timestamps": (ColumnKind.TIMESTAMPTZ, "datetime64[us]",
                   lambda r, f: gen.timestamps(r, N, AS_OF)),
    "dates": (ColumnKind.DATE, "datetime64[D]", lambda r, f: gen.dates(r, N, AS_OF)),
    "ordered_pairs_start": (ColumnKind.TIMESTAMP, "datetime64[us]",
                            lambda r, f: gen.ordered_pairs(r, N, AS_OF)[0]),
    "ordered_pairs_end": (ColumnKind.TIMESTAMP, "datetime64[us]",
                          lambda r, f: gen.ordered_pairs(r, N, AS_OF)[1]),
    "times": (ColumnKind.TIME, "timedelta64[us]", lambda r, f: gen.times(r, N)),
    "nulls_float": (ColumnKind.FLOAT8, "float64",
                    lambda r, f: gen.with_nulls(r, gen.floats(r, N, 0, 1), 0.3)),
    "nulls_int": (ColumnKind.INT4, "object", lambda r, f: gen.with_nulls(r, gen.ids(N), 0.3)),
    "nulls_timestamp": (ColumnKind.TIMESTAMP, "datetime64[us]",
                        lambda r, f: gen.with_nulls(r, gen.timestamps(r, N, AS_OF), 0.3)),
    "nulls_date": (ColumnKind.DATE, "datetime64[D]",
                   lambda r, f: gen.with_nulls(r, gen.dates(r, N, AS_OF), 0.3)),
    "nulls_time": (ColumnKind.TIME, "timedelta64[us]",
                   lambda r, f: gen.with_nulls(r, gen.times(r, N), 0.3)),
    "nulls_text": (ColumnKind.TEXT, "object",
                   lambda r, f: gen.with_nulls(r, gen.strings(r, N), 0.3)),
    "nulls_bool": (ColumnKind.BOOL, "object",
                   lambda r, f: gen.with_nulls(r, gen.booleans(r, N), 0.3)),
    "uuids": (ColumnKind.UUID, "object", lambda r, f: gen.uuids(r, N)),
    "json_documents": (ColumnKind.JSONB, "object", lambda r, f: gen.json_documents(r, f, N)),
    "text_arrays": (ColumnKind.TEXT_ARRAY, "object", lambda r, f: gen.text_arrays(r, f, N)),
    "int_arrays": (ColumnKind.INT4_ARRAY, "object", lambda r, f: gen.int_arrays(r, N, 0, 9)),
    "strings": (ColumnKind.TEXT, "object", lambda r, f: gen.strings(r, N, max_length=12)),
    "strings_unique": (ColumnKind.TEXT, "object",
                       lambda r, f: gen.strings(r, N, unique=True, prefix="sku-")),
    "by_meaning": (ColumnKind.TEXT, "object",
                   lambda r, f: gen.by_meaning(r, f, "city", N, pool=50)),
    "by_meaning_unique": (ColumnKind.TEXT, "object",
                          lambda r, f: gen.by_meaning(r, f, "email", N, unique=True, pool=50)),
    "emails_for": (ColumnKind.TEXT, "object", lambda r, f: gen.emails_for(
        r, gen.by_meaning(r, f, "first_name", N, pool=50),
        gen.by_meaning(r, f, "last_name", N, pool=50))),
    # PostgreSQL text forms, cast by the database (their kind is OTHER, written as TEXT)
    "int_range_texts": (ColumnKind.TEXT, "object", lambda r, f: gen.int_range_texts(r, N)),
    "num_range_texts": (ColumnKind.TEXT, "object", lambda r, f: gen.num_range_texts(r, N)),
    "date_range_texts": (ColumnKind.TEXT, "object",
                         lambda r, f: gen.date_range_texts(r, N, AS_OF)),
    "time_range_texts": (ColumnKind.TEXT, "object",
                         lambda r, f: gen.time_range_texts(r, N, AS_OF)),
    "point_texts": (ColumnKind.TEXT, "object", lambda r, f: gen.point_texts(r, N)),
    "box_texts": (ColumnKind.TEXT, "object", lambda r, f: gen.box_texts(r, N)),
    "circle_texts": (ColumnKind.TEXT, "object", lambda r, f: gen.circle_texts(r, N)),
    "lseg_texts": (ColumnKind.TEXT, "object", lambda r, f: gen.lseg_texts(r, N)),
    "line_texts": (ColumnKind.TEXT, "object", lambda r, f: gen.line_texts(r, N)),
    "path_texts": (ColumnKind.TEXT, "object", lambda r, f: gen.path_texts(r, N)),
    "polygon_texts": (ColumnKind.TEXT, "object", lambda r, f: gen.polygon_texts(r, N)),
    "xml_texts": (ColumnKind.TEXT, "object", lambda r, f: gen.xml_texts(r, f, N)),
    "nulls_xml_texts": (ColumnKind.TEXT, "object",
                        lambda r, f: gen.with_nulls(r, gen.xml_texts(r, f, N), 0.3)),
}
NOT_RANDOM = {"ids", "strings_unique"}


def _draw(name: str, seed: int) -> np.ndarray:
    return CASES[name][2](_rng(seed), _faker(seed))


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_canonical_and_goes_through_normalize(name: str) -> None:
    kind, dtype, _ = CASES[name]
    values = _draw(name, 7)
    assert values.dtype == np.dtype(dtype)
    assert values.shape == (len(values),)
    arr, mask = normalize(values, ColumnSpec("c", kind, scale=2), len(values))
    nulls = (np.isnan(values) if values.dtype.kind == "f" else np.isnat(values)
             if values.dtype.kind in "Mm" else np.array([v is None for v in values]))
    assert np.array_equal(mask if mask is not None else np.zeros(len(values), bool), nulls)
    if values.dtype != object:
        assert np.array_equal(arr, values, equal_nan=True)  # already canonical: unchanged
    elif kind in (ColumnKind.JSON, ColumnKind.JSONB):
        assert [json.loads(t) for t in arr] == values.tolist()
    else:
        assert [None if m else v for v, m in zip(arr.tolist(), nulls, strict=True)] == (
            values.tolist())


@pytest.mark.parametrize("name", sorted(set(CASES) - NOT_RANDOM))
def test_same_seed_same_values_other_seed_other_values(name: str) -> None:
    first, again, other = _draw(name, 7), _draw(name, 7), _draw(name, 8)
    assert repr(first.tolist()) == repr(again.tolist())
    assert repr(first.tolist()) != repr(other.tolist())


# -- numbers -------------------------------------------------------------------


def test_ids_count_from_start() -> None:
    assert gen.ids(3, start=10).tolist() == [10, 11, 12]
    assert gen.ids(0).tolist() == []


def test_integers_reach_both_bounds_and_no_further() -> None:
    values = gen.integers(_rng(), 2000, -1, 2)
    assert set(values.tolist()) == {-1, 0, 1, 2}
    assert gen.integers(_rng(), 5, 3, 3).tolist() == [3] * 5
    with pytest.raises(GenerationError, match="at most 0 rows possible"):
        gen.integers(_rng(), 5, 3, 2)


def test_unique_integers_dense_is_a_shuffled_range() -> None:
    values = gen.unique_integers(_rng(), 10, 5, 14)
    assert sorted(values.tolist()) == list(range(5, 15))
    assert values.tolist() != sorted(values.tolist())


@pytest.mark.parametrize(("n", "low", "high"), [
    (1000, 0, 4000),  # just sparse enough to draw: many repeats to replace
    (50_000, 0, 2**31),
    (1000, -(2**62), 2**62),  # a range no array could hold
])
def test_unique_integers_sparse_are_distinct_in_range_and_spread(n: int, low: int,
                                                                 high: int) -> None:
    values = gen.unique_integers(_rng(), n, low, high)
    assert len(values) == n == len(set(values.tolist()))
    assert values.min() >= low and values.max() <= high
    third = (high - low) // 3
    assert values.min() < low + third and values.max() > high - third
    assert values.tolist() != sorted(values.tolist())


def test_unique_integers_too_many_names_the_most() -> None:
    with pytest.raises(GenerationError, match="11 distinct integers in \\[1, 10\\]: at most 10 "
                                              "rows possible") as err:
        gen.unique_integers(_rng(), 11, 1, 10)
    assert err.value.most == 10
    assert isinstance(err.value, UsageError)  # the CLI prints it as one line


def test_floats_stay_in_half_open_range() -> None:
    values = gen.floats(_rng(), 5000, 2.0, 3.0)
    assert values.min() >= 2.0 and values.max() < 3.0
    assert values.min() < 2.01 and values.max() > 2.99


def test_decimals_are_rounded_inside_inclusive_bounds() -> None:
    # 0.07 * 100 is 7.000000000000001 in binary: the lower bound must still be reachable
    values = gen.decimals(_rng(), 2000, 0.07, 0.09, 2)
    assert set(values.tolist()) == {0.07, 0.08, 0.09}
    wide = gen.decimals(_rng(), 5000, -10.005, 10.004, 2)
    assert np.array_equal(np.round(wide, 2), wide)
    assert wide.min() >= -10.005 and wide.max() <= 10.004
    assert wide.min() == -10.0 or wide.min() < -9.9
    with pytest.raises(GenerationError, match="at most 0 rows possible"):
        gen.decimals(_rng(), 1, 0.001, 0.009, 2)


def test_booleans_follow_p() -> None:
    values = gen.booleans(_rng(), 20_000, p=0.2)
    assert abs(values.mean() - 0.2) < 0.02


# -- picks -----------------------------------------------------------------------


def test_choice_picks_only_given_values_with_weights() -> None:
    values = gen.choice(_rng(), ["x", "y", "z"], 30_000, weights=[1, 2, 7])
    counts = Counter(values.tolist())
    assert set(counts) == {"x", "y", "z"}
    assert all(type(v) is str for v in counts)
    for key, share in {"x": 0.1, "y": 0.2, "z": 0.7}.items():
        assert abs(counts[key] / 30_000 - share) < 0.02
    assert gen.choice(_rng(), [1.5, 2.5], 4).dtype == np.float64
    assert gen.choice(_rng(), [True, False], 4).dtype == np.bool_


def test_choice_refuses_empty_lists_and_bad_weights() -> None:
    with pytest.raises(GenerationError, match="at most 0 rows possible"):
        gen.choice(_rng(), [], 1)
    assert len(gen.choice(_rng(), [], 0)) == 0
    with pytest.raises(UsageError, match="needs 2 weights"):
        gen.choice(_rng(), ["a", "b"], 3, weights=[1, 2, 3])
    with pytest.raises(UsageError, match="none negative"):
        gen.choice(_rng(), ["a", "b"], 3, weights=[1, -1])


def test_unique_choice_is_distinct_and_counts_repeats_once() -> None:
    values = gen.unique_choice(_rng(), ["a", "b", "c", "d"], 4)
    assert sorted(values.tolist()) == ["a", "b", "c", "d"]
    picked = gen.unique_choice(_rng(), np.arange(1000), 100)
    assert len(set(picked.tolist())) == 100 and picked.dtype == np.int64
    with pytest.raises(GenerationError, match="at most 2 rows possible"):
        gen.unique_choice(_rng(), ["a", "a", "b"], 3)


def test_unique_pairs_are_distinct_pairs_of_the_inputs() -> None:
    left, right = gen.unique_pairs(_rng(), np.arange(1, 31), np.array([7, 8, 9]), 90)
    pairs = set(zip(left.tolist(), right.tolist(), strict=True))
    assert pairs == {(a, b) for a in range(1, 31) for b in (7, 8, 9)}
    left, right = gen.unique_pairs(_rng(), np.arange(1000), np.arange(1000), 5000)
    assert len(set(zip(left.tolist(), right.tolist(), strict=True))) == 5000
    with pytest.raises(GenerationError, match="at most 4 rows possible"):
        gen.unique_pairs(_rng(), np.array([1, 1, 2]), np.array([1, 2]), 5)


# -- fan-out -------------------------------------------------------------------------


def _children(keys: np.ndarray, parents: np.ndarray) -> np.ndarray:
    counts = Counter(keys.tolist())
    return np.array([counts[p] for p in parents.tolist()])


def test_foreign_keys_uniform_spreads_children_evenly() -> None:
    keys = gen.foreign_keys(_rng(), PARENTS, 1000)
    counts = _children(keys, PARENTS)
    assert counts.sum() == 1000 and counts.max() - counts.min() <= 1
    assert len(set(keys[:40].tolist())) < 40  # children come in random order, not in rounds


def test_foreign_keys_poisson_leaves_some_parents_childless() -> None:
    parents = gen.ids(2000)
    counts = _children(gen.foreign_keys(_rng(), parents, 2000, fanout="poisson"), parents)
    assert 0.3 < (counts == 0).mean() < 0.44  # Poisson(1): e**-1 = 0.37 have no child
    assert abs(counts.var() - 1) < 0.15


def test_foreign_keys_zipf_gives_most_children_to_a_few_parents() -> None:
    parents = gen.ids(1000)
    counts = _children(gen.foreign_keys(_rng(), parents, 50_000, fanout="zipf"), parents)
    top = np.sort(counts)[::-1]
    assert top[:100].sum() > 0.8 * 50_000
    assert int(np.argmax(counts)) != 0  # the popular parents are not simply the first keys
    flatter = _children(gen.foreign_keys(_rng(), parents, 50_000, fanout="zipf", a=0.5),
                        parents)
    assert np.sort(flatter)[::-1][:100].sum() < top[:100].sum()


def test_foreign_keys_errors() -> None:
    with pytest.raises(UsageError, match="Did you mean 'uniform'"):
        gen.foreign_keys(_rng(), PARENTS, 5, fanout="unifrom")
    with pytest.raises(GenerationError, match="empty parent table: at most 0 rows"):
        gen.foreign_keys(_rng(), np.array([], dtype=np.int64), 5)
    assert len(gen.foreign_keys(_rng(), np.array([], dtype=np.int64), 0)) == 0


def test_children_per_parent_is_sorted_and_bounded() -> None:
    parents = _rng(1).permutation(gen.ids(5000))
    keys = gen.children_per_parent(_rng(), parents, mean=3, min=1, max=6)
    assert np.all(np.diff(keys) >= 0)
    counts = _children(keys, parents)
    assert counts.min() == 1 and counts.max() == 6
    unbounded = _children(gen.children_per_parent(_rng(), parents, mean=3), parents)
    assert abs(unbounded.mean() - 3) < 0.1 and counts.min() >= 0
    assert (unbounded == 0).any()
    # the floor shifts the Poisson, so the mean holds (clipping at min would raise it)
    floored = _children(gen.children_per_parent(_rng(), parents, mean=3, min=2), parents)
    assert floored.min() == 2 and abs(floored.mean() - 3) < 0.05
    with pytest.raises(UsageError, match="min <= mean"):
        gen.children_per_parent(_rng(), parents, mean=1, min=2)


# -- time --------------------------------------------------------------------------


def test_timestamps_end_at_as_of_in_utc_whole_seconds() -> None:
    values = gen.timestamps(_rng(), 20_000, AS_OF, days=1.0)
    assert values.max() <= AS_OF_UTC
    assert values.min() > AS_OF_UTC - np.timedelta64(1, "D")
    assert values.max() > AS_OF_UTC - np.timedelta64(60, "s")
    assert values.min() < AS_OF_UTC - np.timedelta64(23, "h")
    assert np.all(values.astype(np.int64) % 1_000_000 == 0)
    last_ten = gen.timestamps(_rng(), 1000, AS_OF, days=10 / 86_400)  # ten seconds
    assert set(last_ten.tolist()) == {
        (AS_OF_UTC - np.timedelta64(750_000 + k * 1_000_000, "us")).tolist() for k in range(10)}
    naive = gen.timestamps(_rng(), 10, datetime(2026, 1, 15, 12, 0, 0, 750_000))
    assert np.array_equal(naive, gen.timestamps(_rng(), 10, AS_OF))  # naive is UTC


def test_dates_end_on_the_utc_date_of_as_of() -> None:
    # 01:00 at UTC+2 on the 15th is still the 14th in UTC
    as_of = datetime(2026, 1, 15, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    values = gen.dates(_rng(), 1000, as_of, days=3)
    assert sorted(set(values.astype(str).tolist())) == ["2026-01-12", "2026-01-13",
                                                        "2026-01-14"]


def test_ordered_pairs_start_before_end_before_as_of() -> None:
    start, end = gen.ordered_pairs(_rng(), 20_000, AS_OF, days=10, max_gap_days=2)
    assert np.all(start < end) and np.all(end <= AS_OF_UTC)
    assert np.all(start > AS_OF_UTC - np.timedelta64(10, "D"))
    gap = end - start
    assert gap.max() <= np.timedelta64(2, "D") and gap.max() > np.timedelta64(47, "h")
    assert np.all(start.astype(np.int64) % 1_000_000 == 0)


def test_times_cover_the_day() -> None:
    values = gen.times(_rng(), 20_000)
    assert values.min() >= np.timedelta64(0, "us") and values.max() < np.timedelta64(1, "D")
    assert values.max() > np.timedelta64(23, "h") and values.min() < np.timedelta64(1, "h")
    assert np.all(values.astype(np.int64) % 1_000_000 == 0)


# -- NULLs -------------------------------------------------------------------------


def test_with_nulls_keeps_values_and_dtype_where_it_can() -> None:
    floats = gen.floats(_rng(), 20_000, 0, 1)
    out = gen.with_nulls(_rng(), floats, 0.25)
    assert out.dtype == np.float64 and abs(np.isnan(out).mean() - 0.25) < 0.02
    assert np.array_equal(out[~np.isnan(out)], floats[~np.isnan(out)])
    assert not np.isnan(floats).any()  # the input is left alone
    ints = gen.with_nulls(_rng(), gen.ids(20_000), 0.1)
    kept = [(i + 1, v) for i, v in enumerate(ints.tolist()) if v is not None]
    assert abs(1 - len(kept) / 20_000 - 0.1) < 0.02 and all(a == b for a, b in kept)
    assert all(type(v) is int for _, v in kept)
    assert not np.isnat(gen.with_nulls(_rng(), gen.dates(_rng(), 100, AS_OF), 0.0)).any()
    assert np.isnat(gen.with_nulls(_rng(), gen.dates(_rng(), 100, AS_OF), 1.0)).all()
    with pytest.raises(UsageError, match="rate"):
        gen.with_nulls(_rng(), floats, 1.5)


def test_with_nulls_on_vectors_gives_rows_or_none() -> None:
    vectors = np.arange(12.0).reshape(6, 2)
    out = gen.with_nulls(_rng(), vectors, 0.5)
    assert out.shape == (6,)
    assert all(v is None or v.tolist() == vectors[i].tolist() for i, v in enumerate(out))


# -- structured values --------------------------------------------------------------

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_uuids_are_canonical_distinct_version_4() -> None:
    values = gen.uuids(_rng(), 5000)
    assert all(UUID4.match(v) for v in values)
    assert all(str(uuid.UUID(v)) == v and uuid.UUID(v).version == 4 for v in values[:50])
    assert len(set(values.tolist())) == 5000


def test_json_documents_are_small_serialisable_dicts() -> None:
    docs = gen.json_documents(_rng(), _faker(), 200)
    assert all(isinstance(d, dict) and set(d) == {"source", "score", "active", "tags"}
               for d in docs)
    assert all(isinstance(d["tags"], list) and 0 <= d["score"] <= 100 for d in docs)
    assert len({json.dumps(d) for d in docs}) == 200


def test_text_and_int_arrays_hold_lists_of_the_right_items() -> None:
    texts = gen.text_arrays(_rng(), _faker(), 2000, max_items=3)
    assert {len(v) for v in texts} == {0, 1, 2, 3}
    assert all(isinstance(w, str) and w for v in texts for w in v)
    ints = gen.int_arrays(_rng(), 2000, 5, 7, max_items=2)
    assert {len(v) for v in ints} == {0, 1, 2}
    assert {x for v in ints for x in v} == {5, 6, 7}
    assert all(type(x) is int for v in ints for x in v)


def test_strings_are_words_or_numbered_and_fit_max_length() -> None:
    words = gen.strings(_rng(), 2000)
    assert all(re.fullmatch(r"[a-z]+ [a-z]+", w) for w in words)
    assert len(set(words.tolist())) > 500
    short = gen.strings(_rng(), 2000, max_length=6)
    assert max(len(w) for w in short) == 6 and not any(w.endswith(" ") for w in short)
    unique = gen.strings(_rng(), 1000, unique=True, prefix="SKU-", max_length=8)
    assert unique[0] == "SKU-1" and len(set(unique.tolist())) == 1000
    with pytest.raises(GenerationError, match="at most 9 rows possible"):
        gen.strings(_rng(), 10, unique=True, prefix="ab", max_length=3)


# -- text by meaning ---------------------------------------------------------------


@pytest.mark.parametrize("meaning", sorted(gen.MEANINGS))
def test_every_meaning_makes_text(meaning: str) -> None:
    values = gen.by_meaning(_rng(), _faker(), meaning, 50, pool=30)
    assert all(isinstance(v, str) and v.strip() for v in values)
    assert gen.MEANINGS[meaning]


def test_by_meaning_picks_from_a_pool_with_numpy() -> None:
    values = gen.by_meaning(_rng(), _faker(), "last_name", 5000, pool=20)
    assert len(set(values.tolist())) <= 20
    # the pool comes from the Faker alone: another rng reorders picks, the pool stays
    other = gen.by_meaning(_rng(8), _faker(), "last_name", 5000, pool=20)
    assert set(other.tolist()) == set(values.tolist())


def test_by_meaning_unique_numbers_values_past_the_pool() -> None:
    emails = gen.by_meaning(_rng(), _faker(), "email", 500, unique=True, pool=30)
    assert len(set(emails.tolist())) == 500
    assert all(re.fullmatch(r"[a-z0-9._]+@example\.(com|org|net)", e) for e in emails)
    names = gen.by_meaning(_rng(), _faker(), "first_name", 400, unique=True, max_length=4,
                           pool=30)
    assert len(set(names.tolist())) == 400 and max(len(v) for v in names) <= 4
    domains = gen.by_meaning(_rng(), _faker(), "domain", 100, unique=True, pool=10)
    assert all(re.fullmatch(r"[a-z0-9-]+\.[a-z]+", d) for d in domains)


def test_by_meaning_unique_closed_sets_name_the_most() -> None:
    pool = set(gen.by_meaning(_rng(), _faker(), "country_code", 2000, pool=40).tolist())
    found = len(pool)
    codes = gen.by_meaning(_rng(), _faker(), "country_code", found, unique=True, pool=40)
    assert set(codes.tolist()) == pool  # every pool value once
    with pytest.raises(GenerationError, match=f"at most {found} rows possible") as err:
        gen.by_meaning(_rng(), _faker(), "country_code", 500, unique=True, pool=40)
    assert err.value.most == found
    # one word cut to two letters, then "w1" .. "w9": "w10" is too long
    with pytest.raises(GenerationError, match="at most 10 rows possible"):
        gen.by_meaning(_rng(), _faker(), "word", 20, unique=True, max_length=2, pool=1)


def test_by_meaning_unknown_lists_the_known() -> None:
    with pytest.raises(GenerationError, match="Did you mean 'email'") as err:
        gen.by_meaning(_rng(), _faker(), "emial", 3)
    assert all(m in str(err.value) for m in gen.MEANINGS)


def test_phone_and_postal_code_look_real() -> None:
    phones = gen.by_meaning(_rng(), _faker(), "phone", 200, pool=100)
    assert all(re.fullmatch(r"[0-9+().\- x]+", p) and len(re.sub(r"\D", "", p)) >= 10
               for p in phones)
    codes = gen.by_meaning(_rng(), _faker(), "postal_code", 200, pool=100)
    assert all(re.fullmatch(r"\d{5}(-\d{4})?", c) for c in codes)
    ips = gen.by_meaning(_rng(), _faker(), "ip", 50, pool=50)
    assert all(0 <= int(x) <= 255 for ip in ips for x in ip.split("."))


EMAIL = re.compile(r"^([a-z]+)[._]?([a-z]+)(\d*)@example\.(com|org|net)$")


def test_emails_for_follow_the_names_and_are_unique() -> None:
    first = gen.by_meaning(_rng(), _faker(), "first_name", 3000, pool=50)
    last = gen.by_meaning(_rng(), _faker(), "last_name", 3000, pool=50)
    emails = gen.emails_for(_rng(), first, last)
    assert len(set(emails.tolist())) == 3000
    for given, family, e in zip(first, last, emails, strict=True):
        local = e.split("@")[0]
        assert EMAIL.match(e), e
        assert local.startswith(given.lower()[0]) and re.sub("[^a-z]", "", family.lower()) in local
        assert local[-1].isdigit()
    styles = {e.split("@")[0].rstrip("0123456789").count(c) for e in emails for c in "._"}
    assert styles == {0, 1}


def test_emails_for_same_names_stay_unique_and_spell_ascii() -> None:
    emails = gen.emails_for(_rng(), np.array(["José"] * 1000, dtype=object),
                            np.array(["Núñez-Ortiz"] * 1000, dtype=object))
    assert len(set(emails.tolist())) == 1000
    assert all(re.match(r"(jose[._]?|j)nunezortiz\d+@", e) for e in emails)
    loose = gen.emails_for(_rng(), np.array(["Ada"] * 400), np.array(["Lovelace"] * 400),
                           unique=False)
    assert any(e.startswith(("ada.lovelace@", "ada_lovelace@", "alovelace@")) for e in loose)
    with pytest.raises(UsageError, match="2 first names and 1 last names"):
        gen.emails_for(_rng(), np.array(["a", "b"]), np.array(["c"]))


def test_the_reference_lists_every_meaning() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "generators.md").read_text()
    listed = set(re.findall(r"`(\w+)`", doc.split("## Text by meaning")[1].split("With")[0]))
    assert listed - {"by_meaning"} == set(gen.MEANINGS)


@pytest.mark.parametrize(("column", "meaning"), [
    ("email", "email"), ("e_mail", "email"), ("user_email", "email"), ("EmailAddress", "email"),
    ("email_verified", None), ("email_id", None),
    ("first_name", "first_name"), ("firstname", "first_name"), ("given_name", "first_name"),
    ("firstName", "first_name"), ("last_name", "last_name"), ("surname", "last_name"),
    ("full_name", "full_name"), ("username", "username"), ("user_name", "username"),
    ("phone", "phone"), ("phone_number", "phone"), ("mobile", "phone"),
    ("zip", "postal_code"), ("zip_code", "postal_code"), ("postal_code", "postal_code"),
    ("postcode", "postal_code"), ("city", "city"), ("billing_city", "city"), ("city_id", None),
    ("country", "country"), ("country_code", "country_code"), ("state", "state"),
    ("url", "url"), ("website", "url"), ("homepage", "url"), ("avatar_url", "url"),
    ("company", "company"), ("company_name", "company"), ("job_title", "job"),
    ("title", "title"), ("description", "description"), ("notes", "sentence"),
    ("bio", "paragraph"), ("comment", "sentence"), ("ip_address", "ip"), ("ipv6", "ipv6"),
    ("street_address", "street"), ("mac_address", None), ("currency", "currency_code"),
    ("slug", "slug"), ("color", "color"), ("last_login", None), ("name", None),
    ("quantity", None), ("zipper", None),
])
def test_meaning_for(column: str, meaning: str | None) -> None:
    assert gen.meaning_for(column) == meaning
    if meaning is not None:
        assert meaning in gen.MEANINGS


# -- the shapes schema inference needs ------------------------------------------------


def test_hierarchy_is_a_tree_of_bounded_depth_with_roots_first() -> None:
    ids = np.arange(1, 501)
    parents = gen.hierarchy(np.random.default_rng(3), ids, nullable=True, max_depth=3)
    by_id = dict(zip(ids.tolist(), parents.tolist(), strict=True))
    assert by_id[1] is None and sum(p is None for p in parents) == 50
    for child, parent in by_id.items():
        depth = 0
        while parent is not None:
            assert parent < child  # only earlier rows: no cycles
            child, parent = parent, by_id[parent]
            depth += 1
        assert depth <= 2
    rooted = gen.hierarchy(np.random.default_rng(3), ids, nullable=False)
    assert rooted[0] == 1 and all(p is not None for p in rooted)


def test_in_ranges_stays_inside_half_open_bounds() -> None:
    rng = np.random.default_rng(1)
    ranges = [("2024-01-01T00:00:00", "2024-02-01T00:00:00"),
              ("2024-03-01T00:00:00", "2024-03-02T00:00:00")]
    out = gen.in_ranges(rng, 2000, ranges)
    assert out.dtype == np.dtype("datetime64[us]")
    inside = ((out >= np.datetime64("2024-01-01")) & (out < np.datetime64("2024-02-01"))) | (
        (out >= np.datetime64("2024-03-01")) & (out < np.datetime64("2024-03-02")))
    assert inside.all() and (out >= np.datetime64("2024-03-01")).any()
    numbers = gen.in_ranges(rng, 1000, [(0, 10), (100, 101)])
    assert set(numbers.tolist()) <= set(range(10)) | {100} and 100 in numbers
    with pytest.raises(GenerationError, match="no bounded partition"):
        gen.in_ranges(rng, 3, [])


def test_after_is_strictly_later_row_by_row_and_keeps_nulls() -> None:
    rng = np.random.default_rng(2)
    days = np.array(["2024-01-01", "2024-05-05", "NaT"], dtype="datetime64[D]")
    later = gen.after(rng, days)
    assert later.dtype == days.dtype and (later[:2] > days[:2]).all() and np.isnat(later[2])
    stamps = np.array(["2024-01-01T10:00:00"] * 50, dtype="datetime64[us]")
    assert (gen.after(rng, stamps) > stamps).all()
    ints = np.array([5, 5, 5])
    assert (gen.after(rng, ints) > ints).all()
    assert gen.after(rng, np.array([1, None], dtype=object))[1] is None


def test_numbered_within_counts_each_keys_rows_in_order() -> None:
    assert gen.numbered_within(np.array([7, 3, 7, 7, 3])).tolist() == [1, 1, 2, 3, 2]
    assert gen.numbered_within(np.array(["b", "a", "b"], dtype=object)).tolist() == [1, 1, 2]
    assert gen.numbered_within(np.array([], dtype=np.int64)).tolist() == []


def test_drop_duplicates_keeps_first_rows_and_lets_nulls_repeat() -> None:
    cols = {"a": np.array([1, 1, 2, 1, None], dtype=object), "b": [1, 1, 1, 2, None],
            "c": np.array([10, 20, 30, 40, 50])}
    out = gen.drop_duplicates(cols, ["a", "b"])
    assert out["c"].tolist() == [10, 30, 40, 50] and out["b"] == [1, 1, 2, None]
    unique = {"a": np.array([1, 2])}
    assert gen.drop_duplicates(unique, ["a"]) is unique


def test_fit_shrinks_derived_counts_and_refuses_asked_ones() -> None:
    assert gen.fit(5, 10, "x") == 5 and gen.fit(50, 10, "x") == 10
    with pytest.raises(GenerationError, match=r"cannot seed 50 rows: unique t\.c is an enum "
                                              r"of 10 values, so at most 10 rows") as err:
        gen.fit(50, 10, "unique t.c is an enum of 10 values", asked=50)
    assert err.value.most == 10


def test_byte_strings_and_fixed_format_meanings() -> None:
    values = gen.byte_strings(np.random.default_rng(0), 100, max_length=4)
    assert all(isinstance(v, bytes) and 1 <= len(v) <= 4 for v in values)
    assert len({len(v) for v in values}) == 4
    assert gen.numbers_when_unique("email") and not gen.numbers_when_unique("isbn")
    assert not gen.numbers_when_unique("no such meaning")


def test_text_forms_for_types_the_database_casts() -> None:
    spans = gen.interval_texts(_rng(), 500, max_days=2)
    parsed = [re.fullmatch(r"(\d+) days (\d\d):(\d\d):(\d\d)", s) for s in spans]
    assert all(parsed)
    seconds = [int(m[1]) * 86_400 + int(m[2]) * 3600 + int(m[3]) * 60 + int(m[4])
               for m in parsed if m]
    assert min(seconds) >= 0 and max(seconds) <= 2 * 86_400
    assert int(max(m[2] for m in parsed if m)) <= 23
    amounts = gen.amount_texts(_rng(), 500, 5, 10)
    assert all(re.fullmatch(r"\d+\.\d\d", a) for a in amounts)
    assert all(5 <= float(a) <= 10 for a in amounts)


# -- PostgreSQL text forms: ranges, geometric types, xml ------------------------------

_NUM = r"(-?\d+(?:\.\d+)?)"
_POINT = rf"\({_NUM},{_NUM}\)"


def _floats(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


def test_int_and_num_ranges_are_non_empty_half_open_and_inside_their_bounds() -> None:
    ints = [re.fullmatch(r"\[(-?\d+),(-?\d+)\)", t) for t in gen.int_range_texts(
        _rng(), 2000, -50, 50, max_width=7)]
    pairs = [(int(m[1]), int(m[2])) for m in ints if m]
    assert len(pairs) == 2000
    assert all(-50 <= lo < hi <= 50 and hi - lo <= 7 for lo, hi in pairs)
    assert {lo for lo, _ in pairs} == set(range(-50, 50))  # every lower bound comes up
    assert set(gen.int_range_texts(_rng(), 20, 5, 6)) == {"[5,6)"}  # one step: one range
    with pytest.raises(GenerationError, match="non-empty integer ranges in"):
        gen.int_range_texts(_rng(), 1, 5, 5)
    nums = [re.fullmatch(rf"\[{_NUM},{_NUM}\)", t) for t in gen.num_range_texts(
        _rng(), 2000, 1.5, 3.0, max_width=0.5)]
    bounds = [(float(m[1]), float(m[2])) for m in nums if m]
    assert len(bounds) == 2000
    assert all(1.5 <= lo < hi <= 3.0 and hi - lo <= 0.5 + 1e-9 for lo, hi in bounds)
    assert all(len(x.split(".")[-1]) <= 2 for m in nums if m for x in (m[1], m[2]))
    tenths = gen.num_range_texts(_rng(), 500, 0.1, 0.3, max_width=0.1)
    assert min(tenths) == "[0.10,0.11)" and max(tenths) == "[0.29,0.30)"  # 0.1 * 100 > 10
    assert set(gen.num_range_texts(_rng(), 5, 0, 3, scale=0)) <= {"[0,1)", "[0,2)", "[0,3)",
                                                                   "[1,2)", "[1,3)", "[2,3)"}


def test_date_and_time_ranges_end_by_as_of_with_lo_before_hi() -> None:
    days = [re.fullmatch(r"\[(\d{4}-\d\d-\d\d),(\d{4}-\d\d-\d\d)\)", t)
            for t in gen.date_range_texts(_rng(), 2000, AS_OF, days=60, max_days=5)]
    spans = [(np.datetime64(m[1]), np.datetime64(m[2])) for m in days if m]
    assert len(spans) == 2000
    today = AS_OF_UTC.astype("datetime64[D]")
    assert all(today - 60 <= lo < hi <= today for lo, hi in spans)
    assert max(int((hi - lo).astype(int)) for lo, hi in spans) == 5
    times = [re.fullmatch(r'\["(\S+ \S+)\+00","(\S+ \S+)\+00"\)', t)
             for t in gen.time_range_texts(_rng(), 2000, AS_OF, days=3, max_gap_days=1)]
    moments = [(np.datetime64(m[1].replace(" ", "T")), np.datetime64(m[2].replace(" ", "T")))
               for m in times if m]
    assert len(moments) == 2000
    # whole seconds in UTC: as_of (12:00:00.75 UTC) is the latest an end can be
    assert all(AS_OF_UTC - np.timedelta64(3, "D") < lo < hi <= AS_OF_UTC for lo, hi in moments)
    assert all(hi - lo <= np.timedelta64(1, "D") for lo, hi in moments)
    with pytest.raises(UsageError):
        gen.date_range_texts(_rng(), 1, AS_OF, days=0)


def test_points_boxes_segments_and_circles_have_their_shapes() -> None:
    points = [re.fullmatch(_POINT, t) for t in gen.point_texts(_rng(), N, low=0, high=10)]
    assert all(m and 0 <= float(m[1]) <= 10 and 0 <= float(m[2]) <= 10 for m in points)
    for text in gen.box_texts(_rng(), N, max_size=3):
        m = re.fullmatch(rf"{_POINT},{_POINT}", text)
        assert m, text
        x2, y2, x1, y1 = (float(g) for g in m.groups())  # upper right, then lower left
        assert 0 < x2 - x1 <= 3.01 and 0 < y2 - y1 <= 3.01
    for text in gen.lseg_texts(_rng(), N):
        m = re.fullmatch(rf"\[{_POINT},{_POINT}\]", text)
        assert m and (m[1], m[2]) != (m[3], m[4]), text
    radii = []
    for text in gen.circle_texts(_rng(), N, max_radius=0.05):
        m = re.fullmatch(rf"<{_POINT},{_NUM}>", text)
        assert m, text
        radii.append(float(m[3]))
    assert min(radii) >= 0.01 and max(radii) <= 0.05


def test_lines_paths_and_polygons_are_valid() -> None:
    for text in gen.line_texts(_rng(), N):
        m = re.fullmatch(rf"\{{{_NUM},{_NUM},{_NUM}\}}", text)
        assert m, text
        a, b = float(m[1]), float(m[2])
        assert (a, b) != (0, 0) and abs(a * a + b * b - 1) < 1e-3  # a unit normal
    sizes = []
    for text in gen.path_texts(_rng(), N, max_points=4):
        assert text.startswith("[(") and text.endswith(")]")  # an open path
        sizes.append(len(_floats(text)) // 2)
    assert set(sizes) == {2, 3, 4}
    sizes = []
    for text in gen.polygon_texts(_rng(), N, max_points=5):
        assert re.fullmatch(rf"\({_POINT}(,{_POINT})+\)", text), text
        xy = np.array(_floats(text)).reshape(-1, 2)
        sizes.append(len(xy))
        # counter-clockwise around the centre, star-shaped: a positive area (shoelace)
        x, y = xy[:, 0], xy[:, 1]
        assert np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) > 0
    assert set(sizes) == {3, 4, 5}
    with pytest.raises(UsageError):
        gen.polygon_texts(_rng(), 1, max_points=2)


@pytest.mark.parametrize("name", sorted(n for n in CASES
                                        if n.endswith("_texts") and hasattr(gen, n)))
def test_text_forms_of_no_rows_are_empty_text_columns(name: str) -> None:
    draw = getattr(gen, name)
    args = (_faker(),) if name == "xml_texts" else ()
    tail = (AS_OF,) if name in ("date_range_texts", "time_range_texts") else ()
    values = draw(_rng(), *args, 0, *tail)
    assert values.dtype == object and values.shape == (0,)


class _OddFaker:
    """Faker's pool calls, with text that needs escaping in XML."""

    def words(self, nb: int) -> list[str]:
        return ["a<b", "Tom & Jerry", "x>y", "plain", "'quoted'"][:nb]

    def sentences(self, nb: int) -> list[str]:
        return ["1 < 2 & 3 > 2.", 'She said "hi".'][:nb]


def test_xml_documents_are_well_formed_with_escaped_text() -> None:
    docs = gen.xml_texts(_rng(), _faker(), N)
    tags = []
    for doc in docs:
        root = ET.fromstring(doc)
        assert root.tag == "note" and root.get("id", "").isdigit()
        assert [c.tag for c in root][:2] == ["title", "body"]
        assert root.findtext("title") and root.findtext("body")
        tags.append(len(root.findall("tag")))
    assert set(tags) == {0, 1, 2, 3}
    odd = gen.xml_texts(_rng(), _OddFaker(), 200, max_tags=2)
    words = set(_OddFaker().words(5))
    for doc in odd:
        root = ET.fromstring(doc)
        assert root.findtext("title") in {f"{a} {b}" for a in words for b in words}
        assert root.findtext("body") in _OddFaker().sentences(2)
        assert {t.text for t in root.findall("tag")} <= words
