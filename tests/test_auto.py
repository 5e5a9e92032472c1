"""``--auto`` and ``init`` end to end on real databases: the hard-case schemas under
tests/schemas seeded with no code, checked by the database's own constraints."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import anyio
import asyncpg
import pytest

from seedgraph.auto import auto_pack
from seedgraph.backends import Database, parse_url
from seedgraph.verify import Check, run_checks
from tests.conftest import PgDatabases
from tests.helpers import AS_OF, REPO, checksums, cli, query

SCHEMAS = REPO / "tests" / "schemas"
PG_TABLES = ["author", "book", "club", "edition", "genre", "loan", "meeting", "member",
             "shelf", "shelving"]
SQLITE_TABLES = ["assignment", "department", "employee", "employee_department_head",
                 "project", "timesheet"]
EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")


def load_sql(db_url: str, sql: str) -> None:
    """Run a DDL script on an empty database, as a user's migrations would."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.split("///", 1)[1])
        conn.executescript(sql)
        conn.close()
        return

    async def go() -> None:
        conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(go())


def auto(*args: str, db: str, cwd: Path = Path("/")) -> subprocess.CompletedProcess[str]:
    """The CLI with --auto, run outside the repository (whose seedgraph.toml names a pack)."""
    return cli(*args, "--auto", "--db", db, cwd=cwd)


def seeded(db_url: str, *extra: str) -> dict[str, str]:
    done = auto("run", "--seed", "5", "--as-of", AS_OF, "--json", *extra, db=db_url)
    assert done.returncode == 0, done.stderr + done.stdout
    return {t["table"]: t["status"] for t in json.loads(done.stdout)["tasks"]}


