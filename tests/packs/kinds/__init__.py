"""One table with a column of every kind, portable to SQLite the way packs declare it
(PostgreSQL types with SQLite variants), for reading back through ``ctx.read``."""

from . import tasks
from .schema import METADATA

__all__ = ["METADATA", "tasks"]
