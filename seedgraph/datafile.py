"""Rows from data files: a table's rows written in YAML, JSON or CSV.

A YAML or JSON file maps table names to rows; a table's rows are a list, or a mapping
of named groups (e.g. ``basic``, ``extended``) to lists, so a profile can take some
groups only. A CSV file holds one table's rows, one column per header. Every value is
checked against the live column it lands in and coerced to its kind (a quoted
``"2026-01-15"`` becomes a date for a date column; ``1.10`` for a text column is an
error, not the text ``1.1``). A foreign key may name its parent row by natural key:
``user_id: {email: ann@example.com}`` in YAML/JSON, a ``user_id.email`` header in CSV;
:func:`resolve_refs` turns those into the parent's key at load time.

Errors name the file, the line (where the format gives one), the table and the column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from seedgraph.coerce import coerce
from seedgraph.columns import ColumnKind, TableSpec
from seedgraph.errors import DataFileError, did_you_mean

__all__ = ["DATA_SUFFIXES", "Record", "Records", "Ref", "read_records", "resolve_refs"]

DATA_SUFFIXES = (".yaml", ".yml", ".json", ".csv")


@dataclass(frozen=True, slots=True)
class Ref:
    """A foreign key given by natural key: the parent row whose *match* columns hold
    these values."""

    parent: str
    column: str  # the parent column the foreign key references
    match: tuple[tuple[str, Any], ...]

    def describe(self) -> str:
        return ", ".join(f"{c} = {v!r}" for c, v in self.match)


@dataclass(slots=True)
class Record:
    """One row of a data file, with where it came from."""

    values: dict[str, Any]
    line: int | None = None
    group: str | None = None
    lines: dict[str, int] = field(default_factory=dict)  # the line of each column's value


class Records(Sequence[Record]):
    """A table's rows from its data file, checked and coerced; what ``ctx.records``
    returns. Add computed columns with :meth:`set` or :meth:`setdefault`, take out the
    file's extra fields (declared with ``@task(fields=...)``) with :meth:`pop`."""

    def __init__(self, path: Path, table: str, rows: list[Record]) -> None:
        self.path = path
        self.table = table
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: Any) -> Any:
        return self._rows[i]

    def __iter__(self) -> Iterator[Record]:
        return iter(self._rows)

    def get(self, name: str, default: Any = None) -> list[Any]:
        """The values of *name*, row by row (*default* where a row has none)."""
        return [r.values.get(name, default) for r in self._rows]

    def pop(self, name: str, default: Any = None) -> list[Any]:
        """Remove *name* from every row; return its values."""
        return [r.values.pop(name, default) for r in self._rows]

    def set(self, name: str, values: Iterable[Any]) -> None:
        """Set column *name* of every row (one value per row, in order)."""
        vals = list(values)
        if len(vals) != len(self._rows):
            raise DataFileError(f"table '{self.table}': set('{name}') got {len(vals)} values "
                                f"for {len(self._rows)} rows of {self.path}")
        for r, v in zip(self._rows, vals, strict=True):
            r.values[name] = v

    def setdefault(self, name: str, values: Iterable[Any]) -> None:
        """Set column *name* in the rows whose file left it out."""
        for r, v in zip(self._rows, values, strict=False):
            r.values.setdefault(name, v)

    def where(self, message: str, record: Record, column: str | None = None) -> str:
        return _where(self.path, record.lines.get(column or "", record.line), self.table,
                      column) + message


def _where(path: Path, line: int | None, table: str, column: str | None) -> str:
    at = f"{path}:{line}" if line is not None else str(path)
    return f"{at}: table '{table}'" + (f", column '{column}'" if column else "") + ": "


# -- reading ------------------------------------------------------------------


