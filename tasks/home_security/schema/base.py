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
    "embedding",
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
# embeddings are float32, as models emit them and pgvector stores them: real[], 4 bytes
# an element (double precision would double what is loaded and stored, for digits no
# model has)
FloatArray = postgresql.ARRAY(sa.REAL).with_variant(sa.JSON(), "sqlite")
IntArray = postgresql.ARRAY(sa.Integer).with_variant(sa.JSON(), "sqlite")
TextArray = postgresql.ARRAY(sa.Text).with_variant(sa.JSON(), "sqlite")
TSVECTOR = postgresql.TSVECTOR().with_variant(sa.Text(), "sqlite")


def embedding(name: str = "embedding") -> sa.Column[Any]:
    """A 512-dim float32 embedding, kept in its row (PostgreSQL's STORAGE PLAIN, below)."""
    return sa.Column(name, FloatArray, nullable=False, info={"storage": "PLAIN"})


@sa.event.listens_for(METADATA, "after_create")
def _set_storage(target: sa.MetaData, connection: sa.Connection, *,
                 tables: Sequence[sa.Table] = (), **_: Any) -> None:
    """512 float4s take 2,072 bytes, just past PostgreSQL's 2 kB TOAST threshold: by
    default every embedding would be compressed (random floats do not compress) and then
    moved out of line into the TOAST table and its index. Kept in the row, a re-ID
    embedding loads in about half the time and reads without detoasting."""
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.columns:
            if "storage" in column.info:
                connection.execute(sa.text(
                    f"ALTER TABLE {quote(table.name)} ALTER COLUMN {quote(column.name)} "
                    f"SET STORAGE {column.info['storage']}"))


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
