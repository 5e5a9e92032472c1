"""Understand a table's CHECK constraints in their common shapes, so generated values satisfy them.

Takes the text a database reports (PostgreSQL's ``pg_get_constraintdef``, SQLAlchemy's
``get_check_constraints()['sqltext']``, an SQLite DDL clause) and returns one rule per
conjunct::

    (rating >= 1) AND (rating <= 5)          Range('rating', 1, None), Range('rating', None, 5)
    (status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])
                                             OneOf('status', ('a', 'b'))
    length((code)::text) <= 10               Length('code', None, 10)
    started_at < ended_at                    Order('started_at', '<', 'ended_at')
    (x > 0) OR (x < '-5'::integer)           Unparsed('(x > 0) OR (x < \\'-5\\'::integer)')

A small tokenizer and a recursive-descent parser build a tree; a conjunct becomes a rule only
when its meaning is certain, anything else (OR, NOT, arithmetic, unknown columns, casts that
could change a comparison) becomes ``Unparsed`` with its text. Parsing never raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

__all__ = ["Length", "NotNull", "OneOf", "Order", "Range", "Rule", "Unparsed", "merge_ranges",
           "parse_check"]

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
    """Bounds on the column's length; ``bytes`` for ``octet_length`` (UTF-8 bytes, not chars)."""

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

# ---------------------------------------------------------------------------- tokens

_TOKEN = re.compile(r"""
    (?P<skip>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*"|`(?:[^`]|``)*`)
  | (?P<id>[^\W0-9][\w$]*)
  | (?P<op>::|<=|>=|<>|!=|==|[<>=]|[-+*/%~!@#^&|?]+)
  | (?P<punct>[(),\[\].])
""", re.VERBOSE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num, str, qid, id, op, punct
    text: str
    start: int
    end: int


class _Syntax(Exception):
    """Text the parser does not know how to read."""


def _tokenize(sql: str) -> tuple[list[_Token], dict[int, int]]:
    """The tokens and, for each ``(``, the index of its ``)``."""
    tokens: list[_Token] = []
    pairs: dict[int, int] = {}
    opened: list[int] = []
    pos = 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None or m.lastgroup is None:
            raise _Syntax
        pos = m.end()
        if m.lastgroup == "skip":
            continue
        if m[0] == "(":
            opened.append(len(tokens))
        elif m[0] == ")":
            if not opened:
                raise _Syntax
            pairs[opened.pop()] = len(tokens)
        tokens.append(_Token(m.lastgroup, m[0], m.start(), m.end()))
    if opened:
        raise _Syntax
    return tokens, pairs


# ---------------------------------------------------------------------------- tree

@dataclass(frozen=True, slots=True)
class _Col:
    name: str


@dataclass(frozen=True, slots=True)
class _Lit:
    text: str
    quoted: bool


@dataclass(frozen=True, slots=True)
class _Cast:
    inner: _Node
    type: str


@dataclass(frozen=True, slots=True)
class _Neg:
    inner: _Node


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    args: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Array:
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Test:
    """A predicate: op is a comparison, "between", "in", "any" (``= ANY``) or "notnull"."""

    op: str
    args: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _And:
    parts: tuple[tuple[_Node, str], ...]  # each conjunct with its text


@dataclass(frozen=True, slots=True)
class _Opaque:
    """Valid syntax with no rule: OR, NOT, arithmetic, an unknown name, ..."""


_OPAQUE = _Opaque()
_Node = _Col | _Lit | _Cast | _Neg | _Call | _Array | _Test | _And | _Opaque

_COMPARE = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "==": "=", "<>": "<>",
            "!=": "<>"}
_TYPE_WORDS = {"precision", "varying", "with", "without", "time", "zone"}
_PATTERN_WORDS = ("LIKE", "ILIKE", "GLOB", "REGEXP", "MATCH", "SIMILAR")


