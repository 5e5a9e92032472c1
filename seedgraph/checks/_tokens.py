"""The tokenizer under the CHECK parser: SQL text into tokens, with each ``(`` matched.

Private to :mod:`seedgraph.checks`. It knows the lexical shapes PostgreSQL and SQLite
print (numbers, quoted strings and names, operators, comments) and nothing of their
meaning; text it cannot split, or unbalanced parentheses, raise ``_Syntax``, which
:func:`seedgraph.checks.parse_check` turns into ``Unparsed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["_Syntax", "_Token", "_tokenize"]

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
    """Text the parser cannot read."""


def _tokenize(sql: str) -> tuple[list[_Token], dict[int, int]]:
    """The tokens, ending with an "end" token, and for each ``(`` the index of its ``)``."""
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
    tokens.append(_Token("end", "", len(sql), len(sql)))
    return tokens, pairs