def test_auto_seeds_every_postgresql_hard_case_and_init_reproduces_it(
        pg_url: str, pg: PgDatabases, tmp_path: Path) -> None:
    load_sql(pg_url, (SCHEMAS / "hard_cases_pg.sql").read_text())
    assert seeded(pg_url) == dict.fromkeys(PG_TABLES, "done")
    counts = {t: query(pg_url, f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in PG_TABLES}
    assert all(counts.values()), counts

    # the database's own foreign keys, uniques and CHECKs all hold
    verify = auto("verify", "--json", db=pg_url)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    report = json.loads(verify.stdout)
    assert report["ok"] and report["checks"] >= 30, report

    # values as their constraints and meanings say
    assert query(pg_url, "SELECT COUNT(*) FROM book WHERE fulltext IS NULL")[0][0] == 0
    assert query(pg_url, "SELECT MIN(published), MAX(published) FROM book")[0] >= (1901,)
    assert {r[0] for r in query(pg_url, "SELECT DISTINCT status FROM book")} <= {
        "draft", "published", "retired"}
    assert {r[0] for r in query(pg_url, "SELECT DISTINCT mood::text FROM member")} <= {
        "sad", "ok", "happy"}
    for (email,) in query(pg_url, "SELECT email FROM author"):
        assert EMAIL.match(email), email
    assert query(pg_url, f"SELECT COUNT(*) FROM author WHERE created_at > "
                         f"'{AS_OF}T00:00:00+00:00'::timestamptz")[0][0] == 0
    assert query(pg_url, "SELECT COUNT(*) FROM edition WHERE withdrawn_on <= released_on"
                 )[0][0] == 0
    # a partitioned table: rows routed to both partitions
    assert query(pg_url, "SELECT COUNT(*) FROM loan_2024h1")[0][0] > 0
    assert query(pg_url, "SELECT COUNT(*) FROM loan_2024h2")[0][0] > 0
    # the cycle club → member → meeting → club is seeded in one transaction, its
    # nullable closing key filled in once all three are loaded
    assert query(pg_url, "SELECT COUNT(*) - COUNT(first_meeting_id) FROM club")[0][0] == 0
    # a self-reference is a tree: roots, and every mentor an earlier author
    roots, later = query(pg_url, "SELECT COUNT(*) FILTER (WHERE mentor_id IS NULL), "
                                 "COUNT(*) FILTER (WHERE mentor_id >= author_id) FROM author")[0]
    assert roots > 0 and later == 0

    # the application's next insert never collides with a seeded key
    for table, column, seq in query(pg_url, """
            SELECT c.relname, a.attname, pg_get_serial_sequence(quote_ident(c.relname),
                                                                a.attname)
            FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND c.relnamespace = 'public'::regnamespace
              AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL"""):
        top = query(pg_url, f'SELECT COALESCE(MAX("{column}"), 0) FROM "{table}"')[0][0]
        assert query(pg_url, f"SELECT nextval('{seq}')")[0][0] > top, (table, column)
    next_id = query(pg_url, "SELECT nextval('author_seq')")[0][0]
    assert next_id > counts["author"]  # a sequence with no OWNED BY, moved past the ids

    # a second run is a no-op
    assert set(seeded(pg_url).values()) == {"up-to-date"}

    # init writes the same code: its pack finds everything up to date, and seeds the
    # same rows into a fresh database
    pack = tmp_path / "pack"
    init = cli("init", str(pack), "--db", pg_url)
    assert init.returncode == 0, init.stderr
    plan = cli("plan", "--pack", str(pack), "--db", pg_url, "--json", "--seed", "5",
               "--as-of", AS_OF, cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert {s["action"] for s in json.loads(plan.stdout)["steps"]} == {"skip"}
    fresh = pg.new()
    load_sql(fresh, (SCHEMAS / "hard_cases_pg.sql").read_text())
    again = cli("run", "--pack", str(pack), "--db", fresh, "--seed", "5", "--as-of", AS_OF,
                "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert checksums(fresh, PG_TABLES) == checksums(pg_url, PG_TABLES)

    # an application's insert takes the next id
    new_id = query(pg_url, "INSERT INTO shelf (label) VALUES ('new') RETURNING shelf_id")[0][0]
    assert new_id > counts["shelf"]


def test_auto_seeds_the_sqlite_hard_cases_and_reruns_what_a_migration_changed(
        tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'app.db'}"
    load_sql(db, (SCHEMAS / "hard_cases_sqlite.sql").read_text())
    assert seeded(db) == dict.fromkeys(SQLITE_TABLES, "done")
    verify = auto("verify", "--json", db=db)
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"], verify.stdout
    # with no pack at all, verify checks the database's own constraints
    bare = cli("verify", "--db", db, "--json", cwd=tmp_path)
    assert bare.returncode == 0, bare.stderr
    assert json.loads(bare.stdout)["checks"] == json.loads(verify.stdout)["checks"]
    for (email,) in query(db, "SELECT email FROM employee"):
        assert EMAIL.match(email), email
    assert query(db, "SELECT COUNT(*) FROM project WHERE ends_on <= starts_on")[0][0] == 0
    assert query(db, "SELECT COUNT(*) FROM project WHERE length(code) > 6")[0][0] == 0
    # the cycle's closing key is filled in, not left NULL
    assert query(db, "SELECT COUNT(*) - COUNT(head_id) FROM department")[0][0] == 0
    assert set(seeded(db).values()) == {"up-to-date"}

    # init on a copy of the schema seeds the same bytes
    pack = tmp_path / "pack"
    assert cli("init", str(pack), "--db", db).returncode == 0
    other = f"sqlite:///{tmp_path / 'copy.db'}"
    load_sql(other, (SCHEMAS / "hard_cases_sqlite.sql").read_text())
    ran = cli("run", "--pack", str(pack), "--db", other, "--seed", "5", "--as-of", AS_OF, "-q")
    assert ran.returncode == 0, ran.stderr
    assert checksums(other, SQLITE_TABLES) == checksums(db, SQLITE_TABLES)

    # a migration reruns the changed table and the tables below it, nothing else
    load_sql(db, "ALTER TABLE project ADD COLUMN note TEXT;")
    assert seeded(db) == {"assignment": "done", "department": "up-to-date",
                          "employee": "up-to-date", "employee_department_head": "up-to-date",
                          "project": "done", "timesheet": "done"}
    assert query(db, "SELECT COUNT(note) FROM project")[0][0] > 0


def test_sigkill_mid_auto_run_then_resume_gives_the_same_database(
        pg_url: str, pg: PgDatabases) -> None:
    schema = (SCHEMAS / "hard_cases_pg.sql").read_text()
    load_sql(pg_url, schema)
    args = ["run", "--auto", "--db", pg_url, "--seed", "5", "--as-of", AS_OF, "-q",
            "--set", "rows=20000", "--concurrency", "1"]  # seconds of work after the first table
    proc = subprocess.Popen([sys.executable, "-m", "seedgraph", *args], cwd="/",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    done = 0
    while time.time() < deadline and not done:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            done = query(pg_url, "SELECT COUNT(*) FROM seedgraph_tasks WHERE status = 'done'"
                         )[0][0]
        except Exception:
            time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    finished = {r[0] for r in query(pg_url, "SELECT table_name FROM seedgraph_tasks "
                                            "WHERE status = 'done'")}
    assert finished and finished != set(PG_TABLES)

    resumed = cli("run", "--auto", "--db", pg_url, "--resume", "-q", cwd=Path("/"))
    assert resumed.returncode == 0, resumed.stderr
    reference = pg.new()
    load_sql(reference, schema)
    clean = cli(*[a if a != pg_url else reference for a in args], cwd=Path("/"))
    assert clean.returncode == 0, clean.stderr
    assert checksums(pg_url, PG_TABLES) == checksums(reference, PG_TABLES)


# -- bad input: refused before anything is written -------------------------------------


def _sqlite(tmp_path: Path, ddl: str) -> str:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    load_sql(db, ddl)
    return db


CYCLE_DDL = {
    "sqlite": """
        CREATE TABLE store (id INTEGER PRIMARY KEY, manager_id INTEGER NOT NULL UNIQUE
                            REFERENCES staff (id));
        CREATE TABLE staff (id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL
                            REFERENCES store (id), name TEXT NOT NULL);
        CREATE TABLE rental (id INTEGER PRIMARY KEY, staff_id INTEGER NOT NULL
                             REFERENCES staff (id));""",
    "postgresql": """
        CREATE TABLE store (id serial PRIMARY KEY, manager_id int NOT NULL UNIQUE);
        CREATE TABLE staff (id serial PRIMARY KEY, store_id int NOT NULL REFERENCES store,
                            name text NOT NULL);
        ALTER TABLE store ADD FOREIGN KEY (manager_id) REFERENCES staff (id);
        CREATE TABLE rental (id int PRIMARY KEY, staff_id int NOT NULL REFERENCES staff);""",
}


def test_a_cycle_of_not_null_keys_is_seeded_in_one_transaction(db_url: str) -> None:
    """Sakila's store.manager_staff_id ⇄ staff.store_id: both NOT NULL."""
    load_sql(db_url, CYCLE_DDL["sqlite" if db_url.startswith("sqlite") else "postgresql"])
    assert set(seeded(db_url).values()) == {"done"}
    # every store has its own manager, who works at that store (the 2-cycle's back link)
    stores, managers, own = query(
        db_url, "SELECT COUNT(*), COUNT(DISTINCT s.manager_id), SUM(CASE WHEN f.store_id = "
                "s.id THEN 1 ELSE 0 END) FROM store s JOIN staff f ON f.id = s.manager_id")[0]
    assert stores > 0 and managers == stores and own == stores
    assert query(db_url, "SELECT COUNT(*) FROM staff f LEFT JOIN store s ON s.id = f.store_id "
                         "WHERE s.id IS NULL")[0][0] == 0
    if db_url.startswith("postgresql"):  # the keys dropped for the load are back
        assert query(db_url, "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' AND "
                             "conrelid IN ('store'::regclass, 'staff'::regclass)")[0][0] == 2
    verify = auto("verify", "--json", db=db_url)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert set(seeded(db_url).values()) == {"up-to-date"}
    # rebuilding one table of the cycle rebuilds its partner, in the same transaction
    again = seeded(db_url, "--only", "staff+", "--force")
    assert again == {"staff": "done", "store": "done", "rental": "done"}
    assert auto("verify", db=db_url).returncode == 0


# cycles closed only by NOT NULL text keys, a uuid key, or composite keys: the team ⇄
# player 2-cycle (text codes), alpha ⇄ zeta (a 4-character text key, uuid on
# PostgreSQL), bay ⇄ zone (composite NOT NULL keys of an integer and a text, rows found
# by composite primary keys) and rack ⇄ shelf (a nullable composite key)
TEXT_CYCLES_SQLITE = """
    CREATE TABLE team (code TEXT PRIMARY KEY, name TEXT NOT NULL,
                       captain_code TEXT NOT NULL UNIQUE REFERENCES player (code));
    CREATE TABLE player (code VARCHAR(8) PRIMARY KEY, name TEXT NOT NULL,
                         team_code TEXT NOT NULL REFERENCES team (code));
    CREATE TABLE alpha (code TEXT PRIMARY KEY,
                        zeta_code TEXT NOT NULL UNIQUE REFERENCES zeta (code),
                        CHECK (length(zeta_code) <= 4));
    CREATE TABLE zeta (code TEXT PRIMARY KEY CHECK (length(code) <= 4),
                       alpha_code TEXT NOT NULL REFERENCES alpha (code));
    CREATE TABLE bay (site INTEGER NOT NULL, num TEXT NOT NULL, label TEXT NOT NULL,
                      zone_site INTEGER NOT NULL, zone_code TEXT NOT NULL,
                      PRIMARY KEY (site, num),
                      FOREIGN KEY (zone_site, zone_code) REFERENCES zone (site, code));
    CREATE TABLE zone (site INTEGER NOT NULL, code TEXT NOT NULL,
                       home_site INTEGER NOT NULL, home_num TEXT NOT NULL,
                       PRIMARY KEY (site, code),
                       FOREIGN KEY (home_site, home_num) REFERENCES bay (site, num));
    CREATE TABLE rack (a INTEGER NOT NULL, b TEXT NOT NULL, shelf_a INTEGER, shelf_b TEXT,
                       PRIMARY KEY (a, b),
                       FOREIGN KEY (shelf_a, shelf_b) REFERENCES shelf (a, b));
    CREATE TABLE shelf (a INTEGER NOT NULL, b TEXT NOT NULL, rack_a INTEGER NOT NULL,
                        rack_b TEXT NOT NULL, PRIMARY KEY (a, b),
                        FOREIGN KEY (rack_a, rack_b) REFERENCES rack (a, b));"""
TEXT_CYCLES_PG = """
    CREATE TABLE team (code text PRIMARY KEY, name text NOT NULL,
                       captain_code varchar(8) NOT NULL UNIQUE);
    CREATE TABLE player (code varchar(8) PRIMARY KEY, name text NOT NULL,
                         team_code text NOT NULL REFERENCES team (code));
    ALTER TABLE team ADD FOREIGN KEY (captain_code) REFERENCES player (code);
    CREATE TABLE alpha (code varchar(4) PRIMARY KEY, zeta_id uuid NOT NULL UNIQUE);
    CREATE TABLE zeta (id uuid PRIMARY KEY,
                       alpha_code varchar(4) NOT NULL REFERENCES alpha (code));
    ALTER TABLE alpha ADD FOREIGN KEY (zeta_id) REFERENCES zeta (id);
    CREATE TABLE zone (site int, code text, home_site int NOT NULL, home_num text NOT NULL,
                       PRIMARY KEY (site, code));
    CREATE TABLE bay (site int, num text, label text NOT NULL, zone_site int NOT NULL,
                      zone_code text NOT NULL, PRIMARY KEY (site, num),
                      FOREIGN KEY (zone_site, zone_code) REFERENCES zone (site, code));
    ALTER TABLE zone ADD FOREIGN KEY (home_site, home_num) REFERENCES bay (site, num);
    CREATE TABLE shelf (a int, b text, rack_a int NOT NULL, rack_b text NOT NULL,
                        PRIMARY KEY (a, b));
    CREATE TABLE rack (a int, b text, shelf_a int, shelf_b text, PRIMARY KEY (a, b),
                       FOREIGN KEY (shelf_a, shelf_b) REFERENCES shelf (a, b));
    ALTER TABLE shelf ADD FOREIGN KEY (rack_a, rack_b) REFERENCES rack (a, b);"""
TEXT_CYCLE_TABLES = ["alpha", "bay", "player", "rack", "shelf", "team", "zeta", "zone"]


def test_cycles_closed_by_text_uuid_and_composite_keys_are_seeded_and_filled_in(
        db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    sqlite = db_url.startswith("sqlite")
    ddl = TEXT_CYCLES_SQLITE if sqlite else TEXT_CYCLES_PG
    load_sql(db_url, ddl)
    assert seeded(db_url) == dict.fromkeys(TEXT_CYCLE_TABLES, "done")
    counts = {t: query(db_url, f"SELECT COUNT(*) FROM {t}")[0][0] for t in TEXT_CYCLE_TABLES}
    assert all(counts.values()), counts

    # no placeholder is left: no "~..." text, no negative id, no version-0 uuid, no NULL
    left = {
        "player": "team_code LIKE '~%'", "team": "captain_code LIKE '~%'",
        "bay": "zone_site < 0 OR zone_code LIKE '~%'",
        "zone": "home_site < 0 OR home_num LIKE '~%'",
        "rack": "shelf_a IS NULL OR shelf_b IS NULL OR shelf_a < 0 OR shelf_b LIKE '~%'",
        "shelf": "rack_a < 0 OR rack_b LIKE '~%'",
        "alpha": "zeta_code LIKE '~%'" if sqlite else
                 "zeta_id::text LIKE '00000000-0000-0000-0000-%'",
        "zeta": "alpha_code LIKE '~%'"}
    for table, where in left.items():
        assert query(db_url, f"SELECT COUNT(*) FROM {table} WHERE {where}")[0][0] == 0, table
    # the cycles were broken where a placeholder was written (and filled in)
    placeholders = {"player": "team_code", "bay": "zone_site", "rack": "shelf_a",
                    "alpha": "zeta_code" if sqlite else "zeta_id"}
    pack = tmp_path / "pack"
    init = cli("init", str(pack), "--db", db_url)
    assert init.returncode == 0, init.stderr
    cycles = (pack / "__init__.py").read_text()
    for table, column in placeholders.items():
        assert f"child={table!r}, column={column!r}" in cycles, cycles
    assert "more=(('zone_code', 'code'),)" in cycles and "more=(('shelf_b', 'b'),)" in cycles
    assert "cols['team_code'] = placeholder_texts(n, distinct=False)" in \
        (pack / "player.py").read_text()
    assert ("cols['zeta_code'] = placeholder_texts(n, max_len=4)" if sqlite else
            "cols['zeta_id'] = placeholder_uuids(n)") in (pack / "alpha.py").read_text()
    # a team's captain plays for that team (the 2-cycle's back link), once per team
    own = query(db_url, "SELECT COUNT(*) FROM team t JOIN player p ON p.code = t.captain_code"
                        " AND p.team_code = t.code")[0][0]
    assert own == counts["team"]
    if not sqlite:  # the foreign keys dropped for the unit are back, composite ones too
        fks = query(db_url, "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) "
                            "FROM pg_constraint WHERE contype = 'f' AND "
                            "conrelid::regclass::text NOT LIKE 'seedgraph%' ORDER BY 1, 2")
        assert len(fks) == 8, fks

    # the database's own foreign keys (and every other constraint) hold
    verify = auto("verify", "--json", db=db_url)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["ok"]
    # a second run is a no-op
    assert set(seeded(db_url).values()) == {"up-to-date"}

    # the init pack seeds the same bytes into a fresh database
    fresh = (f"sqlite+aiosqlite:///{tmp_path / 'copy.db'}" if sqlite
             else request.getfixturevalue("pg").new())
    load_sql(fresh, ddl)
    again = cli("run", "--pack", str(pack), "--db", fresh, "--seed", "5", "--as-of", AS_OF,
                "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert checksums(fresh, TEXT_CYCLE_TABLES) == checksums(db_url, TEXT_CYCLE_TABLES)


def test_a_cycle_no_placeholder_fits_is_refused_by_name_before_anything_is_written(
        tmp_path: Path) -> None:
    db = _sqlite(tmp_path, """
        CREATE TABLE store (code TEXT PRIMARY KEY, manager_code TEXT NOT NULL
                            REFERENCES staff (code) CHECK (manager_code IN ('a', 'b')));
        CREATE TABLE staff (code TEXT PRIMARY KEY, store_code TEXT NOT NULL
                            REFERENCES store (code) CHECK (store_code IN ('x', 'y')));
        CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);""")
    result = auto("run", db=db, cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot seed table 'staff'" in result.stderr or "cannot seed table 'store'" in \
        result.stderr
    assert "NOT NULL key staff.store_code, whose CHECK (a list of values)" in \
        " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert query(db, "SELECT COUNT(*) FROM note")[0][0] == 0
    assert auto("run", "--exclude", "store+ staff+", "-q", db=db, cwd=tmp_path).returncode == 0


def test_types_without_a_binary_encoder_are_written_from_their_text(pg_url: str) -> None:
    """inet, cidr, macaddr, interval and money: generated as text, cast by PostgreSQL on
    the way in; a NOT NULL column of a type with no text generator (a multirange) is
    refused by name before anything is written."""
    load_sql(pg_url, "CREATE TABLE host (id serial PRIMARY KEY, addr inet NOT NULL, net cidr,"
                     " mac macaddr NOT NULL, uptime interval NOT NULL, cost money,"
                     " busy int4multirange);"
                     " CREATE TABLE place (id int PRIMARY KEY, at int4multirange NOT NULL);"
                     " CREATE TABLE ok (id int PRIMARY KEY);")
    result = auto("run", "--exclude", "place", db=pg_url)
    assert result.returncode == 0, result.stderr
    bad, = query(pg_url, "SELECT COUNT(*) FILTER (WHERE family(addr) <> 4 OR "
                         "masklen(net) <> 32 OR uptime > interval '30 days' OR uptime < "
                         "interval '0' OR cost::numeric NOT BETWEEN 0 AND 1000) FROM host")[0]
    assert bad == 0
    assert query(pg_url, "SELECT COUNT(mac), COUNT(*) - COUNT(busy) FROM host") == [
        (100, 100)]
    assert auto("verify", "--exclude", "place", db=pg_url).returncode == 0
    refused = auto("run", db=pg_url)
    assert refused.returncode == 2, refused.stderr
    assert "place.at" in refused.stderr and "INT4MULTIRANGE" in refused.stderr.upper()
    assert "--pack P --auto" in refused.stderr


SHAPES = """
    CREATE DOMAIN spot AS point;
    CREATE TABLE shapes (id int PRIMARY KEY,
        i4 int4range NOT NULL, i8 int8range NOT NULL, nr numrange NOT NULL,
        dr daterange NOT NULL, tr tsrange NOT NULL, tz tstzrange NOT NULL,
        p point NOT NULL, b box NOT NULL, c circle NOT NULL, s lseg NOT NULL,
        l line NOT NULL, pa path NOT NULL, pg polygon NOT NULL, x xml NOT NULL,
        spot spot NOT NULL, maybe circle);"""


def test_ranges_geometric_types_and_xml_are_generated_and_init_writes_the_same(
        pg_url: str, pg: PgDatabases, tmp_path: Path) -> None:
    """Every built-in range, every geometric type and xml get a text generator and are
    cast by PostgreSQL; a multirange is still refused by name, nothing written."""
    load_sql(pg_url, SHAPES + " CREATE TABLE busy (id int PRIMARY KEY,"
                              " during int4multirange NOT NULL);")
    refused = auto("run", db=pg_url)
    assert refused.returncode == 2, refused.stderr
    assert "busy.during" in refused.stderr and "INT4MULTIRANGE" in refused.stderr.upper()
    assert query(pg_url, "SELECT COUNT(*) FROM shapes")[0][0] == 0
    load_sql(pg_url, "DROP TABLE busy;")

    done = auto("run", "--seed", "5", "--as-of", AS_OF, "--json", db=pg_url)
    assert done.returncode == 0, done.stderr
    assert [t["status"] for t in json.loads(done.stdout)["tasks"]] == ["done"]
    assert "Did not recognize type" not in done.stderr  # named, not NullType + a warning
    ranges = ("i4", "i8", "nr", "dr", "tr", "tz")
    bad_range = " OR ".join(f"isempty({r}) OR NOT lower({r}) < upper({r}) OR NOT lower_inc({r})"
                            f" OR upper_inc({r})" for r in ranges)
    (rows, bad, late, small, open_, stored, documents, nulls), = query(pg_url, f"""
        SELECT COUNT(*), COUNT(*) FILTER (WHERE {bad_range}),
               COUNT(*) FILTER (WHERE upper(dr) > DATE '{AS_OF}'
                                   OR upper(tr) > TIMESTAMP '{AS_OF}'
                                   OR upper(tz) > TIMESTAMPTZ '{AS_OF} 00:00:00+00'),
               COUNT(*) FILTER (WHERE radius(c) <= 0 OR npoints(pg) < 3 OR npoints(pa) < 2
                                   OR width(b) <= 0 OR height(b) <= 0 OR length(s) <= 0),
               COUNT(*) FILTER (WHERE isopen(pa)),
               COUNT(*) FILTER (WHERE p ~= spot::point),
               COUNT(*) FILTER (WHERE xml_is_well_formed_document(x::text)),
               COUNT(*) - COUNT(maybe)
        FROM shapes""")
    assert (rows, bad, late, small, open_, documents) == (100, 0, 0, 0, 100, 100)
    assert stored < 100  # two independent columns of points are not the same points
    assert 0 < nulls < 40  # a nullable column gets about 10 % NULLs
    # a line {A,B,C}: A and B never both zero (PostgreSQL would refuse the row)
    lines = [[float(v) for v in t.strip("{}").split(",")]
             for t, in query(pg_url, "SELECT l::text FROM shapes")]
    assert len(lines) == 100 and all(a or b for a, b, _ in lines)
    assert auto("verify", db=pg_url).returncode == 0

    # a second run is a no-op
    assert set(seeded(pg_url).values()) == {"up-to-date"}

    # init writes the same code: nothing to do here, the same rows in a fresh database
    pack = tmp_path / "pack"
    assert (init := cli("init", str(pack), "--db", pg_url)).returncode == 0, init.stderr
    plan = cli("plan", "--pack", str(pack), "--db", pg_url, "--json", "--seed", "5",
               "--as-of", AS_OF, cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert {s["action"] for s in json.loads(plan.stdout)["steps"]} == {"skip"}
    fresh = pg.new()
    load_sql(fresh, SHAPES)
    again = cli("run", "--pack", str(pack), "--db", fresh, "--seed", "5", "--as-of", AS_OF,
                "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    # (as text: asyncpg's path and polygon have no repr for checksums() to compare)
    every_row = "SELECT s::text FROM shapes AS s ORDER BY id"
    assert query(fresh, every_row) == query(pg_url, every_row)


def test_a_unique_range_drops_its_repeats(pg_url: str) -> None:
    """A range has no generator of distinct values: 3,000 draws repeat a few, and those
    rows are dropped instead of failing the load on the unique constraint."""
    load_sql(pg_url, "CREATE TABLE slot (id int PRIMARY KEY, span int4range NOT NULL UNIQUE);")
    done = auto("run", "--set", "slot.rows=3000", "-q", db=pg_url)
    assert done.returncode == 0, done.stderr
    rows, distinct = query(pg_url, "SELECT COUNT(*), COUNT(DISTINCT span) FROM slot")[0]
    assert rows == distinct and 2900 < rows < 3000


def test_an_unsatisfiable_unique_names_the_constraint_and_the_most_rows(
        tmp_path: Path) -> None:
    db = _sqlite(tmp_path, "CREATE TABLE flag (id INTEGER PRIMARY KEY, "
                           "state TEXT NOT NULL UNIQUE CHECK (state IN ('on', 'off')));")
    result = auto("run", "--set", "flag.rows=10", db=db, cwd=tmp_path)
    assert result.returncode == 1
    assert "unique flag.state" in result.stderr and "at most 2 rows" in result.stderr
    assert query(db, "SELECT COUNT(*) FROM flag")[0][0] == 0
    # a row count derived from `rows` shrinks to fit instead
    assert auto("run", "-q", db=db, cwd=tmp_path).returncode == 0
    assert query(db, "SELECT COUNT(*) FROM flag")[0][0] == 2


# every unique SQLite enforces, whatever SQLAlchemy's parse of the CREATE TABLE text sees
# (it misses an inline UNIQUE after a type with parentheses, such as VARCHAR(8)); the
# odd table's name and its index's need quoting
ODD = 'odd "t"'
UNIQUE_DDL = '''
    CREATE TABLE tag (id INTEGER PRIMARY KEY, code VARCHAR(8) NOT NULL UNIQUE);
    CREATE TABLE price (id INTEGER PRIMARY KEY, sku VARCHAR(8) NOT NULL,
                        amount NUMERIC(6, 2) NOT NULL, UNIQUE (sku, amount));
    CREATE TABLE "odd ""t""" (id INTEGER PRIMARY KEY, label VARCHAR(8) NOT NULL,
                              serial VARCHAR(10) UNIQUE, holder VARCHAR(12),
                              active BOOLEAN NOT NULL);
    CREATE UNIQUE INDEX odd_label ON "odd ""t""" (label);
    CREATE UNIQUE INDEX "one ""active"" holder" ON "odd ""t""" (holder) WHERE active;
'''
UNIQUE_TABLES = [ODD, "price", "tag"]
UNIQUE_CHECKS = [f"{ODD}(id)", f"{ODD}(serial)", f"{ODD}(label)", f"{ODD}(holder) where active",
                 "price(id)", "price(sku, amount)", "tag(id)", "tag(code)"]


def _auto_checks(schema_db: str, data_db: str) -> list[Check]:
    """verify --auto's checks, reflected from *schema_db* and run on *data_db*."""
    pack = auto_pack(parse_url(schema_db), None)

    async def go() -> list[Check]:
        db = await Database.open(parse_url(data_db))
        try:
            return await run_checks(db, pack, UNIQUE_TABLES)
        finally:
            await db.close()

    return anyio.run(go)


def test_every_unique_sqlite_enforces_is_seeded_distinct_and_verified(
        tmp_path: Path) -> None:
    db = _sqlite(tmp_path, UNIQUE_DDL)
    done = auto("run", "--set", "rows=250", "--seed", "5", "-q", db=db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert query(db, "SELECT COUNT(*), COUNT(DISTINCT code) FROM tag") == [(250, 250)]
    assert query(db, "SELECT COUNT(*), COUNT(DISTINCT sku || '/' || amount) FROM price"
                 ) == [(250, 250)]
    rows = query(db, 'SELECT label, serial, holder, active FROM "odd ""t"""')
    assert len(rows) == 250 and len({r[0] for r in rows}) == 250
    serials = [r[1] for r in rows if r[1] is not None]
    assert len(set(serials)) == len(serials)
    active = [r[2] for r in rows if r[3] and r[2] is not None]
    assert len(set(active)) == len(active)

    verify = auto("verify", "--json", db=db, cwd=tmp_path)
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"], verify.stdout
    # one check per unique set: none missed, none twice
    found = _auto_checks(db, db)
    assert [c.name for c in found if c.kind == "unique"] == UNIQUE_CHECKS
    assert all(c.ok for c in found)

    # the same checks on a copy without the constraints, each broken once; a partial
    # index counts only the rows it covers (two inactive "h2" are allowed)
    bare = f"sqlite:///{tmp_path / 'bare.db'}"
    load_sql(bare, '''
        CREATE TABLE tag (id INTEGER, code VARCHAR(8));
        CREATE TABLE price (id INTEGER, sku VARCHAR(8), amount NUMERIC(6, 2));
        CREATE TABLE "odd ""t""" (id INTEGER, label VARCHAR(8), serial VARCHAR(10),
                                  holder VARCHAR(12), active BOOLEAN);
        INSERT INTO tag VALUES (1, 'a'), (2, 'a'), (3, 'b');
        INSERT INTO price VALUES (1, 's', 1.5), (2, 's', 1.5), (3, 's', 2.0);
        INSERT INTO "odd ""t""" VALUES (1, 'x', 'p', 'h', 1), (2, 'x', 'p', 'h', 1),
            (3, 'y', NULL, 'h2', 0), (4, 'z', NULL, 'h2', 0), (5, 'w', 'q', 'h', 0);
    ''')
    failed = {c.name: c.violations for c in _auto_checks(db, bare) if not c.ok}
    assert failed == {"tag(code)": 1, "price(sku, amount)": 1, f"{ODD}(label)": 1,
                      f"{ODD}(serial)": 1, f"{ODD}(holder) where active": 1}


def test_auto_on_an_empty_or_missing_database_says_what_to_do(tmp_path: Path) -> None:
    empty = _sqlite(tmp_path, "")
    result = auto("run", db=empty, cwd=tmp_path)
    assert result.returncode == 2 and "found no tables" in result.stderr
    missing = f"sqlite:///{tmp_path / 'nope.db'}"
    result = auto("plan", db=missing, cwd=tmp_path)
    assert result.returncode == 1 and "no database" not in result.stdout
    assert "--auto reads the tables of an existing database" in result.stderr
    assert not (tmp_path / "nope.db").exists()


def test_init_refuses_a_folder_with_files_and_never_writes_a_password(
        tmp_path: Path, pg_url: str) -> None:
    load_sql(pg_url, "CREATE TABLE t (id int PRIMARY KEY, name text);")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.py").write_text("x = 1\n")
    result = cli("init", str(tmp_path / "busy"), "--db", pg_url)
    assert result.returncode == 2 and "not an empty folder" in result.stderr
    assert (tmp_path / "busy" / "mine.py").read_text() == "x = 1\n"

    with_password = pg_url.replace("postgres@", "postgres:s3cret-pw@")
    result = cli("init", str(tmp_path / "p"), "--db", with_password)
    assert result.returncode == 0, result.stderr  # the test server trusts local users
    written = "".join(p.read_text() for p in (tmp_path / "p").iterdir())
    assert "s3cret-pw" not in written and "s3cret-pw" not in result.stdout
    assert "give it with --db or SEEDGRAPH_DATABASE_URL" in written


def test_per_column_overrides_in_the_config(tmp_path: Path) -> None:
    db = _sqlite(tmp_path, "CREATE TABLE users (id INTEGER PRIMARY KEY, nickname TEXT NOT "
                           "NULL, tier TEXT NOT NULL, score INTEGER NOT NULL, code TEXT "
                           "NOT NULL UNIQUE);")
    (tmp_path / "seedgraph.toml").write_text(
        '[columns]\n"users.nickname" = { meaning = "username" }\n'
        '"users.tier" = { values = ["free", "pro"] }\n"users.score" = { min = 10, max = 20 }\n'
        '"users.code" = { values = ["A", "B", "C"] }\n')
    done = auto("run", "--set", "rows=3", "-q", db=db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = query(db, "SELECT nickname, tier, score, code FROM users")
    assert len(rows) == 3
    assert {r[1] for r in rows} <= {"free", "pro"} and all(10 <= r[2] <= 20 for r in rows)
    assert sorted(r[3] for r in rows) == ["A", "B", "C"]  # unique: each value once
    assert all(re.fullmatch(r"[a-z0-9_.]+", r[0]) for r in rows)  # usernames, not phrases
    # more rows than a unique column has values: the table shrinks to what fits
    capped = auto("run", "--set", "rows=10", "--force", "-q", db=db, cwd=tmp_path)
    assert capped.returncode == 0, capped.stderr
    assert query(db, "SELECT COUNT(*) FROM users")[0][0] == 3
    # asked for by name, it is refused, naming the override
    asked = auto("run", "--set", "users.rows=10", "--force", db=db, cwd=tmp_path)
    assert asked.returncode != 0
    assert "users.code has 3 values given in [columns]" in " ".join(asked.stderr.split())


@pytest.mark.parametrize(("entry", "message"), [
    ('"users.teir" = { values = ["a"] }',
     "table 'users' has no column 'teir'. Did you mean 'tier'?"),
    ('"user.tier" = { values = ["a"] }',
     "the database has no table 'user'. Did you mean 'users'?"),
    ('"users.tier" = { meaning = "colour" }', "unknown meaning 'colour'. Did you mean 'color'"),
    ('"users.tier" = { colour = 1 }', "unknown key 'colour'"),
    ('"users.score" = { min = 5 }', "give both min and max"),
    ('"users.tier" = { min = 1, max = 2 }', "min and max are for number columns"),
    ('"users" = { values = ["a"] }', "must be 'table.column'"),
])
def test_a_wrong_override_is_named_before_anything_is_written(tmp_path: Path, entry: str,
                                                               message: str) -> None:
    db = _sqlite(tmp_path, "CREATE TABLE users (id INTEGER PRIMARY KEY, tier TEXT NOT NULL, "
                           "score INTEGER NOT NULL);")
    (tmp_path / "seedgraph.toml").write_text(f"[columns]\n{entry}\n")
    result = auto("run", db=db, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert message in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr
    assert query(db, "SELECT COUNT(*) FROM users")[0][0] == 0


def test_an_override_gives_a_type_without_generator_its_values(pg_url: str,
                                                               tmp_path: Path) -> None:
    load_sql(pg_url, "CREATE TABLE place (id int PRIMARY KEY, at int4multirange NOT NULL);")
    assert auto("run", db=pg_url, cwd=tmp_path).returncode == 2  # no multirange generator
    (tmp_path / "seedgraph.toml").write_text(
        '[columns]\n"place.at" = { values = ["{[1,2)}", "{[3,5),[7,9)}"] }\n')
    done = auto("run", "-q", db=pg_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert {r[0] for r in query(pg_url, "SELECT at::text FROM place")} <= {
        "{[1,2)}", "{[3,5),[7,9)}"}