class _Parser:
    def __init__(self, sql: str, columns: Collection[str], value_column: str | None) -> None:
        self.sql = sql
        self.tokens, self.pairs = _tokenize(sql)
        self.i = 0
        self.columns = columns
        self.value_column = value_column

    def check(self) -> list[tuple[_Node, str]]:
        """``[CONSTRAINT name] [CHECK] expr [NOT VALID] [NO INHERIT]``, split at top-level ANDs."""
        if self._word("CONSTRAINT"):
            self._name()
        self._word("CHECK")
        start = self.i
        node = self._expr()
        end = self.i
        while self._word("NOT", "VALID") or self._word("NO", "INHERIT"):
            pass
        if self.i != len(self.tokens):
            raise _Syntax
        return list(_conjuncts(node, self._text(start, end)))

    # --- token helpers
    def _peek(self, ahead: int = 0) -> _Token | None:
        n = self.i + ahead
        return self.tokens[n] if n < len(self.tokens) else None

    def _next(self) -> _Token:
        tok = self._peek()
        if tok is None:
            raise _Syntax
        self.i += 1
        return tok

    def _at(self, text: str, ahead: int = 0) -> bool:
        tok = self._peek(ahead)
        return tok is not None and tok.kind in ("op", "punct") and tok.text == text

    def _is_word(self, ahead: int, *words: str) -> bool:
        tok = self._peek(ahead)
        return tok is not None and tok.kind == "id" and tok.text.upper() in words

    def _word(self, *words: str) -> bool:
        """Consume the unquoted words in sequence if they are next."""
        if all(self._is_word(n, w) for n, w in enumerate(words)):
            self.i += len(words)
            return True
        return False

    def _expect(self, text: str) -> None:
        if not self._at(text):
            raise _Syntax
        self.i += 1

    def _name(self) -> str:
        tok = self._next()
        if tok.kind == "id":
            return tok.text.lower()
        if tok.kind == "qid":
            return tok.text[1:-1].replace(tok.text[0] * 2, tok.text[0])
        raise _Syntax

    def _text(self, i: int, j: int) -> str:
        """The source of tokens i..j-1 without the parentheses wrapped around all of it."""
        while j - i >= 2 and self.pairs.get(i) == j - 1:
            i, j = i + 1, j - 1
        return self.sql[self.tokens[i].start:self.tokens[j - 1].end] if i < j else ""

    # --- grammar
    def _expr(self) -> _Node:
        node = self._conj()
        while self._word("OR"):
            self._conj()
            node = _OPAQUE
        return node

    def _conj(self) -> _Node:
        parts: list[tuple[_Node, str]] = []
        while not parts or self._word("AND"):
            start = self.i
            parts.append((self._not(), self._text(start, self.i)))
        return parts[0][0] if len(parts) == 1 else _And(tuple(parts))

    def _not(self) -> _Node:
        if self._word("NOT"):
            self._not()
            return _OPAQUE
        return self._predicate()

    def _predicate(self) -> _Node:
        left = self._sum()
        tok = self._peek()
        if tok is not None and tok.kind == "op" and tok.text in _COMPARE:
            self.i += 1
            op = _COMPARE[tok.text]
            if self._is_word(0, "ANY", "SOME", "ALL") and self._at("(", 1):
                is_any = self._next().text.upper() != "ALL"
                self._expect("(")
                array = self._expr()
                self._expect(")")
                return _Test("any", (left, array)) if op == "=" and is_any else _OPAQUE
            return _Test(op, (left, self._sum()))
        if self._word("IS"):
            negated = self._word("NOT")
            if self._word("NULL"):
                return _Test("notnull", (left,)) if negated else _OPAQUE
            if self._word("DISTINCT", "FROM"):
                self._sum()
            else:
                self._name()  # TRUE, FALSE, UNKNOWN
            return _OPAQUE
        if self._word("NOTNULL") or self._word("NOT", "NULL"):
            return _Test("notnull", (left,))
        if self._word("ISNULL"):
            return _OPAQUE
        negated = self._is_word(0, "NOT") and self._is_word(1, "BETWEEN", "IN", *_PATTERN_WORDS)
        self.i += negated
        if self._word("BETWEEN"):
            low = self._sum()
            if not self._word("AND"):
                raise _Syntax
            high = self._sum()
            return _OPAQUE if negated else _Test("between", (left, low, high))
        if self._word("IN"):
            items = self._list("(", ")")
            return _OPAQUE if negated else _Test("in", (left, *items))
        if self._is_word(0, *_PATTERN_WORDS):
            self.i += 1
            self._sum()
            return _OPAQUE
        return left

    def _sum(self) -> _Node:
        node = self._unary()
        while (tok := self._peek()) is not None and tok.kind == "op" and tok.text not in _COMPARE:
            self.i += 1
            self._unary()
            node = _OPAQUE
        return node

    def _unary(self) -> _Node:
        tok = self._peek()
        if tok is not None and tok.kind == "op" and tok.text not in _COMPARE:
            self.i += 1
            inner = self._unary()
            if tok.text == "-":
                return _Neg(inner)
            return inner if tok.text == "+" else _OPAQUE
        node = self._primary()
        while True:
            if self._at("::"):
                self.i += 1
                node = _Cast(node, self._type())
            elif self._at("["):
                self._list("[", "]")
                node = _OPAQUE
            elif self._word("COLLATE"):
                self._name()
                node = _OPAQUE
            else:
                return node

    def _primary(self) -> _Node:
        tok = self._next()
        if tok.kind == "num":
            return _Lit(tok.text, quoted=False)
        if tok.kind == "str":
            return _Lit(tok.text[1:-1].replace("''", "'"), quoted=True)
        if tok.text == "(" and tok.kind == "punct":
            node = self._expr()
            if self._at(","):  # a row (a, b)
                self.i += 1
                self._list(None, ")")
                return _OPAQUE
            self._expect(")")
            return node
        if tok.kind == "id" and tok.text.upper() == "ARRAY" and self._at("["):
            return _Array(self._list("[", "]"))
        if tok.kind not in ("id", "qid"):
            raise _Syntax
        self.i -= 1
        quoted, name = tok.kind == "qid", self._name()
        if self._at("("):
            return _Call(name, self._list("(", ")"))
        return self._column(tok.text if not quoted else name, quoted)

    def _list(self, open_: str | None, close: str) -> tuple[_Node, ...]:
        """``open_ [expr {, expr}] close``; without open_ the list has already begun."""
        if open_ is not None:
            self._expect(open_)
            if self._at(close):
                self.i += 1
                return ()
        items = [self._expr()]
        while self._at(","):
            self.i += 1
            items.append(self._expr())
        self._expect(close)
        return tuple(items)

    def _type(self) -> str:
        """A type name after ``::``: ``double precision``, ``numeric(6,2)``, ``text[]``, ..."""
        name = self._name()
        while self._at("."):
            self.i += 1
            name += "." + self._name()
        while self._is_word(0, *(w.upper() for w in _TYPE_WORDS)):
            name += " " + self._name()
        if self._at("("):
            name += "(" + ",".join(_source(n) for n in self._list("(", ")")) + ")"
        while self._at("[") and self._at("]", 1):
            self.i += 2
            name += "[]"
        return name

    def _column(self, name: str, quoted: bool) -> _Node:
        """A column in ``columns``; an unquoted name means its lower case in PostgreSQL, and
        SQLite ignores case, so both are tried (lower case first)."""
        if not quoted and self.value_column is not None and name.upper() == "VALUE":
            return _Col(self.value_column)
        for candidate in (name,) if quoted else (name.lower(), name):
            if candidate in self.columns:
                return _Col(candidate)
        return _OPAQUE


