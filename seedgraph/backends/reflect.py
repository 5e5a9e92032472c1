"""Read a live database's schema: the source of truth for ``--auto`` and ``seedgraph init``.

SQLAlchemy's reflection gives tables, types (domains resolved, enums with their
values), keys, uniques, partial unique indexes and CHECK text. What it does not
give is asked of the catalog here: which tables are partitions (seeded through
their parent), a partitioned table's key and bounds, the columns a
``BEFORE INSERT`` trigger fills, and the unique indexes SQLAlchemy missed (SQLite's
inline ``UNIQUE`` after a type such as ``VARCHAR(8)``).

:func:`unique_sets` is the one list of what must be unique in a table, for inference
(distinct values) and for ``verify`` (a check each).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from seedgraph.backends.kinds import DIALECTS, name_text_types, reference_kind
from seedgraph.columns import ColumnKind

if TYPE_CHECKING:
    from seedgraph.backends import Database
    from seedgraph.backends.base import UniqueIndex

__all__ = ["LiveSchema", "Partitioning", "UniqueSet", "mark_trigger_filled", "reflect_schema",
           "unique_sets"]

BOOKKEEPING = frozenset({"seedgraph_runs", "seedgraph_tasks", "seedgraph_state",
                         "seedgraph_partitions", "seedgraph_detached"})  # checkpoints.META's


@dataclass(frozen=True, slots=True)
class Partitioning:
    """How a partitioned table routes rows: by *column*, into ranges or lists."""

    column: str
    strategy: str  # "range" or "list"
    # range: (from, to) SQL literals, "MINVALUE"/"MAXVALUE" kept; list: the values
    bounds: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class LiveSchema:
    metadata: sa.MetaData
    dialect: str
    partitions: Mapping[str, Partitioning] = field(default_factory=dict)
    trigger_filled: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def tables(self) -> list[sa.Table]:
        return sorted(self.metadata.tables.values(), key=lambda t: t.name)


@dataclass(frozen=True, slots=True)
class UniqueSet:
    """Columns whose values the database keeps distinct (rows with a NULL in them aside);
    *where*: a partial unique index's predicate as SQL, the rows it covers."""

    columns: tuple[str, ...]
    where: str | None = None


def unique_sets(table: sa.Table, dialect: str = "") -> list[UniqueSet]:
    """Every set of columns that must be unique in *table*: its primary key, its UNIQUE
    constraints and columns, and its unique indexes on plain columns, each set once, in
    a stable order. A partial index's predicate is the one for *dialect* (none given:
    every set counts whole); one on a set already unique as a whole is left out."""
    found = [UniqueSet(tuple(c.name for c in table.primary_key.columns))]
    found += sorted((UniqueSet(tuple(c.name for c in k.columns)) for k in table.constraints
                     if isinstance(k, sa.UniqueConstraint)), key=lambda u: u.columns)
    found += [UniqueSet((c.name,)) for c in table.columns if c.unique]
    partial: list[UniqueSet] = []
    for ix in sorted(table.indexes, key=lambda ix: str(ix.name or "")):
        if ix.unique and ix.expressions and all(isinstance(c, sa.Column)
                                                for c in ix.expressions):
            cols = tuple(c.name for c in ix.columns)
            where = ix.dialect_kwargs.get(f"{dialect}_where") if dialect else None
            if where is None:
                found.append(UniqueSet(cols))
            else:  # SQL text as reflected from PostgreSQL, or an expression a pack wrote
                partial.append(UniqueSet(cols, where if isinstance(where, str) else str(
                    where.compile(dialect=DIALECTS[dialect],
                                  compile_kwargs={"literal_binds": True}))))
    out: list[UniqueSet] = []
    seen: set[tuple[frozenset[str], str | None]] = set()
    for u in found + partial:  # the whole sets first: a partial one under them is implied
        key = frozenset(u.columns)
        if u.columns and (key, None) not in seen and (key, u.where) not in seen:
            seen.add((key, u.where))
            out.append(u)
    return out


def mark_trigger_filled(table: sa.Table, triggers: list[tuple[str, str]]) -> None:
    """Give the columns a BEFORE INSERT trigger of *table* names a server default, so
    the writer does not require a task to write them (the trigger fills them);
    *triggers* is :meth:`Database.insert_triggers`."""
    for name in _trigger_columns(table, triggers, unwritable=False):
        if table.c[name].server_default is None:
            table.c[name].server_default = sa.FetchedValue()


_SIZED: list[tuple[re.Pattern[str], Callable[[re.Match[str]], sa.types.TypeEngine[Any]]]] = [
    (re.compile(r"^character varying\((\d+)\)$"), lambda m: sa.VARCHAR(int(m[1]))),
    (re.compile(r"^character\((\d+)\)$"), lambda m: sa.CHAR(int(m[1]))),
    (re.compile(r"^numeric\((\d+),(\d+)\)$"), lambda m: sa.NUMERIC(int(m[1]), int(m[2]))),
]


def _sized_domains(metadata: sa.MetaData, base: Mapping[str, str]) -> None:
    """Give each domain column its base type's length, precision and scale."""
    for table in metadata.tables.values():
        for column in table.columns:
            domain = column.type
            if isinstance(domain, postgresql.DOMAIN) and (text := base.get(str(domain.name))):
                for pattern, make in _SIZED:
                    if m := pattern.match(text):
                        domain.data_type = make(m)


