"""The rules a CHECK constraint is read into, and the tightest range several allow together.

Each rule is a frozen value naming the column it constrains: a :class:`Range`, a list
of allowed values (:class:`OneOf`), bounds on a length, an :class:`Order` between two
columns, :class:`NotNull`, or the text of a conjunct with no rule (:class:`Unparsed`).
:func:`merge_ranges` folds a column's ranges into one, which is what a generator needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Length", "NotNull", "OneOf", "Order", "Range", "Rule", "Unparsed", "Value",
           "merge_ranges"]

Value = str | int | float


@dataclass(frozen=True, slots=True)
class Range:
    """``low <= column <= high``; bounds are numbers (ints stay exact) or text such as dates."""

    column: str
    low: float | str | None
    high: float | str | None
    low_inclusive: bool = True
    high_inclusive: bool = True


@dataclass(frozen=True, slots=True)
class OneOf:
    column: str
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class Length:
    """Bounds on the column's length; ``bytes`` for ``octet_length`` (bytes, not characters)."""

    column: str
    min: int | None
    max: int | None
    bytes: bool = False


@dataclass(frozen=True, slots=True)
class Order:
    left: str
    op: str  # "<", "<=", ">", ">=", "<>"
    right: str


@dataclass(frozen=True, slots=True)
class NotNull:
    column: str


@dataclass(frozen=True, slots=True)
class Unparsed:
    sql: str


Rule = Range | OneOf | Length | Order | NotNull | Unparsed


def _tighter(old: float | str | None, old_inclusive: bool, new: float | str | None,
             new_inclusive: bool, low: bool) -> tuple[float | str | None, bool]:
    """The tighter of two lower (or upper) bounds; text is never compared with a number."""
    if new is None:
        return old, old_inclusive
    if old is None:
        return new, new_inclusive
    if old == new:
        return old, old_inclusive and new_inclusive
    if isinstance(old, str) and isinstance(new, str):
        above = new > old
    elif isinstance(old, str) or isinstance(new, str):
        return old, old_inclusive
    else:
        above = new > old
    return (new, new_inclusive) if above is low else (old, old_inclusive)


def merge_ranges(rules: Sequence[Rule]) -> dict[str, Range]:
    """Per column the tightest range its ``Range`` rules allow together (text bounds compare
    as text, which orders ISO dates and timestamps written alike)."""
    merged: dict[str, Range] = {}
    for rule in rules:
        if not isinstance(rule, Range):
            continue
        old = merged.setdefault(rule.column, rule)
        low = _tighter(old.low, old.low_inclusive, rule.low, rule.low_inclusive, low=True)
        high = _tighter(old.high, old.high_inclusive, rule.high, rule.high_inclusive, low=False)
        merged[rule.column] = Range(rule.column, low[0], high[0], low[1], high[1])
    return merged
