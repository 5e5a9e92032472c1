"""seedgraph: seed relational databases by running a dependency graph of tasks."""

from __future__ import annotations

from seedgraph.context import TaskContext, VerifyContext
from seedgraph.errors import (
    DatabaseError,
    GraphError,
    NothingToResumeError,
    PackError,
    RunLockedError,
    SafetyError,
    SchemaMismatchError,
    SeedgraphError,
    SelectorError,
    TaskFailed,
    UsageError,
    VerificationFailed,
)
from seedgraph.task import InvariantDef, Profile, TaskDef, invariant, task

__version__ = "0.1.0"

__all__ = [
    "DatabaseError",
    "GraphError",
    "InvariantDef",
    "NothingToResumeError",
    "PackError",
    "Profile",
    "RunLockedError",
    "SafetyError",
    "SchemaMismatchError",
    "SeedgraphError",
    "SelectorError",
    "TaskContext",
    "TaskDef",
    "TaskFailed",
    "UsageError",
    "VerificationFailed",
    "VerifyContext",
    "__version__",
    "invariant",
    "task",
]