def read_records(path: Path, spec: TableSpec, *, key: Sequence[str] = (),
                 fields: Sequence[str] = (),
                 foreign_keys: Mapping[str, tuple[str, str]] | None = None) -> Records:
    """*spec*'s rows from the data file at *path*, checked and coerced.

    *key*: the natural key (present and unique in every row); *fields*: extra names
    the task reads that are not columns; *foreign_keys*: column → (parent table, parent
    column), for values that name their parent by natural key."""
    text = _read_text(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        raw = _yaml_rows(path, text, spec.name)
    elif suffix == ".json":
        raw = _json_rows(path, text, spec.name)
    elif suffix == ".csv":
        raw = _csv_rows(path, text, spec.name)
    else:
        raise DataFileError(f"{path}: a data file must end in {', '.join(DATA_SUFFIXES)}")
    fks = dict(foreign_keys or {})
    rows = [_check_row(path, spec, r, set(fields), fks, text_values=suffix == ".csv")
            for r in raw]
    _check_key(path, spec, rows, key)
    return Records(path, spec.name, rows)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(f"data file {path} does not exist") from None
    except OSError as exc:
        raise DataFileError(f"cannot read data file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise DataFileError(f"data file {path} is not UTF-8 text (byte {exc.start}); "
                            "save it as UTF-8") from None


def _yaml_rows(path: Path, text: str, table: str) -> list[Record]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataFileError(f"{path}{line}: not valid YAML: {problem}") from None
    return _node_rows(path, root, table)


def _node_rows(path: Path, root: yaml.Node | None, table: str) -> list[Record]:
    if not isinstance(root, yaml.MappingNode):
        raise DataFileError(f"{path}: the top level must map table names to their rows, "
                            f"e.g.\n{table}:\n  - {{column: value}}")
    sections = {str(k.value): v for k, v in root.value}
    if table not in sections:
        raise DataFileError(f"{path}: no rows for table '{table}'; add a '{table}:' section."
                            f"{did_you_mean(table, sections)}")
    node = sections[table]
    groups: list[tuple[str | None, yaml.Node]]
    if isinstance(node, yaml.MappingNode):
        groups = [(str(k.value), v) for k, v in node.value]
    else:
        groups = [(None, node)]
    loader = yaml.SafeLoader("")
    out: list[Record] = []
    for group, seq in groups:
        if isinstance(seq, yaml.ScalarNode) and seq.value in ("", "~", "null"):
            continue  # an empty group
        if not isinstance(seq, yaml.SequenceNode):
            where = f"{path}:{seq.start_mark.line + 1}: table '{table}'"
            raise DataFileError(f"{where}: rows must be a list of mappings (`- column: value`)"
                                + (f" in group '{group}'" if group else ""))
        for item in seq.value:
            line = item.start_mark.line + 1
            if not isinstance(item, yaml.MappingNode):
                raise DataFileError(f"{path}:{line}: table '{table}': a row must be a mapping "
                                    "of column names to values")
            lines: dict[str, int] = {}
            for k, _ in item.value:
                name = str(k.value)
                if name in lines:
                    raise DataFileError(f"{path}:{k.start_mark.line + 1}: table '{table}', "
                                        f"column '{name}': given twice in one row")
                lines[name] = k.start_mark.line + 1
            values = loader.construct_object(item, deep=True)
            out.append(Record({str(k): v for k, v in values.items()}, line, group, lines))
    return out


def _json_rows(path: Path, text: str, table: str) -> list[Record]:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg} "
                            f"(column {exc.colno})") from None
    # JSON is YAML: read it through YAML for the line of each row (what JSON parsed
    # above, YAML reads alike; strings with \/ escapes are the exception, read below)
    try:
        return _node_rows(path, yaml.compose(text, Loader=yaml.SafeLoader), table)
    except yaml.YAMLError:
        doc = json.loads(text)
    if not isinstance(doc, dict):
        raise DataFileError(f"{path}: the top level must map table names to their rows")
    if table not in doc:
        raise DataFileError(f"{path}: no rows for table '{table}'.{did_you_mean(table, doc)}")
    section = doc[table]
    groups = section.items() if isinstance(section, dict) else [(None, section)]
    out = []
    for group, rows in groups:
        for i, row in enumerate(rows or []):
            if not isinstance(row, dict):
                raise DataFileError(f"{path}: table '{table}', row {i + 1}: a row must be an "
                                    "object of column names to values")
            out.append(Record(dict(row), None, group))
    return out


def _csv_rows(path: Path, text: str, table: str) -> list[Record]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise DataFileError(f"{path}: empty CSV file; the first line names the columns "
                            f"of table '{table}'") from None
    except csv.Error as exc:
        raise DataFileError(f"{path}:1: not valid CSV: {exc}") from None
    names = [h.strip() for h in header]
    seen = set()
    for name in names:
        if not name or name in seen:
            raise DataFileError(f"{path}:1: table '{table}': column header "
                                f"{'empty' if not name else repr(name) + ' given twice'}")
        seen.add(name)
    out = []
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != len(names):
                raise DataFileError(f"{path}:{line}: table '{table}': {len(cells)} fields, "
                                    f"the header has {len(names)}")
            values: dict[str, Any] = {}
            for name, cell in zip(names, cells, strict=True):
                column, dot, parent_col = name.partition(".")
                value = None if cell == "" else cell
                if dot:  # user_id.email: the parent row named by its email
                    values.setdefault(column, {})[parent_col] = value
                else:
                    values[name] = value
            out.append(Record(values, line, None, dict.fromkeys(values, line)))
    except csv.Error as exc:
        raise DataFileError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from None
    return out


