"""``seedgraph verify``: row counts, foreign keys, unique/check/not-null constraints and the
pack's registered invariants, checked against the database as it is."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from seedgraph.backends import Database, quote
from seedgraph.backends.reflect import unique_sets
from seedgraph.context import VerifyContext
from seedgraph.pack import Pack

__all__ = ["Check", "run_checks"]

SAMPLE = 5


@dataclass(frozen=True, slots=True)
class Check:
    kind: str  # rows | foreign_key | unique | check | not_null | invariant
    name: str
    table: str
    violations: int
    sample: tuple[tuple[Any, ...], ...] = ()
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.violations == 0


async def _count_and_sample(db: Database, where_sql: str,
                            select_cols: str) -> tuple[int, list[tuple[Any, ...]]]:
    count = int((await db.query(f"SELECT COUNT(*) FROM {where_sql}"))[0][0])
    if not count:
        return 0, []
    return count, await db.query(f"SELECT {select_cols} FROM {where_sql} LIMIT {SAMPLE}")


def _cols(names: Iterable[str]) -> str:
    return ", ".join(quote(n) for n in names)


async def _table_checks(db: Database, table: sa.Table) -> list[Check]:
    out: list[Check] = []
    t = quote(table.name)
    pk = [c.name for c in table.primary_key.columns] or [next(iter(table.columns)).name]
    for fk in sorted(table.foreign_key_constraints, key=lambda f: str(f.name or "")):
        child = [c.name for c in fk.columns]
        parent = fk.referred_table.name
        parent_cols = [e.column.name for e in fk.elements]
        on = " AND ".join(f"c.{quote(a)} = p.{quote(b)}" for a, b in zip(child, parent_cols,
                                                                          strict=True))
        notnull = " AND ".join(f"c.{quote(a)} IS NOT NULL" for a in child)
        where = (f"{t} c LEFT JOIN {quote(parent)} p ON {on} WHERE {notnull} "
                 f"AND p.{quote(parent_cols[0])} IS NULL")
        n, sample = await _count_and_sample(db, where, ", ".join(f"c.{quote(c)}" for c in child))
        out.append(Check("foreign_key", f"{table.name}({', '.join(child)}) -> {parent}",
                         table.name, n, tuple(sample)))
    # the primary key, UNIQUE constraints and unique indexes, each set once; a partial
    # index counts the rows its predicate covers
    for u in unique_sets(table, db.dialect):
        cols = u.columns
        cond = " AND ".join([*(f"{quote(c)} IS NOT NULL" for c in cols),
                             *([f"({u.where})"] if u.where is not None else [])])
        where = (f"(SELECT {_cols(cols)}, COUNT(*) AS n FROM {t} WHERE {cond} "
                 f"GROUP BY {_cols(cols)} HAVING COUNT(*) > 1) d")
        n, sample = await _count_and_sample(db, where, "*")
        name = f"{table.name}({', '.join(cols)})"
        out.append(Check("unique", name if u.where is None else f"{name} where {u.where}",
                         table.name, n, tuple(sample)))
    for ck in table.constraints:
        if isinstance(ck, sa.CheckConstraint):
            text = str(ck.sqltext)
            n, sample = await _count_and_sample(db, f"{t} WHERE NOT ({text})", _cols(pk))
            out.append(Check("check", str(ck.name or text), table.name, n, tuple(sample), text))
    for col in table.columns:
        if not col.nullable and col.computed is None:
            n, sample = await _count_and_sample(db, f"{t} WHERE {quote(col.name)} IS NULL",
                                                _cols(pk))
            if n:
                out.append(Check("not_null", f"{table.name}.{col.name}", table.name, n,
                                 tuple(sample)))
    return out


async def run_checks(db: Database, pack: Pack, tables: Sequence[str], *,
                     allow_empty: bool = False, params: dict[str, Any] | None = None,
                     as_of: str | None = None,
                     seeded_empty: frozenset[str] = frozenset()) -> list[Check]:
    """All checks for *tables*; invariants run when all their tables are in *tables*.
    An empty table fails unless *allow_empty*, or it is in *seeded_empty* (seedgraph
    recorded it with no rows: e.g. a mode without documents)."""
    chosen = set(tables)
    existing = await db.existing_tables()
    checks: list[Check] = []
    for name in sorted(chosen):
        if name not in existing:
            checks.append(Check("rows", name, name, 1, (), "table does not exist"))
            continue
        rows = await db.count_rows(name)
        empty_ok = allow_empty or name in seeded_empty
        checks.append(Check("rows", name, name, 0 if rows or empty_ok else 1, (),
                            f"{rows} rows" if rows else "table is empty"
                            + (" (seeded with no rows)" if name in seeded_empty else "")))
        table = pack.table(name)
        if table is not None:
            checks.extend(await _table_checks(db, table))
    for name in sorted(chosen & existing):  # the database's own check, where it has one
        own = await db.foreign_key_violations(name)
        if own is not None and own[1]:
            how, offending = own
            checks.append(Check("foreign_key", f"{name} ({how})", name, len(offending),
                                tuple(offending[:SAMPLE])))
    from seedgraph.config import parse_as_of

    ctx = VerifyContext(reader=db, dialect=db.dialect, params=params or {},
                        as_of=parse_as_of(as_of) if as_of else None, seed=None)
    for inv in pack.invariants:
        if not set(inv.tables) <= chosen:
            continue
        try:
            found = [tuple(r) if isinstance(r, list | tuple) else (r,) for r in await inv.fn(ctx)]
        except Exception as exc:  # an invariant that crashes is a failed check, not a traceback
            checks.append(Check("invariant", inv.name, ",".join(inv.tables), 1, (),
                                f"raised {type(exc).__name__}: {exc}"))
            continue
        checks.append(Check("invariant", inv.name, ",".join(inv.tables), len(found),
                            tuple(found[:SAMPLE]), inv.description))
    return checks
