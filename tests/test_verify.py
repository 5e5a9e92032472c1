"""``seedgraph verify``: every kind of check passes on a good database and fails, with the
exact count, on one that breaks it.

The broken database is built by hand without the constraints the pack declares, so
each rule can be violated once, on purpose, while the others hold.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import anyio
import pytest
import sqlalchemy as sa

from seedgraph import api
from seedgraph.backends import Database, parse_url
from seedgraph.verify import Check, _table_checks, run_checks
from tests.helpers import AS_OF, MINI, MINI_TABLES, cli, execute, run_engine

# the mini pack's tables with its columns but none of its keys or constraints;
# SQLite keeps one REFERENCES clause so PRAGMA foreign_key_check has something to find
_DDL = [
    "CREATE TABLE regions (id INTEGER PRIMARY KEY, name TEXT)",
    "CREATE TABLE customers (id INTEGER, region_id INTEGER {ref}, name TEXT, email TEXT, "
    "signup_at TIMESTAMP, score NUMERIC(6, 2), vip BOOLEAN)",
    "CREATE TABLE products (id INTEGER, sku TEXT, price NUMERIC(10, 2))",
    "CREATE TABLE orders (id INTEGER, customer_id INTEGER, placed_on DATE, "
    "placed_at TIMESTAMP, status TEXT, meta {json})",
    "CREATE TABLE order_items (order_id INTEGER, product_id INTEGER, qty INTEGER)",
    "CREATE TABLE shipments (id INTEGER, order_id INTEGER, shipped_at TIMESTAMP)",
    "CREATE TABLE audit_notes (id INTEGER, note TEXT, noted_at TIMESTAMP)",
]
_ROWS = [
    # regions.name is unique in the pack: two Norths
    "INSERT INTO regions VALUES (1, 'North'), (2, 'North'), (3, 'South')",
    # customer 2 points at region 99 (foreign key); customer 3 has no name (NOT NULL)
    "INSERT INTO customers VALUES (1, 1, 'Ann', NULL, '2025-01-01 00:00:00', 1.5, FALSE), "
    "(2, 99, 'Bob', NULL, '2025-01-01 00:00:00', 2.5, FALSE), "
    "(3, 3, NULL, NULL, '2025-01-01 00:00:00', 3.5, FALSE)",
    # ck_products_price: price >= 0
    "INSERT INTO products VALUES (1, 'SKU-1', 9.99), (2, 'SKU-2', -1.00), (3, 'SKU-3', 0)",
    "INSERT INTO orders VALUES (1, 1, '2025-02-01', '2025-02-01 10:00:00', 'shipped', NULL), "
    "(2, 1, '2025-02-02', '2025-02-02 10:00:00', 'shipped', NULL)",
    # primary key (order_id, product_id) repeated once; ck_items_qty: qty > 0 broken twice
    "INSERT INTO order_items VALUES (1, 1, 2), (1, 1, 3), (1, 3, 0), (2, 1, -4)",
    # the invariant shipments_after_orders: shipment 2 predates its order
    "INSERT INTO shipments VALUES (1, 1, '2025-02-03 10:00:00'), "
    "(2, 2, '2025-01-30 10:00:00')",
    # audit_notes stays empty: the rows check
]
EXPECTED = {
    ("unique", "regions(name)"): 1,
    ("foreign_key", "customers(region_id) -> regions"): 1,
    ("not_null", "customers.name"): 1,
    ("check", "ck_products_price"): 1,
    ("unique", "order_items(order_id, product_id)"): 1,
    ("check", "ck_items_qty"): 2,
    ("invariant", "shipments_after_orders"): 1,
    ("rows", "audit_notes"): 1,
}


def _broken_database(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.split("///", 1)[1]) as conn:  # foreign keys off
            for sql in _DDL:
                conn.execute(sql.format(ref="REFERENCES regions(id)", json="TEXT"))
            for sql in _ROWS:
                conn.execute(sql)
        return
    for sql in _DDL:
        execute(db_url, sql.format(ref="", json="JSONB").replace("TIMESTAMP", "TIMESTAMPTZ"))
    for sql in _ROWS:
        execute(db_url, sql)


def checks(db_url: str, tables: list[str] | None = None, *, as_of: str | None = AS_OF,
           params: dict[str, Any] | None = None) -> list[Check]:
    async def go() -> list[Check]:
        session = api.open_session(api.Options(pack=MINI, db=db_url))
        db = await api.open_db(session)
        try:
            return await run_checks(db, session.pack, tables or MINI_TABLES, as_of=as_of,
                                    params=params)
        finally:
            await db.close()

    return anyio.run(go)


def test_every_check_kind_passes_on_a_seeded_database(db_url: str) -> None:
    run_engine(db_url)
    results = checks(db_url)
    assert [c for c in results if not c.ok] == []
    kinds: dict[str, int] = {}
    for c in results:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    # 7 tables; 5 foreign keys; 7 primary keys + regions.name + products.sku unique;
    # 2 checks; 4 invariants (NOT NULL checks are listed only when they fail)
    assert kinds == {"rows": 7, "foreign_key": 5, "unique": 9, "check": 2, "invariant": 4}
    assert {c.name for c in results if c.kind == "foreign_key"} == {
        "customers(region_id) -> regions", "orders(customer_id) -> customers",
        "order_items(order_id) -> orders", "order_items(product_id) -> products",
        "shipments(order_id) -> orders"}
    rows = {c.name: c.detail for c in results if c.kind == "rows"}
    assert rows["regions"] == "5 rows"


def test_each_check_kind_fails_on_the_rows_that_break_it(db_url: str) -> None:
    _broken_database(db_url)
    results = checks(db_url)
    failed = {(c.kind, c.name): c.violations for c in results if not c.ok}
    if db_url.startswith("sqlite"):
        # SQLite's own foreign-key check sees the REFERENCES clause too
        assert failed.pop(("foreign_key", "customers (PRAGMA foreign_key_check)")) == 1
    assert failed == EXPECTED
    by_name = {c.name: c for c in results}
    # the samples name the offending rows
    assert by_name["customers(region_id) -> regions"].sample == ((99,),)
    assert [r[0] for r in by_name["ck_items_qty"].sample] != []
    assert by_name["shipments_after_orders"].sample == ((2,),)
    assert by_name["customers.name"].sample == ((3,),)
    assert by_name["audit_notes"].detail == "table is empty"


def test_a_missing_table_and_a_crashing_invariant_fail_as_checks(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run_engine(db_url)
    execute(db_url, "DROP TABLE audit_notes")
    results = checks(db_url)
    failed = {(c.kind, c.name): c.detail for c in results if not c.ok}
    assert failed == {("rows", "audit_notes"): "table does not exist"}

    # an invariant whose query breaks is a failed check with the reason, not a traceback
    execute(db_url, "DROP TABLE shipments")
    failed = {(c.kind, c.name): c.detail for c in checks(db_url) if not c.ok}
    assert failed[("rows", "shipments")] == "table does not exist"
    assert failed[("invariant", "shipments_after_orders")].startswith("raised ")


def test_invariants_run_only_when_all_their_tables_are_checked(db_url: str) -> None:
    _broken_database(db_url)
    names = {c.name for c in checks(db_url, ["orders", "customers"])}
    assert "shipments_after_orders" not in names
    assert "customers(region_id) -> regions" in names


def test_the_cli_exits_non_zero_and_lists_each_failure(db_url: str) -> None:
    _broken_database(db_url)
    out = cli("verify", "--pack", MINI, "--db", db_url, "--json")
    assert out.returncode == 1, out.stderr
    report: dict[str, Any] = json.loads(out.stdout)
    assert report["ok"] is False
    got = {(f["kind"], f["name"]): f["violations"] for f in report["failed"]}
    got.pop(("foreign_key", "customers (PRAGMA foreign_key_check)"), None)
    # no run is recorded in this database, so its as_of is unknown to the invariant
    assert got.pop(("invariant", "orders_not_after_as_of")) == 1
    detail = next(f["detail"] for f in report["failed"] if f["name"] == "orders_not_after_as_of")
    assert detail == "raised ValueError: the run's as_of is unknown"
    assert got == EXPECTED


def test_records_name_their_table_sample_and_detail(db_url: str) -> None:
    _broken_database(db_url)
    results = {(c.kind, c.name): c for c in checks(db_url)}
    tables = {key: c.table for key, c in results.items() if not c.ok}
    tables.pop(("foreign_key", "customers (PRAGMA foreign_key_check)"), None)
    assert tables == {
        ("unique", "regions(name)"): "regions",
        ("foreign_key", "customers(region_id) -> regions"): "customers",
        ("not_null", "customers.name"): "customers",
        ("check", "ck_products_price"): "products",
        ("unique", "order_items(order_id, product_id)"): "order_items",
        ("check", "ck_items_qty"): "order_items",
        ("invariant", "shipments_after_orders"): "shipments,orders",
        ("rows", "audit_notes"): "audit_notes",
    }
    price = results[("check", "ck_products_price")]
    assert price.detail == "price >= 0" and price.sample == ((2,),)
    assert sorted(results[("check", "ck_items_qty")].sample) == [(1, 3), (2, 1)]
    assert results[("unique", "order_items(order_id, product_id)")].sample[0][:3] == (1, 1, 2)
    assert results[("rows", "audit_notes")].sample == ()
    assert results[("rows", "regions")].detail == "3 rows"


def _table_checks_of(db_url: str, table: sa.Table) -> list[Check]:
    """The checks verify makes of *table* (declared by the test) on the database."""

    async def go() -> list[Check]:
        db = await Database.open(parse_url(db_url))
        try:
            return await _table_checks(db, table)
        finally:
            await db.close()

    return anyio.run(go)


def test_composite_keys_and_tables_without_a_primary_key(db_url: str) -> None:

    md = sa.MetaData()
    sa.Table("parent", md, sa.Column("a", sa.Integer, primary_key=True),
             sa.Column("b", sa.Integer, primary_key=True))
    child = sa.Table(
        "child", md, sa.Column("x", sa.Integer), sa.Column("y", sa.Integer),
        sa.Column("z", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["x", "y"], ["parent.a", "parent.b"], name="fk_xy"),
        sa.UniqueConstraint("y", "z", name="uq_yz"))
    for sql in ("CREATE TABLE parent (a INTEGER, b INTEGER)",
                "CREATE TABLE child (x INTEGER, y INTEGER, z TEXT)",
                "INSERT INTO parent VALUES (1, 1), (1, 2)",
                # (1, 2) exists; (2, 1) matches a parent only on one column each side;
                # (NULL, 5) is not checked (a NULL key refers to nothing)
                "INSERT INTO child VALUES (1, 2, 'p'), (2, 1, 'q'), (NULL, 5, 'r'), "
                "(7, 2, 'p'), (8, 8, NULL)"):
        execute(db_url, sql)

    got = {(c.kind, c.name): (c.table, c.violations, sorted(c.sample))
           for c in _table_checks_of(db_url, child)}
    assert got == {
        ("foreign_key", "child(x, y) -> parent"): ("child", 3, [(2, 1), (7, 2), (8, 8)]),
        ("unique", "child(y, z)"): ("child", 1, [(2, "p", 2)]),
        # no primary key: rows are named by their first column
        ("not_null", "child.z"): ("child", 1, [(8,)]),
    }


def test_invariants_see_the_run_s_params_as_of_and_dialect(db_url: str) -> None:
    run_engine(db_url)
    by_name = {c.name: c for c in checks(db_url, params={"customers": 200})}
    # dialect: the JSON check's SQL differs per database and must run on each
    meta = by_name["order_meta_is_an_object"]
    assert (meta.ok, meta.table, meta.detail) == (
        True, "orders", "Order metadata, when present, is a JSON object.")
    assert by_name["customers_as_configured"].ok
    assert by_name["orders_not_after_as_of"].ok

    # params: the recorded parameter is what the invariant compares with
    wrong = {c.name: c for c in checks(db_url, params={"customers": 150})}
    assert (wrong["customers_as_configured"].violations,
            wrong["customers_as_configured"].sample) == (1, ((200, 150),))

    # as_of: an earlier as_of makes orders late; scalar results become 1-tuples
    early = {c.name: c for c in checks(db_url, as_of="2025-06-01")}
    late = early["orders_not_after_as_of"]
    assert late.violations > 0 and late.detail == "No order is placed after the run's as_of."
    assert all(len(r) == 1 and isinstance(r[0], int) for r in late.sample)
    assert len(late.sample) == 5  # at most SAMPLE rows are kept

    # no recorded run: the invariant is told so (as_of None), not handed today's date
    unknown = {c.name: c for c in checks(db_url, as_of=None)}["orders_not_after_as_of"]
    assert unknown.detail == "raised ValueError: the run's as_of is unknown"


def test_invariants_run_when_their_tables_are_exactly_the_selection(db_url: str) -> None:
    run_engine(db_url)
    names = [c.name for c in checks(db_url, ["shipments", "orders"]) if c.kind == "invariant"]
    assert names == ["order_meta_is_an_object", "orders_not_after_as_of",
                     "shipments_after_orders"]  # in the order of their names
    # an invariant left out (customers_as_configured) does not stop the ones after it
    names = [c.name for c in checks(db_url, ["orders"]) if c.kind == "invariant"]
    assert names == ["order_meta_is_an_object", "orders_not_after_as_of"]


def test_a_crashing_invariant_is_a_full_failed_record_and_the_others_still_run(
        db_url: str) -> None:
    run_engine(db_url)
    execute(db_url, "DROP TABLE shipments")
    results = checks(db_url)
    crashed = next(c for c in results if c.name == "shipments_after_orders")
    assert (crashed.kind, crashed.table, crashed.violations, crashed.sample) == (
        "invariant", "shipments,orders", 1, ())
    assert crashed.detail.startswith("raised ") and "Error" in crashed.detail.split(":")[0]
    missing = next(c for c in results if c.kind == "rows" and c.name == "shipments")
    assert (missing.table, missing.violations, missing.sample, missing.detail) == (
        "shipments", 1, (), "table does not exist")
    after = [c.name for c in results if c.kind == "invariant"]
    assert after == ["customers_as_configured", "order_meta_is_an_object",
                     "orders_not_after_as_of", "shipments_after_orders"]
    assert all(c.ok for c in results if c.kind == "invariant" and c is not crashed)

    # a crash early in the list does not stop the invariants after it
    execute(db_url, "DROP TABLE order_items")
    execute(db_url, "DROP TABLE orders")
    status = {c.name: c.ok for c in checks(db_url) if c.kind == "invariant"}
    assert status == {"customers_as_configured": True, "order_meta_is_an_object": False,
                      "orders_not_after_as_of": False, "shipments_after_orders": False}


def test_sqlite_s_own_foreign_key_check_is_a_full_record(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fk.db'}"
    _broken_database(url)
    pragma = next(c for c in checks(url) if c.name == "customers (PRAGMA foreign_key_check)")
    assert (pragma.kind, pragma.table, pragma.violations) == ("foreign_key", "customers", 1)
    assert pragma.sample == (("customers", 2, "regions", 0),)


def test_foreign_key_checks_come_in_the_order_of_their_names(db_url: str) -> None:

    md = sa.MetaData()
    sa.Table("p", md, sa.Column("id", sa.Integer, primary_key=True))
    names = ["fk_d", "fk_a", "fk_c", "fk_b", "fk_e"]
    child = sa.Table("c", md, sa.Column("id", sa.Integer, primary_key=True),
                     *[sa.Column(f"{n}_col", sa.Integer) for n in names],
                     *[sa.ForeignKeyConstraint([f"{n}_col"], ["p.id"], name=n) for n in names])
    for sql in ["CREATE TABLE p (id INTEGER PRIMARY KEY)",
                "CREATE TABLE c (id INTEGER PRIMARY KEY, "
                + ", ".join(f"{n}_col INTEGER" for n in names) + ")"]:
        execute(db_url, sql)

    fks = [c.name for c in _table_checks_of(db_url, child) if c.kind == "foreign_key"]
    assert fks == [f"c({n}_col) -> p" for n in sorted(names)]
