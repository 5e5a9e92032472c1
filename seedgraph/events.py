"""Events the runner emits; reporters (rich, plain, JSON) listen to them. Also the
statuses a run and a task can have, and the one record of how a task ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Event",
    "Listener",
    "RunFinished",
    "RunStarted",
    "RunStatus",
    "TaskFinished",
    "TaskOutcome",
    "TaskProgress",
    "TaskStarted",
    "TaskStatus",
]


class TaskStatus(StrEnum):
    """A task's state, as recorded in ``seedgraph_tasks`` and reported."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # an upstream task failed
    INTERRUPTED = "interrupted"
    UP_TO_DATE = "up-to-date"  # reported only: the plan skipped it


class RunStatus(StrEnum):
    """A run's state, as recorded in ``seedgraph_runs``."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class RunStarted:
    run_id: int
    to_run: tuple[str, ...]
    skipped: tuple[str, ...]
    cleared: tuple[str, ...]
    resumed: bool


@dataclass(frozen=True, slots=True)
class TaskStarted:
    table: str


@dataclass(frozen=True, slots=True)
class TaskProgress:
    table: str
    rows: int
    seconds: float


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """How one task ended: the runner's result, the event it emits, the report's row."""

    table: str
    status: TaskStatus
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None
    note: str | None = None  # e.g. an upsert's "2 new, 1 updated, 3 kept"


TaskFinished = TaskOutcome  # the event a task's end is


@dataclass(frozen=True, slots=True)
class RunFinished:
    run_id: int
    status: RunStatus
    seconds: float


Event = RunStarted | TaskStarted | TaskProgress | TaskOutcome | RunFinished
Listener = Callable[[Event], None]
