"""What a run will do: resolve parameters, fingerprint tasks, decide run/skip/clear, schedule.

Pure: no database, no anyio. The runner feeds it the database's current state
(row counts and what seedgraph recorded) and executes the resulting plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from seedgraph.errors import PackError, UsageError, did_you_mean
from seedgraph.graph import children_first, levels, parents_first, unit_of
from seedgraph.task import TaskDef

__all__ = [
    "Plan",
    "Schedule",
    "Step",
    "TableState",
    "make_plan",
    "resolve_params",
]


@dataclass(frozen=True, slots=True)
class TableState:
    """A table as the database holds it now."""

    rows: int
    fingerprint: str | None = None  # what seedgraph recorded; None: seedgraph never wrote it
    recorded_rows: int | None = None
    changed_rows: int | None = None  # rows written or changed since seedgraph wrote the table
    # a partitioned table's committed partitions: fingerprint -> (partitions, rows)
    partitions: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def foreign_rows(self) -> bool:
        """True when the table holds rows seedgraph did not write, or changed ones."""
        return self.unknown_rows > 0

    @property
    def unknown_rows(self) -> int:
        """How many rows seedgraph cannot vouch for (at least)."""
        if self.rows == 0:
            return 0
        if self.fingerprint is None:  # rows of committed partitions are seedgraph's
            return max(0, self.rows - sum(rows for _, rows in self.partitions.values()))
        return max(self.rows - (self.recorded_rows or 0), self.changed_rows or 0)


@dataclass(frozen=True, slots=True)
class Step:
    table: str
    action: str  # "run" | "skip"
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]  # parents first
    clear: tuple[str, ...]  # tables to empty first, children first
    levels: tuple[tuple[str, ...], ...]
    fingerprints: Mapping[str, str]
    problems: tuple[str, ...] = ()  # refusals: the run must not start
    needs_confirm: tuple[str, ...] = ()  # tables holding rows seedgraph did not write
    states: Mapping[str, TableState] = field(default_factory=dict)

    @property
    def to_run(self) -> tuple[str, ...]:
        return tuple(s.table for s in self.steps if s.action == "run")

    def step(self, table: str) -> Step:
        return next(s for s in self.steps if s.table == table)


def check_param(name: str, value: Any, default: Any) -> None:
    """A value given for a parameter has its default's kind: a flag for a flag, a whole
    number for a whole number, a number for a number; never negative where the default
    is not (counts, days, rates). Checked before anything is written."""
    def bad(want: str) -> UsageError:
        return UsageError(f"parameter '{name}' must be {want} (its default is {default!r}), "
                          f"got {value!r}; e.g. --set {name}={default!r}")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("true or false")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number" + (" >= 0" if default >= 0 else ""))
        if default >= 0 > value:
            raise bad("a whole number >= 0")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or value != value or value in (float("inf"), float("-inf")):
            raise bad("a number" + (" >= 0" if default >= 0 else ""))
        if default >= 0 > value:
            raise bad("a number >= 0")


def resolve_params(
    tasks: Mapping[str, TaskDef], layers: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Merge parameter layers (lowest first) and give each task the values it declared.

    ``layers[0]`` is the pack's PARAMS; later layers (config, profile, --set)
    may only name parameters some task declares.
    """
    declared: set[str] = set()
    merged: dict[str, Any] = {}
    for t in tasks.values():
        for name, default in t.params.items():
            declared.add(name)
            if default is not None:
                merged.setdefault(name, default)
    defaults = {**merged, **(layers[0] if layers else {})}
    for i, layer in enumerate(layers):
        for key, value in layer.items():
            if i > 0 and key not in declared and key not in layers[0]:
                known = ", ".join(sorted(declared)) or "none"
                raise UsageError(
                    f"unknown parameter '{key}'.{did_you_mean(key, declared)} "
                    f"Parameters of this pack: {known}"
                )
            if i > 0 and key in defaults:
                check_param(key, value, defaults[key])
            merged[key] = value
    per_task: dict[str, dict[str, Any]] = {}
    for name, t in tasks.items():
        values: dict[str, Any] = {}
        for p in t.params:
            if p not in merged:
                raise PackError(
                    f"task '{name}' reads parameter '{p}' but it has no value; give it a "
                    f"default (@task(..., params={{'{p}': ...}}) or PARAMS) or --set {p}=..."
                )
            values[p] = merged[p]
        per_task[name] = values
    return merged, per_task


