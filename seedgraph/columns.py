"""Column kinds: the kinds of value seedgraph writes and reads, whatever the database.

A :class:`TableSpec` describes a table (its :class:`ColumnSpec` per column, primary and
single-column foreign keys) for the writer and the reader. Which SQL type of which
database is which kind is the backends' business (:mod:`seedgraph.backends.kinds`); the
canonical numpy array of each kind, and turning what a task wrote
(:func:`~seedgraph.canonical.normalize`) or what a database returned
(:func:`~seedgraph.canonical.decode`) into it, are in :mod:`seedgraph.canonical`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Column", "ColumnKind", "ColumnSpec", "TableSpec"]


class ColumnKind(enum.Enum):
    INT2 = "int2"
    INT4 = "int4"
    INT8 = "int8"
    FLOAT4 = "float4"
    FLOAT8 = "float8"
    NUMERIC = "numeric"
    BOOL = "bool"
    TEXT = "text"
    DATE = "date"
    TIMESTAMP = "timestamp"
    TIMESTAMPTZ = "timestamptz"
    TIME = "time"
    UUID = "uuid"
    JSON = "json"
    JSONB = "jsonb"
    FLOAT4_ARRAY = "float4[]"
    FLOAT8_ARRAY = "float8[]"
    INT4_ARRAY = "int4[]"
    INT8_ARRAY = "int8[]"
    TEXT_ARRAY = "text[]"
    BYTEA = "bytea"
    OTHER = "other"  # a PostgreSQL type the binary COPY encoder cannot write (inet, interval, ...)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    kind: ColumnKind
    nullable: bool = True
    scale: int | None = None  # NUMERIC(p, s): s
    has_default: bool = False
    computed: bool = False  # generated columns are never written
    autoincrement: bool = False
    pg_type: str = ""  # e.g. "integer", "numeric(12,2)", "my_enum" (for enums: binary = text)
    volatile_default: str = ""  # a server default that differs per load, e.g. "now()"


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...] = ()
    by_name: dict[str, ColumnSpec] = field(default_factory=dict, compare=False)
    # single-column foreign keys: column -> (parent table, parent column)
    foreign_keys: dict[str, tuple[str, str]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({c.name: c for c in self.columns})


# -- mapping SQL types to kinds ----------------------------------------------

Column = tuple[np.ndarray, np.ndarray | None]

_INT_KINDS = {ColumnKind.INT2, ColumnKind.INT4, ColumnKind.INT8}
