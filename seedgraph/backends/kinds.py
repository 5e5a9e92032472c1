"""Which SQL type of which database is which :class:`~seedgraph.columns.ColumnKind`.

PostgreSQL's types are the reference: a column holds the same kind on every database,
and where a type has a variant for a database without the type (JSON for an ARRAY on
SQLite), the variant is only how that database stores it.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from seedgraph.columns import _INT_KINDS, ColumnKind, ColumnSpec, TableSpec

__all__ = ["DIALECTS", "PG_TEXT_TYPES", "kind_for", "name_text_types", "reference_kind",
           "table_spec"]

DIALECTS: dict[str, Dialect] = {
    "postgresql": postgresql.dialect(),  # type: ignore[no-untyped-call]
    "sqlite": sqlite.dialect(),
}


class _PgTextType(sa.types.UserDefinedType[str]):
    """A PostgreSQL type SQLAlchemy's reflection does not know (it would be NullType):
    named, so inference can tell a ``point`` from an ``xml`` and pick a generator. Like
    every type the binary encoder does not know, its kind is OTHER: written as text
    and cast by the database (see :func:`_kind_on`)."""

    cache_ok = True
    name = ""

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


# reflected by name (see name_text_types); the range types SQLAlchemy knows already
# (INT4RANGE, TSTZRANGE, ...) and they are OTHER as they are
PG_TEXT_TYPES: dict[str, type[_PgTextType]] = {
    name: type(name.upper(), (_PgTextType,), {"name": name})
    for name in ("point", "line", "lseg", "box", "path", "polygon", "circle", "xml")}


def name_text_types(dialect: Dialect) -> None:
    """Let this PostgreSQL dialect's reflection name the geometric types and xml (POINT,
    XML, ...) instead of warning and giving NullType, so inference can choose their
    generators. Only this dialect object changes: SQLAlchemy's own table stays as it is."""
    known = getattr(dialect, "ischema_names", None)
    if dialect.name == "postgresql" and known is not None and "point" not in known:
        dialect.ischema_names = {**known, **PG_TEXT_TYPES}  # type: ignore[attr-defined]


def reference_kind(type_: sa.types.TypeEngine[Any]) -> ColumnKind:
    """The kind of *type_* on the reference database (PostgreSQL)."""
    return kind_for(type_, "postgresql")


def kind_for(type_: sa.types.TypeEngine[Any], dialect: str) -> ColumnKind:
    """The kind a column of *type_* has on *dialect* (variants resolved).

    A column holds the same kind on every database: where a type has a variant for a
    database without the type (e.g. JSON for an ARRAY on SQLite), the variant is only
    how that database stores it, and the kind is the one the type has on PostgreSQL."""
    if dialect != "postgresql" and dialect in getattr(type_, "_variant_mapping", {}):
        native = _kind_on(type_, "postgresql")
        if native is not ColumnKind.OTHER:
            return native
    return _kind_on(type_, dialect)