def make_plan(
    graph: nx.DiGraph,
    selected: Iterable[str],
    states: Mapping[str, TableState],
    fingerprints: Mapping[str, str],
    *,
    force: bool = False,
    append: bool = False,
) -> Plan:
    """Decide which selected tasks run, which skip, and what must be emptied first."""
    # the tables of a cycle are seeded together: selecting one selects its unit
    chosen = {m for n in selected for m in unit_of(graph, n)}
    order = parents_first(graph, chosen)
    upserted = {n for n in graph.nodes if _keyed(graph, n)}
    together: dict[str, str] = {}  # unit members that run because a partner does
    while True:
        steps, to_run, resuming = _decide(graph, order, states, fingerprints, upserted,
                                          together, force=force, append=append)
        more = {m: n for n in to_run for m in unit_of(graph, n)
                if m not in to_run and m not in together}
        if not more:
            break
        together.update(more)
    # an upserted table is never emptied, nor one whose committed partitions resume
    return _finish(graph, chosen, steps, to_run, states, fingerprints, upserted | resuming,
                   append)


def _decide(graph: nx.DiGraph, order: list[str], states: Mapping[str, TableState],
            fingerprints: Mapping[str, str], upserted: set[str], together: Mapping[str, str],
            *, force: bool, append: bool) -> tuple[list[Step], set[str], set[str]]:
    to_run: set[str] = set()
    resuming: set[str] = set()
    steps: list[Step] = []
    for name in order:
        st = states.get(name, TableState(rows=0))
        reruns = sorted(u for u in graph.predecessors(name) if u in to_run)
        done = _partitions_done(graph, name, st, fingerprints[name])
        if done and not (force or append):
            to_run.add(name)
            resuming.add(name)
            steps.append(Step(name, "run", f"{done} partition(s) committed; runs the rest"))
            continue
        if name in together:
            to_run.add(name)
            steps.append(Step(name, "run", f"seeded together with {together[name]} "
                                           "(their foreign keys form a cycle)"))
            continue
        if name in upserted and st.fingerprint is not None and st.rows < (st.recorded_rows or 0):
            # rows beside seedgraph's are expected in an upserted table; missing ones not
            reason = f"has {st.rows} rows, fewer than the {st.recorded_rows} seedgraph wrote"
            to_run.add(name)
            steps.append(Step(name, "run", reason))
            continue
        if append:
            reason = "append"
        elif force:
            reason = "--force"
        elif st.fingerprint is None and st.rows == 0:
            reason = "never seeded"
        elif st.fingerprint is None and st.partitions and not st.foreign_rows:
            reason = "code, parameters, seed or upstream changed since its partitions loaded"
        elif st.fingerprint is None:
            reason = f"holds {st.rows} rows seedgraph did not write"
        elif st.fingerprint != fingerprints[name]:
            reason = "code, parameters, seed or upstream changed since it was seeded"
        elif st.rows != st.recorded_rows and name not in upserted:
            reason = f"has {st.rows} rows but seedgraph wrote {st.recorded_rows}"
        elif reruns:
            reason = f"upstream {', '.join(reruns)} reruns"
        else:
            steps.append(Step(name, "skip", "up to date"))
            continue
        to_run.add(name)
        steps.append(Step(name, "run", reason))
    return steps, to_run, resuming


def _partitions_done(graph: nx.DiGraph, name: str, st: TableState, fingerprint: str) -> int:
    """Partitions of an unfinished partitioned table committed with this fingerprint (0
    when there are none, or the table holds rows they do not account for)."""
    task = graph.nodes[name].get("task")
    if task is None or task.partitions is None or st.fingerprint == fingerprint:
        return 0
    parts, rows = st.partitions.get(fingerprint, (0, 0))
    return parts if parts and rows == st.rows else 0


