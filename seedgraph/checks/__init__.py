"""Understand a table's CHECK constraints in their common shapes, so generated values satisfy them.

Reads the text a database reports (PostgreSQL's ``pg_get_constraintdef``, SQLAlchemy's
``get_check_constraints()['sqltext']``, an SQLite DDL clause) into one rule per conjunct::

    CHECK (((rating >= 1) AND (rating <= 5)))  Range('rating', 1, None), Range('rating', None, 5)
    CHECK ((length((code)::text) <= 10))       Length('code', None, 10)
    CHECK (((x > 0) OR (x < '-5'::integer)))   Unparsed("(x > 0) OR (x < '-5'::integer)")

A tokenizer and a recursive-descent parser that evaluates operands as it goes (``'-90'::integer``
is -90, ``(code)::text`` is the column code cast to text). A conjunct becomes a rule only when
its meaning is certain; OR, NOT, arithmetic, unknown columns and casts that could change a
comparison come back as ``Unparsed`` with their text. Parsing never raises.
"""

from __future__ import annotations

from seedgraph.checks._parser import parse_check
from seedgraph.checks.rules import (
    Length,
    NotNull,
    OneOf,
    Order,
    Range,
    Rule,
    Unparsed,
    merge_ranges,
)

__all__ = ["Length", "NotNull", "OneOf", "Order", "Range", "Rule", "Unparsed", "merge_ranges",
           "parse_check"]
