"""The CHECK parser: a recursive descent over the tokens that evaluates operands as it goes.

Private to :mod:`seedgraph.checks`. ``_Parser`` reads one constraint into conjuncts;
the helpers below it turn an operand or comparison into a rule only when its meaning
is certain (``'-90'::integer`` is -90, ``(code)::text`` is the column code cast to
text) and into ``_OPAQUE`` otherwise. :func:`parse_check` is the public entry point.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from seedgraph.checks._tokens import _Syntax, _Token, _tokenize
from seedgraph.checks.rules import Length, NotNull, OneOf, Order, Range, Rule, Unparsed, Value

__all__ = ["parse_check"]

_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_COMPARE = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "==": "=", "<>": "<>",
            "!=": "<>"}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}
_TYPE_WORDS = ("PRECISION", "VARYING", "WITH", "WITHOUT", "TIME", "ZONE")
_PATTERNS = ("LIKE", "ILIKE", "GLOB", "REGEXP", "MATCH", "SIMILAR")
_INTEGERS = {"smallint", "integer", "bigint", "int", "int2", "int4", "int8"}
_NUMERICS = _INTEGERS | {"numeric", "decimal", "real", "double precision", "float4", "float8"}
# Casts of a column that keep a comparison as it was: PostgreSQL widens an integer column to
# compare it with a decimal, and compares a varchar as text (for equality only: a cast to text
# would reorder numbers).
_WIDEN = {"numeric", "decimal", "double precision", "float8"}
_TEXT = {"text", "character varying", "varchar"}
_ARRAYS = {t + "[]" for t in _WIDEN | _TEXT}
_LENGTHS = {"length": False, "char_length": False, "character_length": False,
            "octet_length": True}


# What the parser makes of an operand or a predicate.
@dataclass(frozen=True, slots=True)
class _Col:
    name: str
    casts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Const:
    value: Value


@dataclass(frozen=True, slots=True)
class _Len:
    column: str
    bytes: bool


@dataclass(frozen=True, slots=True)
class _Array:
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class _Pred:
    rule: Rule | None


@dataclass(frozen=True, slots=True)
class _And:
    parts: tuple[tuple[_Node, str], ...]  # each conjunct with its text


@dataclass(frozen=True, slots=True)
class _Opaque:
    """Anything without a rule: OR, NOT, arithmetic, an unknown name, a function call."""


_OPAQUE = _Opaque()
_Node = _Col | _Const | _Len | _Array | _Pred | _And | _Opaque


class _Parser:
    def __init__(self, sql: str, columns: Collection[str], value_column: str | None) -> None:
        self.sql = sql
        self.tokens, self.pairs = _tokenize(sql)
        self.i = 0
        self.columns = columns
        self.value_column = value_column

    def check(self) -> list[tuple[_Node, str]]:
        """``[CONSTRAINT name] [CHECK] expr [NOT VALID] [NO INHERIT]``, split at its ANDs."""
        if self._word("CONSTRAINT"):
            self._name()
        self._word("CHECK")
        start = self.i
        node = self._expr()
        end = self.i
        while self._word("NOT", "VALID") or self._word("NO", "INHERIT"):
            pass
        if self._peek().kind != "end":
            raise _Syntax
        return list(_conjuncts(node, self._text(start, end)))

    def _peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def _at(self, text: str, ahead: int = 0) -> bool:
        tok = self._peek(ahead)
        return tok.kind in ("op", "punct") and tok.text == text

    def _is_word(self, ahead: int, *words: str) -> bool:
        tok = self._peek(ahead)
        return tok.kind == "id" and tok.text.upper() in words

    def _word(self, *words: str) -> bool:
        """Consume the unquoted words if they come next, in this order."""
        if all(self._is_word(n, w) for n, w in enumerate(words)):
            self.i += len(words)
            return True
        return False

    def _expect(self, text: str) -> None:
        if not self._at(text):
            raise _Syntax
        self.i += 1

    def _name(self) -> str:
        tok = self._peek()
        self.i += 1
        if tok.kind == "id":
            return tok.text.lower()
        if tok.kind == "qid":
            return tok.text[1:-1].replace(tok.text[0] * 2, tok.text[0])
        raise _Syntax

    def _text(self, i: int, j: int) -> str:
        """The source of tokens i..j-1 without parentheses around all of it."""
        while j - i >= 2 and self.pairs.get(i) == j - 1:
            i, j = i + 1, j - 1
        return self.sql[self.tokens[i].start:self.tokens[j - 1].end] if i < j else ""

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
        if tok.kind == "op" and tok.text in _COMPARE:
            self.i += 1
            op = _COMPARE[tok.text]
            if self._is_word(0, "ANY", "SOME", "ALL") and self._at("(", 1):
                every = self._name() == "all"
                array = self._primary()  # ANY's parentheses hold an array
                if op != "=" or every or not isinstance(array, _Array):
                    return _OPAQUE
                return _Pred(_one_of(left, array.values))
            return _Pred(_compare(left, op, self._sum()))
        if self._word("IS", "NOT", "NULL") or self._word("NOT", "NULL") or self._word("NOTNULL"):
            return _Pred(_not_null(left))
        if self._word("IS"):  # IS [NOT] NULL / TRUE / FALSE / UNKNOWN
            self._word("NOT")
            self._name()
            return _OPAQUE
        negated = self._is_word(0, "NOT") and self._is_word(1, "BETWEEN", "IN", *_PATTERNS)
        if negated:
            self.i += 1
        if self._word("BETWEEN"):
            low = self._sum()
            if not self._word("AND"):
                raise _Syntax
            rule = _between(left, low, self._sum())
        elif self._word("IN"):
            rule = _one_of(left, _values(self._list("(", ")")))
        elif self._is_word(0, *_PATTERNS):
            self.i += 1
            self._sum()
            return _OPAQUE
        else:
            return left
        return _OPAQUE if negated else _Pred(rule)

    def _sum(self) -> _Node:
        """Arithmetic, concatenation or any other operator: no rule, but read past it."""
        node = self._unary()
        while self._peek().kind == "op" and self._peek().text not in _COMPARE:
            self.i += 1
            self._unary()
            node = _OPAQUE
        return node

    def _unary(self) -> _Node:
        tok = self._peek()
        if tok.kind == "op" and tok.text not in _COMPARE:
            self.i += 1
            inner = self._unary()
            if tok.text == "+":
                return inner
            if tok.text == "-" and isinstance(inner, _Const) and not isinstance(inner.value, str):
                return _Const(-inner.value)
            return _OPAQUE
        node = self._primary()
        while self._at("::"):
            self.i += 1
            node = _cast(node, self._type())
        return node

    def _primary(self) -> _Node:
        tok = self._peek()
        self.i += 1
        if tok.kind == "num":
            number = _number(tok.text)
            return _OPAQUE if number is None else _Const(number)
        if tok.kind == "str":
            return _Const(tok.text[1:-1].replace("''", "'"))
        if tok.kind == "punct" and tok.text == "(":
            node = self._expr()
            self._expect(")")
            return node
        if tok.kind == "id" and tok.text.upper() == "ARRAY" and self._at("["):
            values = _values(self._list("[", "]"))
            return _OPAQUE if values is None else _Array(values)
        self.i -= 1
        name = self._name()
        if self._at("("):
            return _length(name, self._list("(", ")"))
        return self._resolve(name if tok.kind == "qid" else tok.text, quoted=tok.kind == "qid")

    def _list(self, open_: str, close: str) -> list[_Node]:
        self._expect(open_)
        items = [] if self._at(close) else [self._expr()]
        while items and self._at(","):
            self.i += 1
            items.append(self._expr())
        self._expect(close)
        return items

    def _type(self) -> str:
        """A type after ``::``: ``double precision``, ``numeric(6,2)``, ``text[]``, ``s.t``."""
        name = self._name()
        while self._at("."):
            self.i += 1
            name += "." + self._name()
        while self._is_word(0, *_TYPE_WORDS):
            name += " " + self._name()
        if self._at("("):
            start = self.i
            self.i = self.pairs[start] + 1
            name += "".join(t.text for t in self.tokens[start:self.i])
        while self._at("[") and self._at("]", 1):
            self.i += 2
            name += "[]"
        return name

    def _resolve(self, name: str, quoted: bool) -> _Node:
        """A column in ``columns``. PostgreSQL reads an unquoted name in lower case and SQLite
        ignores case, so an unquoted name is tried in lower case first."""
        if not quoted and self.value_column is not None and name.upper() == "VALUE":
            return _Col(self.value_column)
        if not quoted and name.upper() in ("NULL", "TRUE", "FALSE"):
            return _OPAQUE
        for candidate in (name,) if quoted else (name.lower(), name):
            if candidate in self.columns:
                return _Col(candidate)
        return _OPAQUE


def _conjuncts(node: _Node, text: str) -> Iterator[tuple[_Node, str]]:
    if isinstance(node, _And):
        for part, part_text in node.parts:
            yield from _conjuncts(part, part_text)
    else:
        yield node, text


def _number(text: str) -> int | float | None:
    if not _NUMBER.fullmatch(text):
        return None
    if text.lstrip("+-").isdigit():
        return int(text)
    number = float(text)
    return number if math.isfinite(number) else None  # 1e999 is no float


def _cast(node: _Node, type_: str) -> _Node:
    """``node::type_``: a constant converted (None if the cast could change it, as
    ``(1.5)::integer`` would), a column remembering the cast, an array cast to text[]."""
    if isinstance(node, _Col):
        return _Col(node.name, (*node.casts, type_))
    if isinstance(node, _Array) and type_ in _ARRAYS:
        return node
    if not isinstance(node, _Const):
        return _OPAQUE
    value: Value | None = node.value
    if type_ in _NUMERICS:
        value = _number(value) if isinstance(value, str) else value
        if type_ in _INTEGERS and not isinstance(value, int):
            value = None
    elif not isinstance(value, str) or "(" in type_ or "[" in type_:
        value = None  # (5)::text, 'a'::varchar(1)
    return _OPAQUE if value is None else _Const(value)


def _length(function: str, args: Sequence[_Node]) -> _Node:
    if function in _LENGTHS and len(args) == 1 and (column := _column(args[0], _TEXT)):
        return _Len(column, _LENGTHS[function])
    return _OPAQUE


def _values(items: Sequence[_Node]) -> tuple[Value, ...] | None:
    values = tuple(item.value for item in items if isinstance(item, _Const))
    return values if len(values) == len(items) else None


def _column(node: _Node, casts: Collection[str]) -> str | None:
    if isinstance(node, _Col) and all(cast in casts for cast in node.casts):
        return node.name
    return None


def _not_null(node: _Node) -> Rule | None:
    return NotNull(node.name) if isinstance(node, _Col) else None  # any cast keeps NULL


def _equal_column(node: _Node) -> str | None:
    """The column of an equality: widened, or compared as text, but not both (``'05'::numeric``
    equals 5)."""
    return _column(node, _WIDEN) or _column(node, _TEXT)


def _one_of(node: _Node, values: tuple[Value, ...] | None) -> Rule | None:
    column = _equal_column(node)
    return None if column is None or values is None else OneOf(column, values)


def _between(node: _Node, low: _Node, high: _Node) -> Rule | None:
    if not isinstance(low, _Const) or not isinstance(high, _Const):
        return None
    if isinstance(node, _Len):
        if isinstance(low.value, int) and isinstance(high.value, int):
            return Length(node.column, low.value, high.value, node.bytes)
        return None
    column = _column(node, _WIDEN)
    return None if column is None else Range(column, low.value, high.value)


def _compare(left: _Node, op: str, right: _Node) -> Rule | None:
    if isinstance(left, _Const):  # 0 < x
        left, op, right = right, _FLIP[op], left
    if not isinstance(right, _Const):
        a, b = _column(left, _WIDEN), _column(right, _WIDEN)
        return Order(a, op, b) if a and b and op != "=" else None
    bound = right.value
    if isinstance(left, _Len):
        if not isinstance(bound, int) or op == "<>":
            return None
        low = {">=": bound, ">": bound + 1, "=": bound}.get(op)
        high = {"<=": bound, "<": bound - 1, "=": bound}.get(op)
        return Length(left.column, low, high, left.bytes)
    column = _equal_column(left) if op in ("=", "<>") else _column(left, _WIDEN)
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
    rules = [node.rule if isinstance(node, _Pred) else None for node, _ in conjuncts]
    return [rule or Unparsed(text) for rule, (_, text) in zip(rules, conjuncts, strict=True)]
