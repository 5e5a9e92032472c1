"""Rows seedgraph did not write are never deleted without --confirm, even when the row
count is unchanged: a row replaced by hand (deleted and inserted again) is seen on both
databases, a row edited in place on PostgreSQL (its xmin changes)."""

from __future__ import annotations

import pytest

from seedgraph.errors import SafetyError
from tests.helpers import execute, query, run_engine

REBUILD = {"only": "audit_notes", "force": True}


def _notes(url: str) -> list[tuple[object, ...]]:
    return query(url, "SELECT id, note FROM audit_notes ORDER BY id")


def test_a_replaced_row_needs_confirm_although_the_count_is_the_same(db_url: str) -> None:
    _replaced(db_url, 11)


def test_a_row_replaced_under_its_own_key_needs_confirm_on_postgresql(pg_url: str) -> None:
    # SQLite cannot tell it from the original: the key is its rowid (documented)
    _replaced(pg_url, 3)


def _replaced(db_url: str, new_id: int) -> None:
    run_engine(db_url)
    execute(db_url, "DELETE FROM audit_notes WHERE id = 3")
    execute(db_url, "INSERT INTO audit_notes (id, note, noted_at) "
                    f"VALUES ({new_id}, 'written by hand', '2026-01-01 00:00:00')")
    before = _notes(db_url)
    with pytest.raises(SafetyError, match=r"table 'audit_notes' holds 1 row\(s\) seedgraph did "
                                          r"not write or that were changed since; .*--confirm"):
        run_engine(db_url, **REBUILD)
    assert _notes(db_url) == before  # refused: nothing deleted
    assert run_engine(db_url, **REBUILD, confirm=True).status == "done"
    assert (3, "note 2") in _notes(db_url)


def test_a_row_edited_in_place_needs_confirm_on_postgresql(pg_url: str) -> None:
    run_engine(pg_url)
    execute(pg_url, "UPDATE audit_notes SET note = 'edited by hand' WHERE id = 5")
    with pytest.raises(SafetyError, match="holds 1 row"):
        run_engine(pg_url, **REBUILD)
    assert (5, "edited by hand") in _notes(pg_url)


def test_rows_seedgraph_wrote_need_no_confirm_after_builds_and_appends(db_url: str) -> None:
    run_engine(db_url)
    run_engine(db_url, **REBUILD)  # a rebuild records its own writer
    assert run_engine(db_url, append=True).status == "done"  # adds a writer
    assert run_engine(db_url, **REBUILD).status == "done"
    assert run_engine(db_url, only="orders+", force=True).status == "done"


def test_a_bookkeeping_table_from_an_older_version_is_migrated(db_url: str) -> None:
    run_engine(db_url)
    execute(db_url, "ALTER TABLE seedgraph_state DROP COLUMN writers")
    # the old state has no writers: the count alone decides, as before
    assert run_engine(db_url, **REBUILD).status == "done"
    writers = query(db_url, "SELECT writers FROM seedgraph_state "
                            "WHERE table_name = 'audit_notes'")[0][0]
    assert writers is not None and writers.startswith("[")
