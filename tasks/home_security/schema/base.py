"""The home-security pack's shared MetaData and portable column types.

PostgreSQL gets the documented types (UUID, JSONB, arrays, tsvector); SQLite
gets the closest portable variant so the embedded default works unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = ["JSONB", "METADATA", "TSVECTOR", "UUID", "FloatArray", "IntArray", "TextArray"]

METADATA = sa.MetaData()

JSONB = postgresql.JSONB().with_variant(sa.JSON(), "sqlite")
UUID = sa.Uuid(as_uuid=False)
FloatArray = postgresql.ARRAY(sa.Float).with_variant(sa.JSON(), "sqlite")
IntArray = postgresql.ARRAY(sa.Integer).with_variant(sa.JSON(), "sqlite")
TextArray = postgresql.ARRAY(sa.Text).with_variant(sa.JSON(), "sqlite")
TSVECTOR = postgresql.TSVECTOR().with_variant(sa.Text(), "sqlite")
