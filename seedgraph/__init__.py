"""seedgraph: seed relational databases by running a dependency graph of tasks."""

from __future__ import annotations

from seedgraph.context import TaskContext, VerifyContext
from seedgraph.datafile import Records
from seedgraph.errors import (
    DatabaseError,
    DataFileError,
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
    "DataFileError",
    "DatabaseError",
    "GraphError",
    "InvariantDef",
    "NothingToResumeError",
    "PackError",
    "Profile",
    "Records",
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