def _kind_on(type_: sa.types.TypeEngine[Any], dialect: str) -> ColumnKind:
    declared = getattr(type_, "_variant_mapping", {}).get(dialect, type_)
    if isinstance(declared, postgresql.DOMAIN):
        # a domain is stored as its base type: write and read it as that type
        return _kind_on(declared.data_type, dialect)
    impl = type_.dialect_impl(DIALECTS[dialect])
    if isinstance(impl, sa.Float) and _single_precision(declared):
        # the dialect's float type forgets REAL / Float(24): ask the declared type
        return ColumnKind.FLOAT4
    if isinstance(impl, sa.Boolean):
        return ColumnKind.BOOL
    if isinstance(impl, sa.SmallInteger):
        return ColumnKind.INT2
    if isinstance(impl, sa.BigInteger):
        return ColumnKind.INT8
    if isinstance(impl, sa.Integer):
        return ColumnKind.INT4
    if isinstance(impl, sa.Float):
        return ColumnKind.FLOAT8
    if isinstance(impl, sa.Numeric):
        return ColumnKind.NUMERIC
    if isinstance(impl, sa.DateTime):
        return ColumnKind.TIMESTAMPTZ if impl.timezone else ColumnKind.TIMESTAMP
    if isinstance(impl, sa.Date):
        return ColumnKind.DATE
    if isinstance(impl, sa.Time):
        return ColumnKind.TIME
    if isinstance(impl, sa.Uuid):
        return ColumnKind.UUID
    if isinstance(impl, postgresql.JSONB):
        return ColumnKind.JSONB
    if isinstance(impl, sa.JSON):
        return ColumnKind.JSON
    if isinstance(impl, sa.ARRAY):
        item = impl.item_type
        if isinstance(item, sa.Float):
            return ColumnKind.FLOAT4_ARRAY if _single_precision(item) else ColumnKind.FLOAT8_ARRAY
        if isinstance(item, sa.BigInteger):
            return ColumnKind.INT8_ARRAY
        if isinstance(item, sa.Integer):
            return ColumnKind.INT4_ARRAY
        if isinstance(item, sa.String) or dialect != "postgresql":
            return ColumnKind.TEXT_ARRAY
        return ColumnKind.OTHER
    if isinstance(impl, sa.LargeBinary):
        return ColumnKind.BYTEA
    if isinstance(impl, sa.String) or dialect != "postgresql":
        return ColumnKind.TEXT  # text, varchar, char, enums, citext: text on the wire
    return ColumnKind.OTHER


def _single_precision(type_: Any) -> bool:
    """REAL, FLOAT4 or Float(p) with p <= 24: a 4-byte float."""
    if isinstance(type_, sa.REAL):
        return True
    precision = getattr(type_, "precision", None)
    return isinstance(type_, sa.Float) and precision is not None and precision <= 24


def table_spec(table: sa.Table, dialect: str) -> TableSpec:
    """Describe *table* for the writer and reader on *dialect*."""
    pk = tuple(c.name for c in table.primary_key.columns)
    cols = []
    for c in table.columns:
        kind = kind_for(c.type, dialect)
        scale = getattr(c.type, "scale", None) if kind is ColumnKind.NUMERIC else None
        try:
            pg_type = c.type.compile(dialect=DIALECTS["postgresql"])
        except Exception:
            pg_type = ""
        auto = bool(c.primary_key and len(pk) == 1 and kind in _INT_KINDS
                    and c.autoincrement in (True, "auto"))
        cols.append(ColumnSpec(
            name=c.name, kind=kind, nullable=bool(c.nullable), scale=scale,
            has_default=c.server_default is not None or c.default is not None,
            computed=c.computed is not None, autoincrement=auto, pg_type=pg_type,
            volatile_default=_volatile_default(c),
        ))
    fks: dict[str, tuple[str, str]] = {}
    for fk in table.foreign_keys:
        if fk.constraint is not None and len(fk.constraint.elements) == 1:
            try:
                fks[fk.parent.name] = (fk.column.table.name, fk.column.name)
            except sa.exc.NoReferenceError:
                continue  # a parent outside what was reflected: no natural-key lookups
    return TableSpec(name=table.name, columns=tuple(cols), primary_key=pk, foreign_keys=fks)


_VOLATILE = re.compile(
    r"\b(now|current_timestamp|current_date|current_time|localtimestamp|localtime|"
    r"clock_timestamp|statement_timestamp|transaction_timestamp|timeofday|random|"
    r"gen_random_uuid|uuid_generate_v\d\w*)\b", re.IGNORECASE)


def _volatile_default(column: sa.Column[Any]) -> str:
    """The SQL of *column*'s server default when it gives a new value on every load
    (the clock, a random number or UUID), else "" (constants and sequences are stable)."""
    default = column.server_default
    arg = getattr(default, "arg", None)
    if arg is None:
        return ""
    if isinstance(arg, str):
        return ""  # a literal value
    try:
        sql = str(arg.compile(dialect=DIALECTS["postgresql"]))
    except Exception:
        return ""
    return sql if _VOLATILE.search(sql) else ""
