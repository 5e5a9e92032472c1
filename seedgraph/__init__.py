"""seedgraph: seed relational databases by running a dependency graph of tasks.

The names below load on first use (PEP 562): importing a submodule, such as the pytest
plugin every pytest run loads once seedgraph is installed, does not pay for numpy,
SQLAlchemy and the drivers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# light modules (the standard library only), imported now: `seedgraph.task` is also a
# submodule, and a lazy name would be shadowed by the module once anything imports it
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

if TYPE_CHECKING:
    from seedgraph.context import TaskContext, VerifyContext
    from seedgraph.datafile import Records

__version__ = "0.1.0"

# loaded on first use: they bring numpy
_HOME = {"TaskContext": "context", "VerifyContext": "context", "Records": "datafile"}

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


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'seedgraph' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"seedgraph.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
