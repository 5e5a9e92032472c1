"""CHECK constraint texts as databases report them, and the rules read from them.

PG_CASES hold what a user writes and what PostgreSQL 15 prints back for it
(``pg_get_constraintdef``); ``test_postgres_prints_what_the_cases_say`` proves the printed
texts on a real server, and that SQLAlchemy's reflection of them reads the same.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from seedgraph.checks import (
    Length,
    NotNull,
    OneOf,
    Order,
    Range,
    Rule,
    Unparsed,
    merge_ranges,
    parse_check,
)

TABLE = [
    "CREATE TYPE mood AS ENUM ('happy', 'sad', 'ok')",
    'CREATE TABLE t (x int, y int, rating int, "Rating" int, small smallint, big bigint, '
    "price numeric, cost numeric(6, 2), lat float8, ratio real, status varchar(10), "
    "code varchar(20), name text, chr char(3), mood mood, born date, started_at timestamp, "
    "ended_at timestamp, ts timestamptz, span interval)",
]
COLUMNS = {"x", "y", "rating", "Rating", "small", "big", "price", "cost", "lat", "ratio",
           "status", "code", "name", "chr", "mood", "born", "started_at", "ended_at", "ts",
           "span"}

# (what a user writes, what PostgreSQL 15 prints, the rules)
PG_CASES: list[tuple[str, str, list[Rule]]] = [
    ("CHECK (rating >= 1 AND rating <= 5)",
     "CHECK (((rating >= 1) AND (rating <= 5)))",
     [Range("rating", 1, None), Range("rating", None, 5)]),
    ("CHECK (x BETWEEN 1 AND 10)",  # PostgreSQL expands BETWEEN
     "CHECK (((x >= 1) AND (x <= 10)))",
     [Range("x", 1, None), Range("x", None, 10)]),
    ("CHECK (0 < x)", "CHECK ((0 < x))", [Range("x", 0, None, low_inclusive=False)]),
    ("CHECK (x >= +5)", "CHECK ((x >= (+ 5)))", [Range("x", 5, None)]),
    ('CHECK ("Rating" >= 0)', 'CHECK (("Rating" >= 0))', [Range("Rating", 0, None)]),
    ("CHECK (x >= 0 AND (y > 1 AND y < 9))",
     "CHECK (((x >= 0) AND ((y > 1) AND (y < 9))))",
     [Range("x", 0, None), Range("y", 1, None, low_inclusive=False),
      Range("y", None, 9, high_inclusive=False)]),
    # numbers: negative ones come back quoted, decimals and integer columns get casts
    ("CHECK (small >= -5)", "CHECK ((small >= '-5'::integer))", [Range("small", -5, None)]),
    ("CHECK (big <= 9223372036854775807)",
     "CHECK ((big <= '9223372036854775807'::bigint))", [Range("big", None, 2**63 - 1)]),
    ("CHECK (price >= 0)", "CHECK ((price >= (0)::numeric))", [Range("price", 0, None)]),
    ("CHECK (price >= 0.5)", "CHECK ((price >= 0.5))", [Range("price", 0.5, None)]),
    ("CHECK (price >= -90)", "CHECK ((price >= ('-90'::integer)::numeric))",
     [Range("price", -90, None)]),
    ("CHECK (price > -0.5)", "CHECK ((price > '-0.5'::numeric))",
     [Range("price", -0.5, None, low_inclusive=False)]),
    ("CHECK (cost <= 999.99)", "CHECK ((cost <= 999.99))", [Range("cost", None, 999.99)]),
    ("CHECK (lat >= -90 AND lat <= 90)",
     "CHECK (((lat >= ('-90'::integer)::double precision) AND "
     "(lat <= (90)::double precision)))",
     [Range("lat", -90, None), Range("lat", None, 90)]),
    ("CHECK (lat >= -90.5)", "CHECK ((lat >= ('-90.5'::numeric)::double precision))",
     [Range("lat", -90.5, None)]),
    ("CHECK (ratio <= 1.5)", "CHECK ((ratio <= (1.5)::double precision))",
     [Range("ratio", None, 1.5)]),
    ("CHECK (x >= 0.5)", "CHECK (((x)::numeric >= 0.5))", [Range("x", 0.5, None)]),
    ("CHECK (x >= 1e3)", "CHECK (((x)::numeric >= '1000'::numeric))", [Range("x", 1000, None)]),
    # dates, timestamps, intervals and text: bounds stay text
    ("CHECK (born >= '2000-01-01')", "CHECK ((born >= '2000-01-01'::date))",
     [Range("born", "2000-01-01", None)]),
    ("CHECK (ts >= '2000-01-01 00:00:00+00')",
     "CHECK ((ts >= '2000-01-01 00:00:00+00'::timestamp with time zone))",
     [Range("ts", "2000-01-01 00:00:00+00", None)]),
    ("CHECK (span >= '1 day')", "CHECK ((span >= '1 day'::interval))",
     [Range("span", "1 day", None)]),
    ("CHECK (name >= 'a')", "CHECK ((name >= 'a'::text))", [Range("name", "a", None)]),
    # lists
    ("CHECK (status IN ('a', 'b'))",
     "CHECK (((status)::text = ANY ((ARRAY['a'::character varying, "
     "'b'::character varying])::text[])))",
     [OneOf("status", ("a", "b"))]),
    ("CHECK (name IN ('a', 'b'))", "CHECK ((name = ANY (ARRAY['a'::text, 'b'::text])))",
     [OneOf("name", ("a", "b"))]),
    ("CHECK (mood IN ('happy', 'sad'))",
     "CHECK ((mood = ANY (ARRAY['happy'::mood, 'sad'::mood])))",
     [OneOf("mood", ("happy", "sad"))]),
    ("CHECK (chr IN ('a', 'b'))", "CHECK ((chr = ANY (ARRAY['a'::bpchar, 'b'::bpchar])))",
     [OneOf("chr", ("a", "b"))]),
    ("CHECK (status IN ('it''s', 'b'))",
     "CHECK (((status)::text = ANY ((ARRAY['it''s'::character varying, "
     "'b'::character varying])::text[])))",
     [OneOf("status", ("it's", "b"))]),
    ("CHECK (status IN ('a'))", "CHECK (((status)::text = 'a'::text))",
     [OneOf("status", ("a",))]),
    ("CHECK (x IN (1, 2, 3))", "CHECK ((x = ANY (ARRAY[1, 2, 3])))", [OneOf("x", (1, 2, 3))]),
    ("CHECK (x IN (-1, -2))", "CHECK ((x = ANY (ARRAY['-1'::integer, '-2'::integer])))",
     [OneOf("x", (-1, -2))]),
    ("CHECK (x IN (1, 2.5))", "CHECK (((x)::numeric = ANY (ARRAY[(1)::numeric, 2.5])))",
     [OneOf("x", (1, 2.5))]),
    ("CHECK (x = 5)", "CHECK ((x = 5))", [OneOf("x", (5,))]),
    # lengths
    ("CHECK (length(code) <= 10)", "CHECK ((length((code)::text) <= 10))",
     [Length("code", None, 10)]),
    ("CHECK (char_length(name) > 0)", "CHECK ((char_length(name) > 0))",
     [Length("name", 1, None)]),
    ("CHECK (character_length(name) < 5)", "CHECK ((character_length(name) < 5))",
     [Length("name", None, 4)]),
    ("CHECK (octet_length(name) <= 100)", "CHECK ((octet_length(name) <= 100))",
     [Length("name", None, 100, bytes=True)]),
    ("CHECK (length(code) = 3)", "CHECK ((length((code)::text) = 3))", [Length("code", 3, 3)]),
    ("CHECK (length(name) BETWEEN 1 AND 5)",
     "CHECK (((length(name) >= 1) AND (length(name) <= 5)))",
     [Length("name", 1, None), Length("name", None, 5)]),
    ("CHECK (name <> '')", "CHECK ((name <> ''::text))", [Length("name", 1, None)]),
    ("CHECK (code <> '')", "CHECK (((code)::text <> ''::text))", [Length("code", 1, None)]),
    ("CHECK (chr <> '')", "CHECK ((chr <> ''::bpchar))", [Length("chr", 1, None)]),
    # nulls and column pairs
    ("CHECK (name IS NOT NULL)", "CHECK ((name IS NOT NULL))", [NotNull("name")]),
    ("CHECK (x IS NOT NULL AND y IS NOT NULL)",
     "CHECK (((x IS NOT NULL) AND (y IS NOT NULL)))", [NotNull("x"), NotNull("y")]),
    ("CHECK (started_at < ended_at)", "CHECK ((started_at < ended_at))",
     [Order("started_at", "<", "ended_at")]),
    ("CHECK (born < started_at)", "CHECK ((born < started_at))",
     [Order("born", "<", "started_at")]),
    ("CHECK (started_at <= ended_at AND ended_at <= '2030-01-01')",
     "CHECK (((started_at <= ended_at) AND "
     "(ended_at <= '2030-01-01 00:00:00'::timestamp without time zone)))",
     [Order("started_at", "<=", "ended_at"), Range("ended_at", None, "2030-01-01 00:00:00")]),
    ("CHECK (x > 0) NOT VALID", "CHECK ((x > 0)) NOT VALID",
     [Range("x", 0, None, low_inclusive=False)]),
    ("CHECK (x > 0) NO INHERIT", "CHECK ((x > 0)) NO INHERIT",
     [Range("x", 0, None, low_inclusive=False)]),
    # not understood: kept whole, and a conjunction keeps what it can
    ("CHECK (x > 0 OR x < -5)", "CHECK (((x > 0) OR (x < '-5'::integer)))",
     [Unparsed("(x > 0) OR (x < '-5'::integer)")]),
    ("CHECK (x NOT BETWEEN 1 AND 10)", "CHECK (((x < 1) OR (x > 10)))",
     [Unparsed("(x < 1) OR (x > 10)")]),
    ("CHECK (x BETWEEN SYMMETRIC 10 AND 1)",
     "CHECK ((((x >= 10) AND (x <= 1)) OR ((x >= 1) AND (x <= 10))))",
     [Unparsed("((x >= 10) AND (x <= 1)) OR ((x >= 1) AND (x <= 10))")]),
    ("CHECK (status NOT IN ('a', 'b'))",
     "CHECK (((status)::text <> ALL ((ARRAY['a'::character varying, "
     "'b'::character varying])::text[])))",
     [Unparsed("(status)::text <> ALL ((ARRAY['a'::character varying, "
               "'b'::character varying])::text[])")]),
    ("CHECK (code ~ '^[A-Z]+$')", "CHECK (((code)::text ~ '^[A-Z]+$'::text))",
     [Unparsed("(code)::text ~ '^[A-Z]+$'::text")]),
    ("CHECK (NOT (x > 5))", "CHECK ((NOT (x > 5)))", [Unparsed("NOT (x > 5)")]),
    ("CHECK (x > 0 AND x < y + 1)", "CHECK (((x > 0) AND (x < (y + 1))))",
     [Range("x", 0, None, low_inclusive=False), Unparsed("x < (y + 1)")]),
    ("CHECK (x > 0 AND true)", "CHECK (((x > 0) AND true))",
     [Range("x", 0, None, low_inclusive=False), Unparsed("true")]),
    ("CHECK (born > CURRENT_DATE)", "CHECK ((born > CURRENT_DATE))",
     [Unparsed("born > CURRENT_DATE")]),
    ("CHECK (x <> 5)", "CHECK ((x <> 5))", [Unparsed("x <> 5")]),
    ("CHECK (x = y)", "CHECK ((x = y))", [Unparsed("x = y")]),
    ("CHECK (name IS NULL)", "CHECK ((name IS NULL))", [Unparsed("name IS NULL")]),
    ("CHECK ((x > 0) IS TRUE)", "CHECK (((x > 0) IS TRUE))", [Unparsed("(x > 0) IS TRUE")]),
    ("CHECK (name IN ('a', NULL))", "CHECK ((name = ANY (ARRAY['a'::text, NULL::text])))",
     [Unparsed("name = ANY (ARRAY['a'::text, NULL::text])")]),
    ("CHECK (length(name) <> 3)", "CHECK ((length(name) <> 3))",
     [Unparsed("length(name) <> 3")]),
    # casts that could change a comparison are not trusted
    ("CHECK (code >= 'a')", "CHECK (((code)::text >= 'a'::text))",
     [Unparsed("(code)::text >= 'a'::text")]),
    ("CHECK (ratio::integer >= 1)", "CHECK (((ratio)::integer >= 1))",
     [Unparsed("(ratio)::integer >= 1")]),
    ("CHECK (cost::numeric(4, 1) >= 0)", "CHECK (((cost)::numeric(4,1) >= (0)::numeric))",
     [Unparsed("(cost)::numeric(4,1) >= (0)::numeric")]),
]

# (base type, what a user writes, what PostgreSQL 15 prints, the rules for VALUE as "v")
DOMAIN_CASES: list[tuple[str, str, str, list[Rule]]] = [
    ("integer", "CHECK (VALUE >= 1901 AND VALUE <= 2155)",
     "CHECK (((VALUE >= 1901) AND (VALUE <= 2155)))",
     [Range("v", 1901, None), Range("v", None, 2155)]),
    ("numeric", "CHECK (VALUE >= 0)", "CHECK ((VALUE >= (0)::numeric))", [Range("v", 0, None)]),
    ("varchar(3)", "CHECK (VALUE IN ('YES', 'NO'))",
     "CHECK (((VALUE)::text = ANY ((ARRAY['YES'::character varying, "
     "'NO'::character varying])::text[])))",
     [OneOf("v", ("YES", "NO"))]),
    ("varchar(20)", "CHECK (length(VALUE) >= 2)", "CHECK ((length((VALUE)::text) >= 2))",
     [Length("v", 2, None)]),
    ("text", "CHECK (VALUE IS NOT NULL)", "CHECK ((VALUE IS NOT NULL))", [NotNull("v")]),
]

# SQLite DDL clauses (as SQLAlchemy reflects them) and other hand-written spellings
TEXT_CASES: list[tuple[str, list[Rule]]] = [
    ("x BETWEEN 1 AND 10", [Range("x", 1, 10)]),
    ("x BETWEEN -1 AND (2.5)", [Range("x", -1, 2.5)]),
    ("length(code) BETWEEN 1 AND 5", [Length("code", 1, 5)]),
    ("LENGTH(code)<=10", [Length("code", None, 10)]),
    ("status IN ('a','b')", [OneOf("status", ("a", "b"))]),
    ("x IN (1, '2')", [OneOf("x", (1, "2"))]),
    ('"Rating" >= -1 AND "Rating" <= 5', [Range("Rating", -1, None), Range("Rating", None, 5)]),
    ("`x` > 1", [Range("x", 1, None, low_inclusive=False)]),
    ("lat >= (-90) AND lat <= 90", [Range("lat", -90, None), Range("lat", None, 90)]),
    ("price >= (0.5)::numeric", [Range("price", 0.5, None)]),
    ("x>-5", [Range("x", -5, None, low_inclusive=False)]),
    ("x >= 1.5e2", [Range("x", 150.0, None)]),
    ("born >= '2000-01-01'", [Range("born", "2000-01-01", None)]),
    ("x == 1", [OneOf("x", (1,))]),
    ("name != ''", [Length("name", 1, None)]),
    ("x NOT NULL", [NotNull("x")]),
    ("x NOTNULL", [NotNull("x")]),
    ("CONSTRAINT ck_x CHECK (x > 0)", [Range("x", 0, None, low_inclusive=False)]),
    ("CHECK(x>0)", [Range("x", 0, None, low_inclusive=False)]),
    ("((x > 0))", [Range("x", 0, None, low_inclusive=False)]),
    ("x > 0 -- positive\n  AND /* and */ y > 0",
     [Range("x", 0, None, low_inclusive=False), Range("y", 0, None, low_inclusive=False)]),
    ("X > 0", [Range("x", 0, None, low_inclusive=False)]),  # unquoted names fold
    ("RATING > 0", [Range("rating", 0, None, low_inclusive=False)]),
    ("x != 1", [Unparsed("x != 1")]),
    ("typeof(x) = 'integer'", [Unparsed("typeof(x) = 'integer'")]),
    ("x >= 1 AND (x <= 5 OR x = 10)", [Range("x", 1, None), Unparsed("x <= 5 OR x = 10")]),
    ("nope > 1", [Unparsed("nope > 1")]),
    ("x > 1 AND nope > 1", [Range("x", 1, None, low_inclusive=False), Unparsed("nope > 1")]),
    ('"rating" >= 0 AND "RATING" >= 0', [Range("rating", 0, None), Unparsed('"RATING" >= 0')]),
    ("x = \"abc\"", [Unparsed("x = \"abc\"")]),  # SQLite reads an unknown "name" as text
    ("x > (1.5)::integer", [Unparsed("x > (1.5)::integer")]),
    ("x::text::numeric = 5", [Unparsed("x::text::numeric = 5")]),
    ("x::numeric::double precision >= 1", [Range("x", 1, None)]),
    ("price >= '5'::numeric(2,0)", [Unparsed("price >= '5'::numeric(2,0)")]),
    ("10 >= length(name)", [Length("name", None, 10)]),
    ("length(name) <= 2.5", [Unparsed("length(name) <= 2.5")]),
    ("x >= 'NaN'::numeric", [Unparsed("x >= 'NaN'::numeric")]),
    ("x < 1e999", [Unparsed("x < 1e999")]),
    ("x IN (SELECT 1)", [Unparsed("x IN (SELECT 1)")]),
    ("[x] > 1", [Unparsed("[x] > 1")]),
    ("x > 'unterminated", [Unparsed("x > 'unterminated")]),
    ("", [Unparsed("")]),
]


@pytest.mark.parametrize(("sql", "rules"), [(p, r) for _, p, r in PG_CASES] + TEXT_CASES)
def test_parse(sql: str, rules: list[Rule]) -> None:
    assert parse_check(sql, COLUMNS) == rules


@pytest.mark.parametrize(("sql", "rules"), [(p, r) for _, _, p, r in DOMAIN_CASES])
def test_domain_value_stands_for_the_given_column(sql: str, rules: list[Rule]) -> None:
    assert parse_check(sql, (), value_column="v") == rules


def test_keywords_are_never_columns() -> None:
    columns = {"x", "null", "true"}
    assert parse_check("x IN ('a', NULL)", columns) == [Unparsed("x IN ('a', NULL)")]
    assert parse_check("x < true", columns) == [Unparsed("x < true")]
    assert parse_check('x < "true"', columns) == [Order("x", "<", "true")]


def test_sqlite_names_ignore_case() -> None:
    assert parse_check("rating <= 5", {"Rating"}) == [Unparsed("rating <= 5")]
    assert parse_check("Rating <= 5", {"Rating"}) == [Range("Rating", None, 5)]
    assert parse_check("VALUE > 0", {"VALUE"}) == [Range("VALUE", 0, None, False)]


JUNK = ["(", ")", "((x > 1)", "x >", "> 1", "AND", "x > 1 AND", "CHECK", "CHECK ()", "'", '"',
        "x BETWEEN 1", "x IN (", "ARRAY[", "x::", "x::text[", "$1", "x > 1;", "x \\ 1",
        "length()", "x IS", "NOT", "a.b.c > 1", "x > 1 NOT VALID extra", "é > 1", "٣ > 1",
        "(" * 5000 + "x > 1" + ")" * 5000]


@pytest.mark.parametrize("sql", JUNK)
def test_odd_input_is_unparsed_not_an_error(sql: str) -> None:
    rules = parse_check(sql, COLUMNS)
    assert rules and all(isinstance(r, Unparsed) for r in rules)


def test_a_long_conjunction_is_read_in_full() -> None:
    rules = parse_check("x > 1" + " AND x > 1" * 5000, COLUMNS)
    assert rules == [Range("x", 1, None, low_inclusive=False)] * 5001


def test_every_prefix_parses_without_raising() -> None:
    texts = [p for _, p, _ in PG_CASES] + [s for s, _ in TEXT_CASES]
    for text in texts:
        for end in range(len(text) + 1):
            rules = parse_check(text[:end], COLUMNS)
            assert rules and all(isinstance(r, Rule) for r in rules)


def test_merge_ranges_keeps_the_tightest_bounds() -> None:
    rules = [
        *parse_check("CHECK (((x >= 1) AND (x <= 10)))", COLUMNS),
        Range("x", 3, None, low_inclusive=False), Range("x", None, 10, high_inclusive=False),
        Range("x", 0, 20), Range("born", "2000-01-01", None), Range("born", "1999-12-31", None),
        OneOf("x", (4,)), Unparsed("y > x"),
    ]
    assert merge_ranges(rules) == {
        "x": Range("x", 3, 10, low_inclusive=False, high_inclusive=False),
        "born": Range("born", "2000-01-01", None),
    }


def test_merge_ranges_never_compares_text_with_numbers() -> None:
    assert merge_ranges([Range("x", 1, None), Range("x", "a", "b")]) == {
        "x": Range("x", 1, "b")}


async def _constraint_texts(url: str) -> tuple[list[str], list[str], list[str]]:
    """What PostgreSQL prints for PG_CASES and DOMAIN_CASES, and what SQLAlchemy reflects."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for sql in TABLE:
                await conn.exec_driver_sql(sql)
            for n, (written, _, _) in enumerate(PG_CASES):
                await conn.exec_driver_sql(f"ALTER TABLE t ADD CONSTRAINT c{n:03} {written}")
            for n, (base, written, _, _) in enumerate(DOMAIN_CASES):
                await conn.exec_driver_sql(f"CREATE DOMAIN d{n} AS {base} {written}")
            table = await conn.exec_driver_sql(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 't'::regclass ORDER BY conname")
            domains = await conn.exec_driver_sql(
                "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "JOIN pg_type t ON t.oid = c.contypid WHERE t.typname ~ '^d[0-9]+$' "
                "ORDER BY typname")

            def reflect(sync_conn: Any) -> list[dict[str, Any]]:
                checks = sa.inspect(sync_conn).get_check_constraints("t")
                return sorted(checks, key=lambda c: str(c["name"]))

            reflected = await conn.run_sync(reflect)
        return ([r[0] for r in table], [r[0] for r in domains],
                [c["sqltext"] for c in reflected])
    finally:
        await engine.dispose()


def test_postgres_prints_what_the_cases_say(pg_url: str) -> None:
    printed, domains, reflected = asyncio.run(_constraint_texts(pg_url))
    assert printed == [p for _, p, _ in PG_CASES]
    assert domains == [p for _, _, p, _ in DOMAIN_CASES]
    for text, sqltext, (_, _, rules) in zip(printed, reflected, PG_CASES, strict=True):
        assert parse_check(text, COLUMNS) == rules
        understood = [r for r in rules if not isinstance(r, Unparsed)]
        assert [r for r in parse_check(sqltext, COLUMNS) if not isinstance(r, Unparsed)] \
            == understood, sqltext
    for text, (_, _, _, rules) in zip(domains, DOMAIN_CASES, strict=True):
        assert parse_check(text, (), value_column="v") == rules


def test_sqlite_reflection_reads_the_same_rules() -> None:
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            'CREATE TABLE t (x INTEGER CHECK (x BETWEEN 1 AND 10), "Rating" INT, s TEXT, '
            "CONSTRAINT a CHECK (s IN ('a','b')), CONSTRAINT b CHECK(length(s)<=5), "
            'CONSTRAINT c CHECK ("Rating" >= -1 AND Rating <= 5))')
    texts = sorted(c["sqltext"] for c in sa.inspect(engine).get_check_constraints("t"))
    rules = [rule for text in texts for rule in parse_check(text, {"x", "Rating", "s"})]
    assert rules == [Range("Rating", -1, None), Range("Rating", None, 5),
                     Length("s", None, 5), OneOf("s", ("a", "b")), Range("x", 1, 10)]