async def reflect_schema(db: Database) -> LiveSchema:
    """Every user table of the database's default schema, seedgraph's own left out."""
    metadata = sa.MetaData()
    skip: set[str] = set(BOOKKEEPING)
    partitions = _partitionings(await db.partition_bounds())
    triggers = await db.insert_triggers()

    def reflect(conn: sa.Connection) -> None:
        name_text_types(conn.dialect)  # PgDatabase's engine does this; any other too
        names = [n for n in sa.inspect(conn).get_table_names() if n not in skip]
        metadata.reflect(conn, only=names)

    async with db.engine.connect() as conn:
        await conn.run_sync(reflect)
    _fold_partitions(metadata, await db.partition_roots())
    _add_unique_indexes(metadata, await db.unique_indexes(), db.dialect)
    _sized_domains(metadata, await db.domain_types())
    filled: dict[str, frozenset[str]] = {}
    for table in metadata.tables.values():
        # as for any table the writer reads: the trigger's columns are not asked for
        mark_trigger_filled(table, triggers)
        # and those seedgraph cannot write at all are left to the trigger by inference
        if columns := _trigger_columns(table, triggers):
            filled[table.name] = columns
    return LiveSchema(metadata, db.dialect, partitions, filled)


def _fold_partitions(metadata: sa.MetaData, children: Mapping[str, str]) -> None:
    """Rows are written through the partitioned table, so its partitions leave the
    schema; a foreign key declared only on partitions becomes the parent's (the rows of
    every partition must then satisfy it)."""
    for child, root in sorted(children.items()):
        table = metadata.tables.get(child)
        parent = metadata.tables.get(root)
        if table is None:
            continue
        if parent is not None:
            have = {tuple(c.name for c in fk.columns) for fk in parent.foreign_key_constraints}
            for fk in table.foreign_key_constraints:
                cols = tuple(c.name for c in fk.columns)
                if cols not in have and all(c in parent.c for c in cols):
                    parent.append_constraint(sa.ForeignKeyConstraint(
                        list(cols), [e.target_fullname for e in fk.elements]))
                    have.add(cols)
        metadata.remove(table)


def _add_unique_indexes(metadata: sa.MetaData, indexes: list[UniqueIndex],
                        dialect: str) -> None:
    """Give each table the unique indexes of the catalog that SQLAlchemy's reflection
    missed: a UNIQUE constraint as one, an index made by CREATE UNIQUE INDEX as itself
    (with its predicate when partial). Those already reflected are not added twice."""
    for ix in indexes:
        table = metadata.tables.get(ix.table)
        if table is None or not all(c in table.c for c in ix.columns):
            continue
        cols = frozenset(ix.columns)
        if ix.constraint:
            if cols == frozenset(c.name for c in table.primary_key.columns) or any(
                    isinstance(k, sa.UniqueConstraint)
                    and frozenset(c.name for c in k.columns) == cols
                    for k in table.constraints):
                continue
            table.append_constraint(sa.UniqueConstraint(*ix.columns))
        elif not any(i.name == ix.name for i in table.indexes):
            index = sa.Index(ix.name, *(table.c[c] for c in ix.columns), unique=True)
            if ix.where:
                index.dialect_kwargs[f"{dialect}_where"] = sa.text(ix.where)


def _trigger_columns(table: sa.Table, triggers: list[tuple[str, str]], *,
                     unwritable: bool = True) -> frozenset[str]:
    """Columns a BEFORE INSERT trigger of *table* names (with *unwritable*, only those
    seedgraph cannot write itself, such as a tsvector kept by ``tsvector_update_trigger``)."""
    text = " ".join(definition for name, definition in triggers if name == table.name)
    return frozenset(
        c.name for c in table.columns
        if (not unwritable or reference_kind(c.type) is ColumnKind.OTHER)
        and re.search(rf"(?<![\w$]){re.escape(c.name)}(?![\w$])", text, re.IGNORECASE))


_KEY = re.compile(r"^(RANGE|LIST) \((\"[^\"]+\"|\w+)\)$", re.IGNORECASE)
_RANGE = re.compile(r"^FOR VALUES FROM \((.+)\) TO \((.+)\)$")
_LIST = re.compile(r"^FOR VALUES IN \((.+)\)$")


def _partitionings(rows: list[tuple[str, str, str]]) -> dict[str, Partitioning]:
    """Single-column range and list partitionings; others (hash, several columns,
    expressions) are left out: their rows are routed whatever the values."""
    found: dict[str, tuple[str, str, list[tuple[str, ...]]]] = {}
    for table, keydef, bound in rows:
        m = _KEY.match(str(keydef))
        if m is None:
            continue
        strategy, column = m.group(1).lower(), m.group(2).strip('"')
        entry = found.setdefault(str(table), (column, strategy, []))
        b = str(bound)
        if strategy == "range" and (r := _RANGE.match(b)):
            entry[2].append((r.group(1), r.group(2)))
        elif strategy == "list" and (li := _LIST.match(b)):
            entry[2].append(tuple(v.strip() for v in _split_literals(li.group(1))))
    return {t: Partitioning(c, s, tuple(b)) for t, (c, s, b) in found.items() if b}


def _split_literals(text: str) -> list[str]:
    """``'a', 'b,c'`` → ["'a'", "'b,c'"]: split on commas outside quotes."""
    out, current, quoted = [], "", False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(current)
            current = ""
        else:
            current += ch
    out.append(current)
    return out