def _source(node: _Node) -> str:
    return node.text if isinstance(node, _Lit) else "?"


def _conjuncts(node: _Node, text: str) -> Iterator[tuple[_Node, str]]:
    if isinstance(node, _And):
        for part, part_text in node.parts:
            yield from _conjuncts(part, part_text)
    else:
        yield node, text


# ---------------------------------------------------------------------------- meaning

_INTEGERS = {"smallint", "integer", "bigint", "int", "int2", "int4", "int8"}
_NUMERICS = _INTEGERS | {"numeric", "decimal", "real", "double precision", "float4", "float8"}
# casts of a column that keep comparisons as they were: PostgreSQL widens an integer column
# to compare it with a decimal literal; a varchar is compared as text (only equality is kept:
# a cast to text would change the order of numbers)
_WIDEN = {"numeric", "decimal", "double precision", "float8"}
_TEXT = {"text", "character varying", "varchar"}
_ARRAYS = {t + "[]" for t in _WIDEN | _TEXT}
_LENGTHS = {"length": False, "char_length": False, "character_length": False,
            "octet_length": True}
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}


def _number(text: str) -> int | float | None:
    if not _NUMBER.fullmatch(text):
        return None
    if text.lstrip("+-").isdigit():
        return int(text)
    number = float(text)
    return number if math.isfinite(number) else None  # 1e999 is no float


def _value(node: _Node) -> Value | None:
    """The constant a literal stands for: ``'-90'::integer`` is -90, ``'2000-01-01'::date``
    the text; None when it is no constant or its cast could change it (``(1.5)::integer``)."""
    if isinstance(node, _Lit):
        return node.text if node.quoted else _number(node.text)
    if isinstance(node, _Neg):
        inner = _value(node.inner)
        return -inner if isinstance(inner, int | float) else None
    if not isinstance(node, _Cast):
        return None
    inner = _value(node.inner)
    if node.type in _NUMERICS:
        number = _number(inner) if isinstance(inner, str) else inner
        if node.type in _INTEGERS and not isinstance(number, int):
            return None
        return number
    plain = "(" not in node.type and not node.type.endswith("]")
    return inner if plain and isinstance(inner, str) else None


def _column(node: _Node, casts: Collection[str]) -> str | None:
    while isinstance(node, _Cast) and node.type in casts:
        node = node.inner
    return node.name if isinstance(node, _Col) else None


