"""One table's module: the generator each column gets, and why, written as Python.

``_TableCode`` chooses per column, in order: what fills it without us, its
constraints, its name, then its type (see :mod:`seedgraph.infer`), and renders the
task: reads of parent keys, row-count caps, one ``cols[...] = ...`` line per column
with a comment saying why, then the write. The text is part of each task's
fingerprint, so any change to it reruns every inferred table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import networkx as nx
import sqlalchemy as sa

from seedgraph.backends.kinds import kind_for
from seedgraph.backends.reflect import LiveSchema
from seedgraph.checks import Length, OneOf, Order, Range, Unparsed, parse_check
from seedgraph.columns import ColumnKind
from seedgraph.infer.meaning import other_generator, text_generator
from seedgraph.infer.overrides import Override, override_expr
from seedgraph.infer.render import comment, docline, wrap
from seedgraph.infer.schema import (
    INTS,
    TIMES,
    K,
    _base,
    _bounds,
    _describe,
    _partition_expr,
    _type_sql,
    _unique_sets,
)

__all__ = ["DEFAULT_ROWS", "NULL_RATE", "_TableCode"]

DEFAULT_ROWS = 100
NULL_RATE = 0.1



def column_rules(table: sa.Table) -> dict[str, list[object]]:
    """The rules of *table*'s CHECKs (and its columns' domains') by column; "" holds
    those naming no single column (what was not understood among them)."""
    names = [c.name for c in table.columns]
    out: dict[str, list[object]] = {}
    for ck in table.constraints:
        if isinstance(ck, sa.CheckConstraint):
            for rule in parse_check(str(ck.sqltext), names):
                key = rule.left if isinstance(rule, Order) else getattr(rule, "column", "")
                out.setdefault(key, []).append(rule)
    for c in table.columns:
        check = getattr(c.type, "check", None)
        if check is not None:  # a domain's CHECK on VALUE
            for rule in parse_check(str(check), [c.name], value_column=c.name):
                out.setdefault(c.name, []).append(rule)
    return out


def not_understood(rules: Mapping[str, list[object]], name: str) -> str:
    """The text of a CHECK naming column *name* that was not understood, or ""."""
    for rule in rules.get("", []):
        if isinstance(rule, Unparsed) and re.search(
                rf"(?<![\w$]){re.escape(name)}(?![\w$])", rule.sql, re.IGNORECASE):
            return rule.sql
    return ""


def length_bounds(table: sa.Table, rules: Mapping[str, list[object]], name: str
                  ) -> tuple[int | None, int | None]:
    """(min, max) length of text column *name*: its CHECKs and its declared length."""
    length = [r for r in rules.get(name, []) if isinstance(r, Length)]
    declared = getattr(_base(table.c[name].type), "length", None)
    highs = [r.max for r in length if r.max is not None] + ([declared] if declared else [])
    lows = [r.min for r in length if r.min is not None]
    return max(lows, default=None), min(highs, default=None)


@dataclass
class _Column:
    col: sa.Column[object]
    kind: ColumnKind
    expr: str = ""
    why: str = ""


class _TableCode:
    def __init__(self, table: sa.Table, schema: LiveSchema, graph: nx.DiGraph,
                 nulled: Iterable[str], factor: float,
                 overrides: Mapping[str, Override] | None = None) -> None:
        self.t = table
        self.schema = schema
        self.dialect = schema.dialect
        self.parents = sorted(graph.predecessors(table.name))
        self.nulled = set(nulled)
        self.factor = factor
        self.overrides = dict(overrides or {})
        self.problem = ""
        self.reads: list[tuple[str, list[str]]] = []  # (table, columns)
        self.caps: list[tuple[str, str]] = []  # (expression n must not exceed, why)
        self.lines: list[str] = []
        self.pk = [c.name for c in table.primary_key.columns]
        self.uniques = _unique_sets(table)
        self.rules = self._rules()
        self.guaranteed: set[tuple[str, ...]] = set()  # unique sets true by construction
        self.imports: set[str] = set()  # from seedgraph.cycles (a cycle's placeholders)

    # -- facts ------------------------------------------------------------------

    def _rules(self) -> dict[str, list[object]]:
        return column_rules(self.t)

    def _not_understood(self, name: str) -> str:
        """The text of a CHECK naming column *name* that was not understood, or ""."""
        return not_understood(self.rules, name)

    def _read(self, parent: str, columns: list[str]) -> str:
        for i, (t, cols) in enumerate(self.reads):
            if t == parent:
                cols.extend(c for c in columns if c not in cols)
                return f"up{i}"
        self.reads.append((parent, list(columns)))
        return f"up{len(self.reads) - 1}"

    def _unique(self, name: str) -> bool:
        return any(s == (name,) for s in self.uniques)

    # -- rendering ----------------------------------------------------------------

    def render(self) -> str:
        cols = [_Column(c, kind_for(c.type, self.dialect)) for c in self.t.columns]
        by = {c.col.name: c for c in cols}
        done: set[str] = set()
        self._pairs(by, done)
        # keys first: a self-reference and a composite key's parts read them
        for c in sorted(cols, key=lambda c: c.col.name not in self.pk):
            if c.col.name not in done and not c.expr:  # a composite key's parts are set
                self._choose(c, by)
        return self._module(self._body(cols))

    def _later(self, name: str) -> tuple[str, str] | None:
        """(earlier column, CHECK text) when a CHECK orders *name* after another column
        of the same kind of value (``started_at < ended_at``)."""
        for rules in self.rules.values():
            for r in rules:
                if not isinstance(r, Order) or r.op not in ("<", "<=", ">", ">="):
                    continue
                early, late = (r.left, r.right) if r.op in ("<", "<=") else (r.right, r.left)
                if late == name and early != name and early in self.t.c \
                        and self._fk_of(early) is None:
                    return early, f"{r.left} {r.op} {r.right}"
        return None

    def _choose(self, c: _Column, by: dict[str, _Column]) -> None:
        col, name = c.col, c.col.name
        arg = getattr(col.server_default, "arg", None)
        default = "" if arg is None else str(arg)
        fk = self._fk_of(name)
        if col.computed is not None:
            c.why = "generated by the database"
        elif col.identity is not None and col.identity.always:
            c.why = "identity GENERATED ALWAYS: the database numbers it"
        elif name in self.schema.trigger_filled.get(self.t.name, ()):
            c.why = "filled by a BEFORE INSERT trigger"
        elif self.pk == [name] and c.kind in INTS and fk is None:
            c.expr, c.why = "gen.ids(n)", "primary key 1..n (sequences move past it after the load)"
        elif "nextval(" in default:
            c.why = "numbered by its sequence"
        elif name in self.overrides and fk is None and name not in self.nulled:
            unique = self._unique(name)
            c.expr, c.why = override_expr(self.overrides[name], c.kind, unique)
            if unique and "values" in self.overrides[name]:
                count = len(self.overrides[name]["values"])
                self.caps.append((str(count), f"unique {self.t.name}.{name} has {count} "
                                              "values given in [columns]"))
        elif name in self.nulled and col.nullable:
            c.expr, c.why = "[None] * n", ("NULL for now: its foreign key closes a cycle; "
                                           "filled in once the cycle's tables are loaded")
        elif name in self.nulled:
            c.expr = self._placeholder(c)
            c.why = ("placeholder (its foreign key closes a cycle): filled in once the "
                     "cycle's tables are loaded")
        elif col.nullable and (sql := self._not_understood(name)):
            c.expr, c.why = "[None] * n", f"NULL: a CHECK seedgraph does not understand: {sql}"
        elif fk is not None:
            self._foreign(c, fk, by)
        else:
            self._value(c)
        if c.expr and col.nullable and name not in self.pk and not self._unique(name) \
                and not c.expr.startswith(("gen.hierarchy", "[None]")):
            c.expr = f"gen.with_nulls(rng, {c.expr}, {NULL_RATE})"
        if not c.expr and not (col.nullable or col.server_default is not None
                               or col.computed is not None or c.why):
            self.problem = self.problem or (
                f"column {self.t.name}.{name} has type {col.type} which seedgraph cannot "
                "generate; write a task for this table (--pack P --auto) or leave it out "
                "with --exclude")
        if not c.expr and not c.why:
            c.why = f"left to the database (type {col.type}: no generator)"

    def _placeholder(self, c: _Column) -> str:
        """Values no real key takes for NOT NULL column *c*, whose foreign key closes a
        cycle (the graph allows only these kinds there)."""
        if c.kind is K.UUID:
            self.imports.add("placeholder_uuids")
            return "placeholder_uuids(n)"
        if c.kind is K.TEXT:
            self.imports.add("placeholder_texts")
            low, high = length_bounds(self.t, self.rules, c.col.name)
            args = ["n", *([f"max_len={high}"] if high is not None else []),
                    *([f"min_len={low}"] if low else []),
                    *([] if any(c.col.name in s for s in self.uniques) else ["distinct=False"])]
            return f"placeholder_texts({', '.join(args)})"
        return "-gen.ids(n)"

    def _fk_of(self, name: str) -> sa.ForeignKeyConstraint | None:
        for fk in self.t.foreign_key_constraints:
            if name in [c.name for c in fk.columns]:
                return fk
        return None

    def _foreign(self, c: _Column, fk: sa.ForeignKeyConstraint, by: dict[str, _Column]) -> None:
        parent = fk.referred_table.name
        local = [col.name for col in fk.columns]
        remote = [e.column.name for e in fk.elements]
        if parent == self.t.name:
            key = by.get(remote[0])
            if len(local) == 1 and key is not None and key.expr:
                c.expr = (f"gen.hierarchy(rng, cols[{remote[0]!r}], "
                          f"nullable={bool(c.col.nullable)})")
                c.why = f"self-reference to {remote[0]}: a tree, roots first"
            else:
                c.expr, c.why = "[None] * n", "self-reference written NULL"
            return
        if parent not in self.parents:
            c.expr, c.why = "[None] * n", f"parent table {parent!r} is not seeded"
            return
        up = self._read(parent, remote)
        if len(local) == 1:
            keys = f"{up}[{remote[0]!r}]"
            if self._unique(c.col.name):
                self.caps.append((f"len({keys})", f"unique {self.t.name}.{c.col.name} "
                                  f"takes each {parent}.{remote[0]} once"))
                c.expr, c.why = f"gen.unique_choice(rng, {keys}, n)", \
                    f"one-to-one with {parent}.{remote[0]}"
            else:
                c.expr, c.why = f"gen.foreign_keys(rng, {keys}, n)", \
                    f"foreign key to {parent}.{remote[0]}"
            return
        pick = f"pick_{local[0]}"
        for lname, rname in zip(local, remote, strict=True):
            other = by[lname]
            other.expr = f"{up}[{rname!r}][{pick}]"
            other.why = f"composite foreign key to {parent}({', '.join(remote)})"
        self.lines.append(f"{pick} = gen.integers(rng, n, 0, len({up}[{remote[0]!r}]) - 1)")

    def _pairs(self, by: dict[str, _Column], done: set[str]) -> None:
        """A composite unique (or key) of two single-column foreign keys: distinct pairs."""
        for cols in self.uniques:
            if len(cols) != 2:
                continue
            fks = [self._fk_of(n) for n in cols]
            if any(f is None or len(f.columns) != 1 or f.referred_table.name not in
                   self.parents for f in fks):
                continue
            keys = []
            for f in fks:
                assert f is not None
                remote = next(iter(f.elements)).column.name
                keys.append(f"{self._read(f.referred_table.name, [remote])}[{remote!r}]")
            self.caps.append((f"len({keys[0]}) * len({keys[1]})",
                              f"unique {self.t.name}({', '.join(cols)}) pairs its parents' keys"))
            self.lines.append(f"pair = gen.unique_pairs(rng, {keys[0]}, {keys[1]}, n)")
            for i, n in enumerate(cols):
                by[n].expr, by[n].why = f"pair[{i}]", f"unique together with {cols[1 - i]}"
                done.add(n)
            self.guaranteed.add(cols)
            return

    def _value(self, c: _Column) -> None:
        name, kind = c.col.name, c.kind
        rules = self.rules.get(name, [])
        unique = self._unique(name) or any(name in s and self._free_in(s, name)
                                           for s in self.uniques)
        part = self.schema.partitions.get(self.t.name)
        one_of = next((r for r in rules if isinstance(r, OneOf)), None)
        ranges = [r for r in rules if isinstance(r, Range)]
        length = [r.max for r in rules if isinstance(r, Length) and r.max is not None]
        declared = getattr(_base(c.col.type), "length", None)
        max_len = min([*length, *([declared] if declared else [])], default=None)
        later = self._later(name)
        enum = getattr(_base(c.col.type), "enums", None)
        within = self._numbered_within(name)
        if part is not None and part.column == name:
            c.expr, c.why = _partition_expr(part, kind), "inside the table's partitions"
        elif kind is K.OTHER:
            found = other_generator(c.col.type)
            if found is not None:
                c.expr, c.why = found
        elif enum or one_of is not None:
            values = list(enum) if enum else list(one_of.values)  # type: ignore[union-attr]
            what = "enum" if enum else "CHECK list"
            c.expr = (f"gen.unique_choice(rng, {values!r}, n)" if unique
                      else f"gen.choice(rng, {values!r}, n)")
            c.why = what
            if unique:
                self.caps.append((str(len(values)), f"unique {self.t.name}.{name} "
                                  f"{'is an enum' if enum else 'has a CHECK list'} "
                                  f"of {len(values)} values"))
        elif within is not None:
            c.expr = f"gen.numbered_within(cols[{within!r}])"
            c.why = f"numbered 1, 2, ... within each {within} (unique together)"
        elif later is not None and kind in TIMES | {K.DATE} | INTS | {K.NUMERIC, K.FLOAT8}:
            c.expr = f"gen.after(rng, cols[{later[0]!r}])"
            c.why = f"after {later[0]} (CHECK {later[1]})"
        else:
            c.expr, c.why = self._by_name_or_type(c, unique, ranges, max_len)

    def _numbered_within(self, name: str) -> str | None:
        """The foreign key column that *name* numbers rows within, when (fk, name) is
        unique together and *name* is an integer (line numbers, edition numbers)."""
        if kind_for(self.t.c[name].type, self.dialect) not in INTS:
            return None
        for cols in self.uniques:
            if len(cols) == 2 and name in cols:
                other = cols[1 - cols.index(name)]
                fk = self._fk_of(other)
                if fk is not None and len(fk.columns) == 1 and self._fk_of(name) is None:
                    return other
        return None

    def _free_in(self, cols: tuple[str, ...], name: str) -> bool:
        """*name* is the column that makes composite unique *cols* unique: the first of
        them that is neither a foreign key nor a list of values."""
        for n in cols:
            col = self.t.c[n]
            if self._fk_of(n) is None and not getattr(col.type, "enums", None) and \
                    not any(isinstance(r, OneOf) for r in self.rules.get(n, [])):
                return n == name
        return False

    def _by_name_or_type(self, c: _Column, unique: bool, ranges: list[Range],
                         max_len: int | None) -> tuple[str, str]:
        name, kind = c.col.name, c.kind
        low, high = _bounds(ranges)
        if kind in INTS:
            lo = int(low) if low is not None else 1
            hi = int(high) if high is not None else max(lo, 1000 if not unique else 2**31 - 1)
            why = "CHECK range" if ranges else "integer"
            if unique:
                return f"gen.unique_integers(rng, n, {lo}, {hi})", f"unique {why}"
            return f"gen.integers(rng, n, {lo}, {hi})", why
        if kind in (K.FLOAT4, K.FLOAT8, K.NUMERIC):
            scale = getattr(_base(c.col.type), "scale", None)
            precision = getattr(_base(c.col.type), "precision", None)
            top = 1000.0
            if precision and scale is not None:
                top = min(top, 10.0 ** (precision - scale) - 10.0 ** -scale)
            lo_f = float(low) if low is not None else 0.0
            hi_f = float(high) if high is not None else max(lo_f, top)
            why = "CHECK range" if ranges else ("numeric" if kind is K.NUMERIC else "float")
            if kind is K.NUMERIC:
                return f"gen.decimals(rng, n, {lo_f!r}, {hi_f!r}, {scale or 2})", why
            return f"gen.floats(rng, n, {lo_f!r}, {hi_f!r})", why
        if kind is K.BOOL:
            return "gen.booleans(rng, n)", "boolean"
        if kind in TIMES:
            return "gen.timestamps(rng, n, ctx.as_of)", "a time in the year before as_of"
        if kind is K.DATE:
            return "gen.dates(rng, n, ctx.as_of)", "a day in the year before as_of"
        if kind is K.TIME:
            return "gen.times(rng, n)", "time of day"
        if kind is K.UUID:
            return "gen.uuids(rng, n)", "uuid"
        if kind in (K.JSON, K.JSONB):
            return "gen.json_documents(rng, faker, n)", "json"
        if kind is K.TEXT_ARRAY:
            return "gen.text_arrays(rng, faker, n)", "array of words"
        if kind in (K.INT4_ARRAY, K.INT8_ARRAY):
            return "gen.int_arrays(rng, n, 1, 1000)", "array of integers"
        if kind in (K.FLOAT4_ARRAY, K.FLOAT8_ARRAY):
            return "rng.random((n, 8))", "array of 8 floats"
        if kind is K.BYTEA:
            return "gen.byte_strings(rng, n)", "bytes"
        if kind is K.TEXT:
            return text_generator(self.t, name, unique, max_len)
        return "", ""

    def _body(self, cols: list[_Column]) -> list[str]:
        out = [f"up{i} = await ctx.read({parent!r}, {columns!r})"
               for i, (parent, columns) in enumerate(self.reads)]
        out += [f"n = gen.fit(n, {cap}, {why!r}, asked=asked)" for cap, why in self.caps]
        out += self.lines
        out.append("cols: dict[str, Any] = {}")
        # columns computed from other columns (emails from names, ends after starts) last
        for c in sorted(cols, key=lambda c: "cols[" in c.expr):
            if c.expr:
                out.append(f"cols[{c.col.name!r}] = {c.expr}  # {comment(c.why)}")
            else:
                out.append(f"# {c.col.name!r}: {comment(c.why)}")
        by = {c.col.name: c for c in cols}
        for key in self.uniques:
            # a unique column the database casts from text (a range, an inet) has no
            # generator of distinct values: its repeated rows are dropped as well
            cast = len(key) == 1 and by[key[0]].kind is K.OTHER
            if (len(key) > 1 or cast) and key not in self.guaranteed and not any(
                    not by[k].expr or by[k].expr.startswith(
                        ("gen.unique_", "gen.ids(", "gen.numbered_within(")) for k in key):
                out.append(f"cols = gen.drop_duplicates(cols, {list(key)!r})  "
                           f"# unique ({', '.join(key)})")
        out.append("await ctx.write(cols)")
        return out

    def _module(self, body: list[str]) -> str:
        t = self.t
        fn = "seed_" + re.sub(r"[^0-9a-zA-Z_]", "_", t.name)
        signature = ", ".join(
            f"{c.name} {_type_sql(c, self.dialect)}{'' if c.nullable else ' NOT NULL'}"
            for c in t.columns)
        constraints = sorted(_describe(k) for k in t.constraints) + sorted(
            f"index {ix.name}{' unique' if ix.unique else ''}" for ix in t.indexes)
        doc = [f"Seeds table {t.name!r}; inferred by seedgraph from the live schema.", "",
               "Reflected schema (a migration that changes it reruns this table):",
               *wrap(f"{t.name}({signature})"), *wrap("; ".join(constraints))]
        rows = f"{t.name}.rows"
        head = [
            '"""' + docline(doc[0]), *[docline(d) for d in doc[1:]], '"""', "",
            "from __future__ import annotations", "", "from typing import Any", "",
            "from seedgraph import TaskContext, gen, task",
            *([f"from seedgraph.cycles import {', '.join(sorted(self.imports))}"]
              if self.imports else []), "", "",
            f"@task({t.name!r}, upstream={self.parents!r},",
            f"      params={{'rows': {DEFAULT_ROWS}, {rows!r}: 0}})",
            f"async def {fn}(ctx: TaskContext) -> None:",
            f'    """{docline(t.name)}: rows x {self.factor:g}, or --set {docline(rows)}=N."""',
            f"    asked = ctx.params[{rows!r}]",
            f"    n = asked or max(1, round(ctx.params['rows'] * {self.factor!r}))",
            "    rng, faker = ctx.rng, ctx.faker",
        ]
        if self.problem:  # refused before anything is written; the rest guides an edit
            body = [f"raise gen.GenerationError({self.problem!r})", *body]
        return "\n".join(head + ["    " + ln for ln in body]) + "\n"
