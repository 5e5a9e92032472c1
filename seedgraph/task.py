"""Task, invariant and profile definitions: what a pack author writes.

``@task`` turns an async function into a :class:`TaskDef` value; it registers
nothing globally. The pack loader finds the definitions by scanning the pack's
modules, so the same function can be imported, tested and reused freely.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from seedgraph.errors import PackError

if TYPE_CHECKING:
    from seedgraph.context import TaskContext, VerifyContext

__all__ = ["InvariantDef", "Profile", "TaskDef", "TaskFn", "invariant", "task"]

TaskFn = Callable[["TaskContext"], Awaitable[None]]
InvariantFn = Callable[["VerifyContext"], Awaitable[Iterable[Any]]]


@dataclass(frozen=True, slots=True)
class TaskDef:
    """One seed task: it fills exactly one table.

    ``upstream`` lists the tables that must be seeded first (FK parents plus
    anything the task reads). ``params`` maps the parameter names the task reads
    to their defaults (``None`` means "the pack's default"); only those names
    reach ``ctx.params`` and enter the task's fingerprint.
    """

    table: str
    fn: TaskFn
    upstream: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    # rows from a data file (an absolute path): ``ctx.records()`` reads them
    data: str | None = None
    # the natural key: rows are upserted by it (an existing row is kept, or with --force
    # updated) and the table is never emptied, so rows seedgraph did not write stay
    key: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # names in the data file that are not columns
    # the body runs once per partition: a count (ctx.partition = 0..n-1), or
    # "table.column" (one partition per value of an upstream table's column)
    partitions: int | str | None = None
    # how long the task takes next to the others (a typical task is 1): only the order
    # tasks start in depends on it, those heading the costliest chains first
    cost: float = 1.0

    @property
    def name(self) -> str:
        return self.table

    def source_digest(self) -> str:
        """Digest of the task's code: its function, its module, and every module of the
        same package that module uses, directly or not (so editing a shared helper such
        as a simulation module reruns the tasks built on it)."""
        from seedgraph.fingerprint import code_digest  # fingerprint builds on task and graph

        return code_digest(self.fn)


@dataclass(frozen=True, slots=True)
class InvariantDef:
    """A consistency rule checked by ``seedgraph verify``.

    The function returns the offending rows (any printable values); an empty
    result means the rule holds. It runs when all of ``tables`` are selected.
    """

    name: str
    fn: InvariantFn
    tables: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Profile:
    """A named selection plus parameters (``--profile NAME``)."""

    name: str
    description: str = ""
    only: str | None = None
    exclude: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


def _as_tuple(values: str | Iterable[str] | None, what: str, owner: str) -> tuple[str, ...]:
    """*values* as a tuple of names; *owner* is "task 'x'" or "invariant 'y'"."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    try:
        out = tuple(values)
    except TypeError:
        raise PackError(f"{owner}: {what} must be a name or a list of names, got "
                        f"{values!r}") from None
    for v in out:
        if not isinstance(v, str) or not v:
            raise PackError(f"{owner}: {what} must be non-empty strings, got {v!r}")
    return out


def _as_partitions(value: Any, table: str) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PackError(f"task '{table}': partitions must be a count or 'table.column', "
                        f"got {value!r}")
    if isinstance(value, int) and value < 1:
        raise PackError(f"task '{table}': partitions must be at least 1, got {value}")
    if isinstance(value, str) and value.count(".") != 1:
        raise PackError(f"task '{table}': partitions={value!r} must name an upstream table's "
                        "column as 'table.column', e.g. partitions='store.id'")
    return value


def _as_cost(value: Any, table: str) -> float:
    cost = math.nan
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            cost = float(value)
        except OverflowError:  # an int too large for a float
            cost = math.inf
    if not 0 < cost < math.inf:
        raise PackError(f"task '{table}': cost must be a positive number (a typical task "
                        f"is 1), got {value!r}")
    return cost


def _as_params(params: Mapping[str, Any] | Sequence[str] | None) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return dict(params)
    return {name: None for name in params}


@overload
def task(table: TaskFn) -> TaskDef: ...


