"""Events the runner emits; reporters (rich, plain, JSON) listen to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Event",
    "Listener",
    "RunFinished",
    "RunStarted",
    "TaskFinished",
    "TaskProgress",
    "TaskStarted",
]


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
class TaskFinished:
    table: str
    status: str  # done | failed | skipped | interrupted
    rows: int
    seconds: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RunFinished:
    run_id: int
    status: str  # done | failed | interrupted
    seconds: float


Event = RunStarted | TaskStarted | TaskProgress | TaskFinished | RunFinished
Listener = Callable[[Event], None]
