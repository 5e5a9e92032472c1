"""The home-security pack's shared MetaData, portable column types and column helpers.

PostgreSQL gets the documented types (UUID, JSONB, arrays, tsvector); SQLite gets
the closest portable variant so the embedded default works unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = [
    "JSONB",
    "METADATA",
    "TSVECTOR",
    "UUID",
    "FloatArray",
    "IntArray",
    "TextArray",
    "created_at",
    "fk",
    "one_of",
    "pk",
    "ts",
    "updated_at",
]

METADATA = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

JSONB = postgresql.JSONB().with_variant(sa.JSON(), "sqlite")
UUID = sa.Uuid(as_uuid=False)
FloatArray = postgresql.ARRAY(sa.Float).with_variant(sa.JSON(), "sqlite")
IntArray = postgresql.ARRAY(sa.Integer).with_variant(sa.JSON(), "sqlite")
TextArray = postgresql.ARRAY(sa.Text).with_variant(sa.JSON(), "sqlite")
TSVECTOR = postgresql.TSVECTOR().with_variant(sa.Text(), "sqlite")


def pk() -> sa.Column[Any]:
    """An integer surrogate key (SERIAL on PostgreSQL; seedgraph advances the sequence)."""
    return sa.Column("id", sa.Integer, primary_key=True)


def fk(name: str, target: str, *, nullable: bool = False, type_: Any = sa.Integer,
       ondelete: str = "CASCADE", index: bool = True) -> sa.Column[Any]:
    return sa.Column(name, type_, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable,
                     index=index)


def ts(name: str, *, nullable: bool = False, default_now: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable,
                     server_default=sa.func.now() if default_now else None)


def created_at() -> sa.Column[Any]:
    return ts("created_at", default_now=True)


def updated_at() -> sa.Column[Any]:
    return ts("updated_at", default_now=True)


def one_of(column: str, values: Sequence[str], name: str | None = None) -> sa.CheckConstraint:
    """CHECK (column IN (...)): the documented enum values, portable to SQLite."""
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name or f"{column}_valid")
