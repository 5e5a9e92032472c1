"""Generators: the column-wise moves seed tasks share, so a task body shows only its domain.

Every function is pure: it takes a numpy ``Generator`` (and, for realistic text, a
seeded Faker), draws whole columns at once and returns numpy arrays in the canonical
form of :mod:`seedgraph.canonical`, ready for ``ctx.write``. The same rng state gives
the same arrays. Faker only builds small pools of values and numpy picks from them,
so a million rows cost one pool and one index draw.

    ids, integers, floats, decimals, booleans       keys and bounded draws
    choice, unique_choice                           picks from a list: weighted, or distinct
    unique_integers, unique_pairs                   distinct draws without allocating the range
    foreign_keys, children_per_parent               fan-out from parent keys
    timestamps, dates, ordered_pairs, times         times at or before ``as_of``
    with_nulls                                      a share of NULLs in any column
    uuids, uuid_texts, uuid4_texts, json_documents, text_arrays, int_arrays, strings
    by_meaning, emails_for, meaning_for, MEANINGS   realistic text by meaning (email, city, ...)
    int_range_texts, time_range_texts, point_texts, polygon_texts, xml_texts, ...
                                                    PostgreSQL text forms: ranges, geometry, xml

This package only re-exports; each concept lives in its own module: ``numbers``
(keys, draws, picks, ``fit``), ``keys`` (foreign keys, link pairs, trees, per-key
numbering), ``datetimes`` (times, ``after``, ``in_ranges``), ``text`` (strings and
meanings), ``values`` (UUIDs, documents, arrays, bytes, NULLs), ``pgtext`` (the text
of PostgreSQL ranges, geometric types and xml, which the database casts) and ``errors``.
Import from ``seedgraph.gen``: the module split is not part of the API.
"""

from __future__ import annotations

from seedgraph.gen.datetimes import (
    after,
    dates,
    in_ranges,
    interval_texts,
    ordered_pairs,
    times,
    timestamps,
)
from seedgraph.gen.errors import GenerationError
from seedgraph.gen.keys import (
    children_per_parent,
    drop_duplicates,
    foreign_keys,
    hierarchy,
    numbered_within,
    unique_pairs,
)
from seedgraph.gen.numbers import (
    amount_texts,
    booleans,
    choice,
    decimals,
    fit,
    floats,
    ids,
    integers,
    unique_choice,
    unique_integers,
)
from seedgraph.gen.pgtext import (
    box_texts,
    circle_texts,
    date_range_texts,
    int_range_texts,
    line_texts,
    lseg_texts,
    num_range_texts,
    path_texts,
    point_texts,
    polygon_texts,
    time_range_texts,
    xml_texts,
)
from seedgraph.gen.text import (
    MEANINGS,
    by_meaning,
    emails_for,
    meaning_for,
    numbers_when_unique,
    strings,
)
from seedgraph.gen.values import (
    byte_strings,
    int_arrays,
    json_documents,
    text_arrays,
    uuid4_texts,
    uuid_texts,
    uuids,
    with_nulls,
)

__all__ = [
    "MEANINGS",
    "GenerationError",
    "after",
    "amount_texts",
    "booleans",
    "box_texts",
    "by_meaning",
    "byte_strings",
    "children_per_parent",
    "choice",
    "circle_texts",
    "date_range_texts",
    "dates",
    "decimals",
    "drop_duplicates",
    "emails_for",
    "fit",
    "floats",
    "foreign_keys",
    "hierarchy",
    "ids",
    "in_ranges",
    "int_arrays",
    "int_range_texts",
    "integers",
    "interval_texts",
    "json_documents",
    "line_texts",
    "lseg_texts",
    "meaning_for",
    "num_range_texts",
    "numbered_within",
    "numbers_when_unique",
    "ordered_pairs",
    "path_texts",
    "point_texts",
    "polygon_texts",
    "strings",
    "text_arrays",
    "time_range_texts",
    "times",
    "timestamps",
    "unique_choice",
    "unique_integers",
    "unique_pairs",
    "uuid4_texts",
    "uuid_texts",
    "uuids",
    "with_nulls",
    "xml_texts",
]