def _finish(graph: nx.DiGraph, chosen: set[str], steps: list[Step], to_run: set[str],
            states: Mapping[str, TableState], fingerprints: Mapping[str, str],
            upserted: set[str], append: bool) -> Plan:
    # tables in *upserted* are never emptied: its rows are merged by natural key
    clear = [] if append else [n for n in children_first(graph, to_run - upserted)
                                if states.get(n, TableState(0)).rows > 0]
    problems: list[str] = []
    for name in clear:
        for child in sorted(graph.successors(name)):
            if child in upserted and states.get(child, TableState(0)).rows > 0:
                problems.append(
                    f"table '{child}' is upserted by key and refers to '{name}', which this "
                    f"run empties and rebuilds; an upserted table's rows are never deleted, "
                    f"so seed '{name}' by key too (@task(key=...)), or empty '{child}' first "
                    f"with `seedgraph clean --only {child} --confirm`")
    for name in clear:
        for child in sorted(nx.descendants(graph, name)):
            if child not in chosen and states.get(child, TableState(0)).rows > 0:
                problems.append(
                    f"table '{child}' is not selected but depends on '{name}', which this run "
                    f"empties and rebuilds; include it: --only '{name}+'"
                )
    for name in sorted(to_run):
        for up in sorted(graph.predecessors(name)):
            if up in to_run:
                continue
            if states.get(up, TableState(0)).rows == 0 and up not in chosen:
                problems.append(
                    f"task '{name}' needs upstream '{up}', which is empty and not selected; "
                    f"include it: --only '+{name}'"
                )
    needs_confirm = tuple(n for n in clear if states.get(n, TableState(0)).foreign_rows)
    return Plan(
        steps=tuple(steps),
        clear=tuple(clear),
        levels=tuple(tuple(level) for level in levels(graph, chosen)),
        fingerprints=dict(fingerprints),
        problems=tuple(dict.fromkeys(problems)),
        needs_confirm=needs_confirm,
        states=dict(states),
    )


def _keyed(graph: nx.DiGraph, name: str) -> bool:
    task = graph.nodes[name].get("task")
    return bool(task is not None and task.key)


class Schedule:
    """Hands out tasks whose upstream has finished (a ready set, not level barriers)."""

    def __init__(self, graph: nx.DiGraph, to_run: Iterable[str],
                 costs: Mapping[str, float] | None = None) -> None:
        self._graph = graph
        self._todo = set(to_run)
        self._waiting = {
            n: {u for u in graph.predecessors(n) if u in self._todo} for n in self._todo
        }
        self._started: set[str] = set()
        self._finished: set[str] = set()
        # the costliest chain of tasks to run that each one heads (its own cost, a task's
        # ``cost``, 1 by default, plus its costliest successor's chain), and how many
        # tasks wait on it
        costs = costs or {}
        chain: dict[str, float] = {}
        for n in reversed(list(nx.topological_sort(graph))):
            chain[n] = costs.get(n, 1.0) + max(
                (chain[d] for d in graph.successors(n) if d in self._todo), default=0.0)
        self._priority = {n: (-chain[n], -len(nx.descendants(graph, n) & self._todo), n)
                          for n in graph}

    def ready(self, limit: int | None = None) -> list[str]:
        """Tasks that may start now (each handed out once, at most *limit* of them), those
        heading the costliest chains of tasks first (they bound the run), then those
        holding up the most tasks, then by name."""
        out = sorted((n for n, deps in self._waiting.items()
                      if not deps and n not in self._started), key=self._priority.__getitem__)
        out = out if limit is None else out[:max(limit, 0)]
        self._started.update(out)
        return out

    def mark_done(self, name: str) -> None:
        self._finished.add(name)
        for deps in self._waiting.values():
            deps.discard(name)

    def mark_failed(self, name: str) -> list[str]:
        """Record a failure; return the descendants that can no longer run (now skipped)."""
        self._finished.add(name)
        skipped = sorted(d for d in nx.descendants(self._graph, name)
                         if d in self._todo and d not in self._started)
        for d in skipped:
            self._started.add(d)
            self._finished.add(d)
        return skipped

    @property
    def finished(self) -> bool:
        return self._finished >= self._todo
