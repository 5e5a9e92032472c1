"""The retail pack is reproducible from the seed: whole runs and appends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.helpers import AS_OF, REPO, checksums, cli, execute, query, run_engine
from tests.test_retail import on_sale_days

PACK = str(REPO / "tasks" / "retail")
BASE = {"stores": 2, "products": 6, "end_date": "2024-02-29"}
TABLES = ["store", "product", "calendar", "price_history", "promotion",
          "inventory_snapshot_daily", "sales_daily"]


def seeded(path: Path, seed: int) -> str:
    url = f"sqlite:///{path}"
    run_engine(url, pack=PACK, sets=BASE, seed=seed)
    return url


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    a = checksums(seeded(tmp_path / "a.db", 7), TABLES)
    b = checksums(seeded(tmp_path / "b.db", 7), TABLES)
    c = checksums(seeded(tmp_path / "c.db", 8), TABLES)
    assert a == b
    # another seed changes every generated table; the calendar depends on dates only
    assert {t for t in TABLES if a[t] != c[t]} == set(TABLES) - {"calendar"}
    assert a["calendar"] == c["calendar"]
    # the shape follows from the settings and the launch dates: 2 stores x the days each
    # of the 6 products is on sale (all 60, or from its launch; nothing before it)
    for digest, url in ((a, tmp_path / "a.db"), (c, tmp_path / "c.db")):
        rows = 2 * on_sale_days(f"sqlite:///{url}", "2024-01-01", 60)
        assert digest["sales_daily"].startswith(f"{rows}:")
        assert digest["inventory_snapshot_daily"].startswith(f"{rows}:")


def test_an_append_is_reproducible_from_the_seed(tmp_path: Path) -> None:
    later = {**BASE, "start_date": "2024-03-01", "end_date": "2024-03-31"}
    urls = [seeded(tmp_path / f"{n}.db", 11) for n in ("x", "y")]
    for url in urls:
        result = run_engine(url, pack=PACK, sets=later, append=True, seed=11)
        assert {o.table: o.rows for o in result.outcomes}["sales_daily"] == 2 * 6 * 31
    assert checksums(urls[0], TABLES) == checksums(urls[1], TABLES)


def test_partitions_by_store_give_the_same_bytes_however_they_run(
        db_url: str, another_db: Callable[[], str]) -> None:
    """The daily tables load in 8 partitions of stores, each group simulated from its
    own stream: concurrency 1 and 4 and two worker processes give the same tables."""
    one = run_engine(db_url, pack=PACK, sets=BASE, seed=7, concurrency=1)
    assert one.status == "done", one.outcomes
    assert query(db_url, "SELECT table_name, COUNT(*) FROM seedgraph_partitions "
                         "WHERE part <> '' GROUP BY table_name ORDER BY 1") == [
        ("inventory_snapshot_daily", 8), ("sales_daily", 8)]  # 6 of them hold no store
    reference = checksums(db_url, TABLES)
    four = another_db()
    assert run_engine(four, pack=PACK, sets=BASE, seed=7, concurrency=4).status == "done"
    assert checksums(four, TABLES) == reference
    workers = another_db()
    sets = [a for k, v in BASE.items() for a in ("--set", f"{k}={v}")]
    out = cli("run", "--pack", PACK, "--db", workers, "--seed", "7", "--as-of", AS_OF, "-q",
              "--executor", "processes", "-j", "2", *sets, timeout=300)
    assert out.returncode == 0, out.stderr
    assert checksums(workers, TABLES) == reference


def test_a_failed_store_partition_resumes_to_the_same_database(
        db_url: str, another_db: Callable[[], str]) -> None:
    """The sales partition of one store's group fails (a trigger refuses its rows): what
    committed stays, and --resume runs only the rest, to the database a clean run gives."""
    sets = {**BASE, "stores": 3}
    clean = another_db()
    assert run_engine(clean, pack=PACK, sets=sets, seed=7).status == "done"
    assert run_engine(db_url, pack=PACK, sets=sets, seed=7, only="store").status == "done"
    _fail_store(db_url, 2)
    # one partition at a time: group 0 (store 1) commits, group 1 (store 2) fails, the
    # others (store 3, and five empty groups) never start
    failed = run_engine(db_url, pack=PACK, sets=sets, seed=7, concurrency=1)
    assert {o.table: o.status for o in failed.outcomes}["sales_daily"] == "failed"
    assert query(db_url, "SELECT part FROM seedgraph_partitions WHERE "
                         "table_name = 'sales_daily' AND part <> ''") == [("0",)]
    assert query(db_url, "SELECT COUNT(*) FROM sales_daily WHERE store_id = 2") == [(0,)]
    execute(db_url, "DROP TRIGGER sg_fail" + ("" if db_url.startswith("sqlite")
                                              else " ON sales_daily"))
    resumed = run_engine(db_url, pack=PACK, resume=True)
    assert resumed.status == "done", resumed.outcomes
    sales = {o.table: o for o in resumed.outcomes}["sales_daily"]
    assert sales.note == "8 partitions, 7 run now"  # only the rest ran
    assert checksums(db_url, TABLES) == checksums(clean, TABLES)


def _fail_store(url: str, store: int) -> None:
    """A trigger refusing *store*'s sales rows."""
    if url.startswith("sqlite"):
        execute(url, f"CREATE TRIGGER sg_fail BEFORE INSERT ON sales_daily WHEN "
                     f"NEW.store_id = {store} BEGIN SELECT RAISE(ABORT, 'refused'); END")
        return
    execute(url, "CREATE FUNCTION sg_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$ BEGIN RAISE EXCEPTION 'refused'; END $$")
    execute(url, f"CREATE TRIGGER sg_fail BEFORE INSERT ON sales_daily FOR EACH ROW WHEN "
                 f"(NEW.store_id = {store}) EXECUTE FUNCTION sg_refuse()")
