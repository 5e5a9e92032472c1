"""What :mod:`seedgraph.backends.postgres` reads from PostgreSQL's catalog: the SQL, and
the helpers that turn its rows into plain values (partitions, partition bounds, row
triggers, domains). Sequences, indexes and foreign keys are read around every bulk load;
the rest is the schema reflection that ``--auto`` and ``init`` add to SQLAlchemy's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

__all__ = [
    "BOUNDS",
    "CHILDREN",
    "DOMAINS",
    "FOREIGN_KEYS",
    "INDEXES",
    "SEQUENCES",
    "TRIGGERS",
    "domain_types",
    "insert_triggers",
    "partition_bounds",
    "partition_roots",
]

Query = Callable[[str], Awaitable[list[tuple[Any, ...]]]]

# every index of table $1: its definition, the constraint it backs (if any), and whether
# another table's foreign key depends on it
INDEXES = """
SELECT i.indexrelid::regclass::text AS index_name,
       pg_get_indexdef(i.indexrelid) AS index_def,
       c.conname, pg_get_constraintdef(c.oid) AS con_def,
       EXISTS (SELECT 1 FROM pg_constraint f
               WHERE f.contype = 'f' AND f.conindid = i.indexrelid) AS referenced
FROM pg_index i
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
WHERE i.indrelid = $1::regclass
ORDER BY 1
"""

# the foreign keys of table $1: name, definition, parent table
FOREIGN_KEYS = (
    "SELECT conname, pg_get_constraintdef(oid) AS def, confrelid::regclass::text "
    "AS parent FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' "
    "ORDER BY conname")

# (column, sequence, start, increment) of every sequence feeding a column of table $1:
# referenced by the column's default (serial, or nextval of any sequence), or owned by /
# the identity of the column
SEQUENCES = """
SELECT a.attname, s.oid::regclass::text, q.seqstart, q.seqincrement
FROM pg_attribute a
JOIN pg_class s ON s.relkind = 'S' AND s.oid IN (
    SELECT dep.refobjid FROM pg_attrdef d
    JOIN pg_depend dep ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
     AND dep.refclassid = 'pg_class'::regclass
    WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum
    UNION
    SELECT dep.objid FROM pg_depend dep
    WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
      AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
      AND dep.deptype IN ('a', 'i'))
JOIN pg_sequence q ON q.seqrelid = s.oid
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum, 2
"""


# (partitioned table, partition) for every partition, nested ones under their root
CHILDREN = """
SELECT pg_partition_root(c.oid)::regclass::text, c.relname FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relispartition
"""


BOUNDS = """
SELECT p.relname, pg_get_partkeydef(p.oid), pg_get_expr(c.relpartbound, c.oid)
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
WHERE p.relkind = 'p' AND p.relnamespace = current_schema()::regnamespace
ORDER BY 1, 3
"""


# row-level BEFORE INSERT triggers: tgtype bits ROW (1), BEFORE (2), INSERT (4)
# (the trigger's definition and its function's body, so `NEW.col := ...` is seen too)
TRIGGERS = """
SELECT c.relname, pg_get_triggerdef(t.oid) || ' ' || COALESCE(p.prosrc, '')
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
LEFT JOIN pg_proc p ON p.oid = t.tgfoid
WHERE NOT t.tgisinternal AND t.tgtype & 7 = 7
  AND c.relnamespace = current_schema()::regnamespace
"""


# a domain's base type with its length / precision (SQLAlchemy's reflection drops them)
DOMAINS = """
SELECT t.typname, format_type(t.typbasetype, t.typtypmod)
FROM pg_type t WHERE t.typtype = 'd'
"""


async def partition_roots(query: Query) -> dict[str, str]:
    return {str(part): str(root).strip('"') for root, part in await query(CHILDREN)}


async def partition_bounds(query: Query) -> list[tuple[str, str, str]]:
    return [(str(a), str(b), str(c)) for a, b, c in await query(BOUNDS)]


async def insert_triggers(query: Query) -> list[tuple[str, str]]:
    return [(str(t), str(d)) for t, d in await query(TRIGGERS)]


async def domain_types(query: Query) -> dict[str, str]:
    return {str(n): str(t) for n, t in await query(DOMAINS)}
