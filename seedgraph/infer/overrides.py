"""Per-column overrides of what ``--auto`` infers, from the config's ``[columns]`` table:

    [columns]
    "users.nickname" = { meaning = "username" }           # text by meaning (gen.MEANINGS)
    "orders.status" = { values = ["new", "paid"] }        # one of these (any type, as text
                                                          # for types read from text)
    "products.price" = { min = 1, max = 500 }            # numbers in a range

Checked against the live schema before anything is written: an unknown table or column,
meaning or key is an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from seedgraph.columns import ColumnKind
from seedgraph.errors import UsageError, did_you_mean
from seedgraph.gen import MEANINGS

__all__ = ["Override", "check_overrides", "override_expr"]

Override = Mapping[str, Any]
_KEYS = {"meaning", "values", "min", "max"}
_NUMBERS = {ColumnKind.INT2, ColumnKind.INT4, ColumnKind.INT8, ColumnKind.FLOAT4,
            ColumnKind.FLOAT8, ColumnKind.NUMERIC}


def check_overrides(columns: Mapping[str, Any], tables: Mapping[str, sa.Table]
                    ) -> dict[str, dict[str, Override]]:
    """The ``[columns]`` table as table → column → override, or a UsageError."""
    out: dict[str, dict[str, Override]] = {}
    for where, body in columns.items():
        table, dot, column = where.partition(".")
        if not dot or not column:
            raise UsageError(f"[columns] key '{where}' must be 'table.column', e.g. "
                             f"\"users.email\" = {{ meaning = \"email\" }}")
        if table not in tables:
            raise UsageError(f"[columns] '{where}': the database has no table '{table}'."
                             f"{did_you_mean(table, tables)}")
        if column not in tables[table].c:
            raise UsageError(f"[columns] '{where}': table '{table}' has no column "
                             f"'{column}'.{did_you_mean(column, tables[table].c.keys())}")
        if not isinstance(body, dict) or not body or set(body) - _KEYS:
            extra = sorted(set(body) - _KEYS) if isinstance(body, dict) else []
            raise UsageError(f"[columns] '{where}' must be a table of meaning, values, or "
                             f"min and max{f'; unknown key {extra[0]!r}' if extra else ''}, "
                             f"e.g. {{ values = [\"a\", \"b\"] }}")
        meaning = body.get("meaning")
        if meaning is not None and meaning not in MEANINGS:
            raise UsageError(f"[columns] '{where}': unknown meaning {meaning!r}."
                             f"{did_you_mean(str(meaning), MEANINGS)} Meanings: "
                             f"{', '.join(sorted(MEANINGS))}")
        values = body.get("values")
        if values is not None and (not isinstance(values, list) or not values):
            raise UsageError(f"[columns] '{where}': values must be a non-empty list")
        for bound in ("min", "max"):
            v = body.get(bound)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise UsageError(f"[columns] '{where}': {bound} must be a number, got {v!r}")
        if ("min" in body) != ("max" in body) or (
                "min" in body and body["min"] > body["max"]):
            raise UsageError(f"[columns] '{where}': give both min and max, min <= max")
        out.setdefault(table, {})[column] = body
    return out


def override_expr(override: Override, kind: ColumnKind, unique: bool) -> tuple[str, str]:
    """The generator expression an override asks for, and why."""
    if "values" in override:
        values = list(override["values"])
        pick = "gen.unique_choice" if unique else "gen.choice"
        return f"{pick}(rng, {values!r}, n)", "values given in [columns]"
    if "meaning" in override:
        opts = ", unique=True" if unique else ""
        return (f"gen.by_meaning(rng, faker, {override['meaning']!r}, n{opts})",
                f"meaning {override['meaning']!r} given in [columns]")
    low, high = override["min"], override["max"]
    if kind in (ColumnKind.INT2, ColumnKind.INT4, ColumnKind.INT8):
        fn = "gen.unique_integers" if unique else "gen.integers"
        return f"{fn}(rng, n, {int(low)}, {int(high)})", "range given in [columns]"
    if kind not in _NUMBERS:
        raise UsageError(f"min and max are for number columns; this one holds {kind.value}: "
                         "give values = [...] instead")
    return f"gen.floats(rng, n, {float(low)!r}, {float(high)!r})", "range given in [columns]"
