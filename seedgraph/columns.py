"""Column kinds: how seedgraph maps SQL types to numpy arrays and back.

A task hands the writer whatever sequences are convenient; :func:`normalize`
turns each into a canonical numpy array plus a null mask. The PostgreSQL
binary COPY encoder (``pgcopy``) and the SQLite row builder consume that
canonical form; :func:`decode` turns values read back from either database into
the same canonical arrays, so ``ctx.read`` looks alike on both.

Canonical arrays per kind (``mask`` is a bool array, True where NULL, or None):

=============  =====================================================================
kind           canonical values
=============  =====================================================================
INT2/4/8       int64
FLOAT4/8       float64 (NaN is NULL)
NUMERIC        float64, rounded to ``scale`` when written (NaN is NULL)
BOOL           bool
TEXT           object array of str (also ENUM and VARCHAR)
DATE           datetime64[D]  (NaT is NULL)
TIMESTAMP      datetime64[us], UTC wall time (NaT is NULL); also TIMESTAMPTZ
TIME           timedelta64[us] since midnight
UUID           object array of canonical hyphenated str
JSON/JSONB     object array of serialized JSON text (str input is taken as JSON text)
FLOAT_ARRAY    2-D float64 (n, dim) when every row has the same length, else object
INT_ARRAY      object array of lists of int
TEXT_ARRAY     object array of lists of str
BYTEA          object array of bytes
=============  =====================================================================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["ColumnKind", "ColumnSpec", "TableSpec"]


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


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...] = ()
    by_name: dict[str, ColumnSpec] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({c.name: c for c in self.columns})
