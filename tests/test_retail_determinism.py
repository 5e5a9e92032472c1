"""The retail pack is reproducible from the seed: whole runs and appends."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import REPO, checksums, run_engine
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