def _length_of(node: _Node) -> tuple[str, bool] | None:
    """``length(col)`` and kin: the column and whether it counts bytes."""
    if isinstance(node, _Call) and node.name in _LENGTHS and len(node.args) == 1:
        column = _column(node.args[0], _TEXT)
        return None if column is None else (column, _LENGTHS[node.name])
    return None


def _rule(node: _Node) -> Rule | None:
    if not isinstance(node, _Test):
        return None
    args = node.args
    if node.op == "notnull":
        inner = args[0]
        while isinstance(inner, _Cast):  # a cast keeps NULL and only NULL
            inner = inner.inner
        return NotNull(inner.name) if isinstance(inner, _Col) else None
    if node.op == "between":
        low, high = _value(args[1]), _value(args[2])
        if (length := _length_of(args[0])) is not None:
            if isinstance(low, int) and isinstance(high, int):
                return Length(length[0], low, high, length[1])
            return None
        column = _column(args[0], _WIDEN)
        if column is None or low is None or high is None:
            return None
        return Range(column, low, high)
    if node.op in ("in", "any"):
        items: Sequence[_Node] = args[1:]
        if node.op == "any":
            array = args[1]
            while isinstance(array, _Cast) and array.type in _ARRAYS:
                array = array.inner
            if not isinstance(array, _Array):
                return None
            items = array.items
        column = _column(args[0], _WIDEN | _TEXT)
        values = [_value(item) for item in items]
        if column is None or any(v is None for v in values):
            return None
        return OneOf(column, tuple(v for v in values if v is not None))
    left, op, right = args[0], node.op, args[1]
    if _value(left) is not None:  # 0 < x
        left, op, right = right, _FLIP[op], left
    return _compare(left, op, right)


def _compare(left: _Node, op: str, right: _Node) -> Rule | None:
    bound = _value(right)
    if bound is None:
        a, b = _column(left, _WIDEN), _column(right, _WIDEN)
        return Order(a, op, b) if a and b and op != "=" else None
    if (length := _length_of(left)) is not None:
        if not isinstance(bound, int) or op == "<>":
            return None
        low = {">=": bound, ">": bound + 1, "=": bound}.get(op)
        high = {"<=": bound, "<": bound - 1, "=": bound}.get(op)
        return Length(length[0], low, high, length[1])
    column = _column(left, _WIDEN | _TEXT if op in ("=", "<>") else _WIDEN)
    if column is None:
        return None
    if op == "=":
        return OneOf(column, (bound,))
    if op == "<>":
        return Length(column, 1, None) if bound == "" else None
    if op.startswith(">"):
        return Range(column, bound, None, low_inclusive=op == ">=")
    return Range(column, None, bound, high_inclusive=op == "<=")


def parse_check(sql: str, columns: Collection[str], value_column: str | None = None) -> list[Rule]:
    """The rules of one CHECK constraint; conjuncts not understood come back as ``Unparsed``.

    ``value_column`` names the column a domain's ``VALUE`` stands for.
    """
    try:
        conjuncts = _Parser(sql, columns, value_column).check()
    except (_Syntax, RecursionError):
        return [Unparsed(sql)]
    return [_rule(node) or Unparsed(text) for node, text in conjuncts]


# ---------------------------------------------------------------------------- merging

def _above(a: float | str, b: float | str) -> bool | None:
    """Whether a > b; None when one is text and the other a number."""
    if isinstance(a, str) and isinstance(b, str):
        return a > b
    if not isinstance(a, str) and not isinstance(b, str):
        return a > b
    return None


def _tighter(old: float | str | None, old_inclusive: bool, new: float | str | None,
             new_inclusive: bool, low: bool) -> tuple[float | str | None, bool]:
    if new is None:
        return old, old_inclusive
    if old is None:
        return new, new_inclusive
    if old == new:
        return old, old_inclusive and new_inclusive
    return (new, new_inclusive) if _above(new, old) is low else (old, old_inclusive)


def merge_ranges(rules: Sequence[Rule]) -> dict[str, Range]:
    """Per column the tightest range all its ``Range`` rules allow (text compares as text,
    which orders ISO dates; a text bound never displaces a number or the reverse)."""
    merged: dict[str, Range] = {}
    for rule in rules:
        if not isinstance(rule, Range):
            continue
        old = merged.get(rule.column)
        if old is None:
            merged[rule.column] = rule
            continue
        low = _tighter(old.low, old.low_inclusive, rule.low, rule.low_inclusive, low=True)
        high = _tighter(old.high, old.high_inclusive, rule.high, rule.high_inclusive, low=False)
        merged[rule.column] = Range(rule.column, low[0], high[0], low[1], high[1])
    return merged
