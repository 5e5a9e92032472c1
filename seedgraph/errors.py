"""The seedgraph exception tree.

Every error seedgraph raises on purpose derives from :class:`SeedgraphError`;
the CLI prints its message on one line and exits non-zero. Messages say what is
wrong and what to type instead.

    SeedgraphError
    ├── UsageError             bad CLI input, bad --set value, bad config
    │   ├── SelectorError      --only / --exclude that does not parse or match
    │   └── DataFileError      a data file's rows: bad YAML/JSON/CSV, column, type, key
    ├── PackError              a pack that cannot be loaded or is malformed
    │   └── GraphError         unknown upstream, duplicate table, cycle, FK not declared
    ├── DatabaseError          cannot connect, locked, schema mismatch
    │   ├── RunLockedError     another run holds the database
    │   └── SchemaMismatchError
    ├── SafetyError            refused: foreign rows, production guard, dangling references
    ├── NothingToResumeError   --resume with no unfinished run
    ├── TaskFailed             a task body raised (wraps the cause once)
    └── VerificationFailed     `seedgraph verify` found violations
"""

from __future__ import annotations

import difflib
import pickle
from collections.abc import Iterable
from typing import Any

__all__ = [
    "DataFileError",
    "DatabaseError",
    "GraphError",
    "NothingToResumeError",
    "PackError",
    "RunLockedError",
    "SafetyError",
    "SchemaMismatchError",
    "SeedgraphError",
    "SelectorError",
    "TaskFailed",
    "UsageError",
    "VerificationFailed",
    "did_you_mean",
]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` (or ``""``) for an unknown *name*."""
    close = difflib.get_close_matches(name, sorted(set(choices)), n=3, cutoff=0.6)
    if not close:
        return ""
    quoted = " or ".join(f"'{c}'" for c in close)
    return f" Did you mean {quoted}?"


class SeedgraphError(Exception):
    """Root of every error seedgraph raises on purpose."""


class UsageError(SeedgraphError):
    """The user asked for something malformed (CLI flag, --set value, config)."""


class SelectorError(UsageError):
    """A selector expression does not parse or names nothing known."""


class DataFileError(UsageError):
    """A data file's rows cannot be loaded as written; the message names the file, the
    line, the table and the column."""


class PackError(SeedgraphError):
    """A task pack cannot be imported or is malformed."""


class GraphError(PackError):
    """The task graph is invalid: unknown upstream, duplicates, cycles, undeclared FKs."""


class DatabaseError(SeedgraphError):
    """The database cannot be used as asked."""


class RunLockedError(DatabaseError):
    """Another seedgraph run holds the database."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"another seedgraph run is using {url}; wait for it to finish "
            "(or stop it), then run again"
        )


class SchemaMismatchError(DatabaseError):
    """An existing table does not match the pack's schema."""


class SafetyError(SeedgraphError):
    """seedgraph refused to do something that could lose or corrupt data."""


class NothingToResumeError(SeedgraphError):
    """`--resume` was asked for but no unfinished run exists. *finished* says the latest
    run completed, which is success, not an error."""

    def __init__(self, message: str, *, finished: bool = False) -> None:
        super().__init__(message)
        self.finished = finished


class TaskFailed(SeedgraphError):
    """A task body raised; the original exception is the ``__cause__``."""

    def __init__(self, table: str, cause: BaseException) -> None:
        self.table = table
        self.cause = cause
        super().__init__(f"task '{table}' failed: {type(cause).__name__}: {cause}")

    def __reduce__(self) -> tuple[Any, ...]:
        # a worker process's failure crosses back pickled: the cause goes along when it
        # can be, else as text (an exception whose __init__ takes other arguments than
        # its args cannot be rebuilt); the message stays the original
        try:
            cause = pickle.loads(pickle.dumps(self.cause))
            rebuilt = type(cause) is type(self.cause) and str(cause) == str(self.cause)
        except Exception:
            rebuilt = False
        if not rebuilt:
            cause = RuntimeError(f"{type(self.cause).__name__}: {self.cause}")
        return (_task_failed, (self.table, cause, str(self)))


def _task_failed(table: str, cause: BaseException, message: str) -> TaskFailed:
    failed = TaskFailed(table, cause)
    failed.args = (message,)
    return failed


class VerificationFailed(SeedgraphError):
    """`seedgraph verify` found violations."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        super().__init__(f"verification failed: {failures} check(s) found violations")