@overload
def task(
    table: str | None = None,
    *,
    upstream: str | Iterable[str] | None = None,
    tags: str | Iterable[str] | None = None,
    params: Mapping[str, Any] | Sequence[str] | None = None,
    description: str | None = None,
    data: str | None = None,
    key: str | Iterable[str] | None = None,
    fields: str | Iterable[str] | None = None,
    partitions: int | str | None = None,
    cost: float = 1.0,
) -> Callable[[TaskFn], TaskDef]: ...


def task(
    table: str | TaskFn | None = None,
    *,
    upstream: str | Iterable[str] | None = None,
    tags: str | Iterable[str] | None = None,
    params: Mapping[str, Any] | Sequence[str] | None = None,
    description: str | None = None,
    data: str | None = None,
    key: str | Iterable[str] | None = None,
    fields: str | Iterable[str] | None = None,
    partitions: int | str | None = None,
    cost: float = 1.0,
) -> TaskDef | Callable[[TaskFn], TaskDef]:
    """Declare the seed task for one table.

    Usable bare (``@task`` names the table after the function) or with
    arguments::

        @task("zone_anomalies", upstream=["camera_zones", "events"], tags=["monitoring"],
              params={"anomalies_per_zone": 3})
        async def zone_anomalies(ctx: TaskContext) -> None: ...

    *data* names a YAML, JSON or CSV file (relative to the module) whose rows
    ``ctx.records()`` returns; *key* makes the table's rows upserted by that natural
    key instead of rebuilt; *fields* lists names in the file that are not columns
    (e.g. a ``password`` the task hashes). *partitions* runs the body once per
    partition, each committed with its own checkpoint: a count, or ``"table.column"``
    for one partition per value of an upstream table's column (see
    :mod:`seedgraph.partitions`). *cost* says how long the task takes next to a
    typical task (1): when more tasks are ready than can run, those heading the costliest
    chain of tasks start first. It changes only the order, never the rows.
    """

    def wrap(fn: TaskFn, name: str | None) -> TaskDef:
        if not inspect.iscoroutinefunction(fn):
            raise PackError(
                f"task '{name or getattr(fn, '__name__', fn)}' must be an async function "
                "(write `async def ...(ctx)`)"
            )
        tname = name or fn.__name__
        doc = description if description is not None else inspect.getdoc(fn) or ""
        path = None
        if data is not None:
            if not isinstance(data, str) or not data:
                raise PackError(f"task '{tname}': data must be a file name, got {data!r}")
            path = str(Path(inspect.getfile(fn)).resolve().parent / data)
        return TaskDef(
            table=tname,
            fn=fn,
            upstream=_as_tuple(upstream, "upstream", f"task '{tname}'"),
            tags=_as_tuple(tags, "tags", f"task '{tname}'"),
            params=_as_params(params),
            description=doc.strip().splitlines()[0] if doc.strip() else "",
            data=path,
            key=_as_tuple(key, "key", f"task '{tname}'"),
            fields=_as_tuple(fields, "fields", f"task '{tname}'"),
            partitions=_as_partitions(partitions, tname),
            cost=_as_cost(cost, tname),
        )

    if callable(table):
        return wrap(table, None)

    def decorator(fn: TaskFn) -> TaskDef:
        return wrap(fn, table)

    return decorator


def invariant(
    name: str, *, tables: str | Iterable[str], description: str | None = None
) -> Callable[[InvariantFn], InvariantDef]:
    """Declare a consistency rule that ``seedgraph verify`` checks::

        @invariant("events_within_window", tables=["events"])
        async def events_within_window(ctx: VerifyContext) -> list[tuple[Any, ...]]:
            return await ctx.query("SELECT id FROM events WHERE started_at > ended_at")
    """

    def decorator(fn: InvariantFn) -> InvariantDef:
        if not inspect.iscoroutinefunction(fn):
            raise PackError(f"invariant '{name}' must be an async function")
        doc = description if description is not None else inspect.getdoc(fn) or ""
        return InvariantDef(
            name=name,
            fn=fn,
            tables=_as_tuple(tables, "tables", f"invariant '{name}'"),
            description=doc.strip().splitlines()[0] if doc.strip() else "",
        )

    return decorator
