"""Ids the database generates (serial, identity, ``nextval()`` of a sequence no column
owns, SQLite AUTOINCREMENT) are the same after a failed attempt, a resume or a rebuild,
and the application's next insert never collides with a seeded row."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers import REPO, checksums, execute, query, run_engine

PACK = str(REPO / "tests" / "packs" / "serial")
TABLES = ["people", "tickets", "notes"]


def _notes(url: str) -> None:
    """A table the pack does not declare: its key comes from an unowned sequence."""
    if url.startswith("sqlite"):
        execute(url, "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                     "body TEXT NOT NULL)")
    else:
        execute(url, "CREATE SEQUENCE note_ids START 100")
        execute(url, "CREATE TABLE notes (id integer PRIMARY KEY DEFAULT nextval('note_ids'),"
                     " body text NOT NULL)")


def _ids(url: str, table: str) -> list[int]:
    return [r[0] for r in query(url, f"SELECT id FROM {table} ORDER BY id")]


@pytest.mark.parametrize("failing", ["people", "tickets", "notes"])
def test_a_failed_attempt_does_not_shift_the_ids_of_the_next(
        db_url: str, another_db: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
        failing: str) -> None:
    _notes(db_url)
    monkeypatch.setenv("SERIAL_FAIL", failing)
    assert run_engine(db_url, pack=PACK).status == "failed"
    assert query(db_url, f"SELECT COUNT(*) FROM {failing}")[0][0] == 0
    monkeypatch.delenv("SERIAL_FAIL")
    assert run_engine(db_url, pack=PACK, resume=True).status == "done"

    clean = another_db()
    _notes(clean)
    assert run_engine(clean, pack=PACK).status == "done"
    assert checksums(db_url, TABLES) == checksums(clean, TABLES)
    assert _ids(db_url, "people") == list(range(1, 41))
    assert _ids(db_url, "tickets") == list(range(1, 81))
    first = 1 if db_url.startswith("sqlite") else 100
    assert _ids(db_url, "notes") == list(range(first, first + 25))


def test_a_rebuild_restarts_the_ids_and_the_next_insert_follows_the_seeded_rows(
        db_url: str) -> None:
    _notes(db_url)
    assert run_engine(db_url, pack=PACK).status == "done"
    before = checksums(db_url, TABLES)
    assert run_engine(db_url, pack=PACK, force=True, confirm=True).status == "done"
    assert checksums(db_url, TABLES) == before

    # what the application does next: insert without an id
    execute(db_url, "INSERT INTO people (name) VALUES ('app user')")
    execute(db_url, "INSERT INTO tickets (person_id, code) VALUES (1, 'app')")
    execute(db_url, "INSERT INTO notes (body) VALUES ('app note')")
    assert _ids(db_url, "people")[-1] == 41
    assert _ids(db_url, "tickets")[-1] == 81
    assert _ids(db_url, "notes")[-1] == (26 if db_url.startswith("sqlite") else 125)


def test_an_append_continues_the_ids_without_a_gap(db_url: str) -> None:
    _notes(db_url)
    assert run_engine(db_url, pack=PACK).status == "done"
    appended = run_engine(db_url, pack=PACK, only="people", append=True, sets={"people": 10})
    assert appended.status == "done", appended.outcomes
    assert _ids(db_url, "people") == list(range(1, 51))  # the stage drew no ids of its own
