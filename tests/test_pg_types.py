"""A user's own PostgreSQL types: domains are written as their base type (a domain over
integer was sent as text bytes: 1995 became 825833781), enums as text, and a type the
binary encoder does not know (inet, interval) is written from its text and cast by
PostgreSQL, never stored wrongly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.helpers import REPO, execute, query, run_engine

PACK = str(REPO / "tests" / "packs" / "pgtypes")
DDL = [
    "CREATE DOMAIN year_d AS integer",
    "CREATE DOMAIN checked_year_d AS integer CHECK (VALUE >= 1901 AND VALUE <= 2155)",
    "CREATE DOMAIN title_d AS text NOT NULL",
    "CREATE DOMAIN price_d AS numeric(6, 2) CHECK (VALUE >= 0)",
    "CREATE DOMAIN views_d AS bigint",
    "CREATE DOMAIN stamp_d AS timestamptz",
    "CREATE TYPE rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17')",
    "CREATE TABLE films (id integer PRIMARY KEY, year year_d, checked_year checked_year_d, "
    "title title_d, price price_d, views views_d, released stamp_d, rating rating, "
    "tags text[], code varchar(8))",
    "CREATE TABLE hosts (id integer PRIMARY KEY, addr inet, span interval)",
]


@pytest.fixture
def typed_db(pg_url: str) -> str:
    for sql in DDL:
        execute(pg_url, sql)
    return pg_url


def test_domains_and_enums_are_stored_exactly(typed_db: str) -> None:
    result = run_engine(typed_db, pack=PACK)
    assert result.status == "done", [o.error for o in result.outcomes]
    rows = query(typed_db, "SELECT id, year, checked_year, title, price, views, released, "
                           "rating::text, tags, code FROM films ORDER BY id")
    released = dt.datetime(1995, 5, 25, 12, tzinfo=dt.UTC)
    assert rows == [
        (1, 1995, 1995, "Alien", Decimal("0.99"), 2**40, released, "PG", ["a", "b"], "X1"),
        (2, 1901, 1901, "Heat", Decimal("12.50"), 0, released, "R", [], None),
        (3, 2155, 2155, "Up", Decimal("0.00"), -1, released, "G", None, ""),
        (4, 2024, 2024, "Her", Decimal("4321.09"), 7, released, "NC-17", ["é"], "ABCDEFGH"),
    ]
    assert query(typed_db, "SELECT id, addr, span FROM hosts ORDER BY id") == [
        (1, None, None), (2, None, None), (3, None, None)]


def test_a_type_the_encoder_does_not_know_is_written_from_its_text(
        typed_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """inet and interval have no binary encoder here: their text goes through a stage and
    PostgreSQL casts it, so the value stored is the one its text means."""
    monkeypatch.setenv("PGTYPES_WRITE_INET", "1")
    result = run_engine(typed_db, pack=PACK)
    assert result.status == "done", result.outcomes
    assert query(typed_db, "SELECT id, host(addr), span::text FROM hosts ORDER BY id") == [
        (1, "10.0.0.1", "1 day 02:00:00"), (2, "10.0.0.2", "00:00:30"), (3, None, None)]


def test_text_a_type_cannot_take_fails_the_table_naming_the_value(
        typed_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGTYPES_WRITE_INET", "bad")
    result = run_engine(typed_db, pack=PACK)
    outcome = {o.table: o for o in result.outcomes}
    assert outcome["hosts"].status == "failed" and outcome["films"].status == "done"
    assert "not-an-address" in (outcome["hosts"].error or "")
    assert query(typed_db, "SELECT COUNT(*) FROM hosts")[0][0] == 0


WIDE = "INSERT INTO docs SELECT 1, jsonb_agg(i) FROM generate_series(1, 3000) i"


def test_wide_values_are_compressed_with_lz4(pg_url: str) -> None:
    """seedgraph's connections compress wide values with lz4 (pglz, the server's default,
    spends seconds on 100,000 embeddings): the values are the same, only cheaper to store."""
    execute(pg_url, "CREATE TABLE docs (id integer, body jsonb)")
    execute(pg_url, WIDE)
    assert query(pg_url, "SELECT pg_column_compression(body), jsonb_array_length(body) "
                         "FROM docs") == [("lz4", 3000)]


def test_a_compression_the_owner_chose_is_kept(pg_url: str) -> None:
    execute(pg_url, "CREATE TABLE docs (id integer, body jsonb)")
    name = query(pg_url, "SELECT current_database()")[0][0]
    execute(pg_url, f'ALTER DATABASE "{name}" SET default_toast_compression = pglz')
    execute(pg_url, WIDE)
    assert query(pg_url, "SELECT pg_column_compression(body) FROM docs") == [("pglz",)]