# -- checking and coercing ------------------------------------------------------


def _check_row(path: Path, spec: TableSpec, record: Record, fields: set[str],
               fks: Mapping[str, tuple[str, str]], *, text_values: bool) -> Record:
    out: dict[str, Any] = {}
    for name, value in record.values.items():
        def fail(problem: str, name: str = name) -> DataFileError:
            return DataFileError(_where(path, record.lines.get(name, record.line),
                                        spec.name, name) + problem)

        if name in fields:
            out[name] = value
            continue
        col = spec.by_name.get(name)
        if col is None:
            known = [c.name for c in spec.columns]
            raise fail(f"no such column.{did_you_mean(name, known)} Columns: "
                       f"{', '.join(known)}")
        if col.computed:
            raise fail("the database computes this column; leave it out of the file")
        if isinstance(value, dict) and name in fks and col.kind not in (
                ColumnKind.JSON, ColumnKind.JSONB):
            parent, parent_col = fks[name]
            if not value or any(v is None for v in value.values()):
                raise fail(f"name the {parent} row by a value, e.g. {name}: {{email: ...}}")
            out[name] = Ref(parent, parent_col, tuple((str(k), v) for k, v in value.items()))
            continue
        if value is None:
            if not col.nullable and not col.has_default:
                raise fail("is NOT NULL; give a value")
            out[name] = None
            continue
        try:
            out[name] = coerce(value, col, text=text_values)
        except ValueError as exc:
            raise fail(str(exc)) from None
    return Record(out, record.line, record.group, record.lines)


def _check_key(path: Path, spec: TableSpec, rows: list[Record], key: Sequence[str]) -> None:
    if not key:
        return
    first: dict[tuple[Any, ...], Record] = {}
    for r in rows:
        missing = [k for k in key if r.values.get(k) is None]
        if missing:
            raise DataFileError(_where(path, r.line, spec.name, missing[0])
                                + "is the natural key; every row needs a value")
        value = tuple(_hashable(r.values[k]) for k in key)
        if value in first:
            prev = first[value]
            raise DataFileError(
                _where(path, r.line, spec.name, key[0] if len(key) == 1 else None)
                + f"duplicate natural key {', '.join(key)} = "
                f"{', '.join(repr(v) for v in value)} (first on line {prev.line}); "
                "each row must have its own")
        first[value] = r


def _hashable(value: Any) -> Any:
    if isinstance(value, Ref):
        return value.match
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, default=str)
    return value


# -- natural keys ----------------------------------------------------------------


async def resolve_refs(records: Records, spec: TableSpec, lookup: Any) -> None:
    """Replace each :class:`Ref` (or mapping a task set in a foreign-key column) by its
    parent row's key. *lookup* is an async function ``(parent, column, match_columns) ->
    rows`` returning (key, *match values) tuples."""
    wanted: dict[tuple[str, str, tuple[str, ...]], list[tuple[Record, str, Ref]]] = {}
    for r in records:
        for name, value in list(r.values.items()):
            if isinstance(value, dict) and name in spec.foreign_keys and spec.by_name[
                    name].kind not in (ColumnKind.JSON, ColumnKind.JSONB):
                parent, column = spec.foreign_keys[name]
                value = r.values[name] = Ref(parent, column, tuple(value.items()))
            if isinstance(value, Ref):
                cols = tuple(c for c, _ in value.match)
                wanted.setdefault((value.parent, value.column, cols), []).append((r, name, value))
    for (parent, column, cols), uses in wanted.items():
        index: dict[tuple[Any, ...], list[Any]] = {}
        for row in await lookup(parent, column, cols):
            index.setdefault(tuple(_key_form(v) for v in row[1:]), []).append(row[0])
        for record, name, ref in uses:
            hits = index.get(tuple(_key_form(v) for _, v in ref.match), [])
            if len(hits) != 1:
                problem = (f"no row of '{parent}' has {ref.describe()}" if not hits else
                           f"{len(hits)} rows of '{parent}' have {ref.describe()}; name one "
                           "by a unique column")
                raise DataFileError(records.where(problem, record, name))
            record.values[name] = hits[0]


def _key_form(value: Any) -> Any:
    """Values as the file and both databases agree on them (a date read back from SQLite
    is text, from PostgreSQL a date)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
