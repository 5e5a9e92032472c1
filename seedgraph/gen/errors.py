"""The error a generator raises when it cannot make what was asked.

:class:`GenerationError` is a :class:`~seedgraph.errors.UsageError`, so the CLI shows
it as a one-line message; ``most`` carries the most rows the generator could make, so
inferred code (and :func:`seedgraph.gen.fit`) can shrink a row count to fit instead
of failing. ``_too_many`` builds the common "at most N rows possible" message.
"""

from __future__ import annotations

from seedgraph.errors import UsageError

__all__ = ["GenerationError"]


class GenerationError(UsageError):
    """A generator cannot make what was asked: more distinct values than exist, an empty
    range, an unknown meaning. ``most`` is the most rows it could make, when that is the limit."""

    def __init__(self, message: str, *, most: int | None = None) -> None:
        super().__init__(message)
        self.most = most


def _too_many(what: str, n: int, most: int, hint: str = "") -> GenerationError:
    return GenerationError(f"cannot generate {n} {what}: at most {most} rows possible{hint}",
                           most=most)
