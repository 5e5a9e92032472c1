"""What every ``seedgraph`` command shares: the typer apps, the consoles, the option types,
and :func:`handle_errors`, which turns every :class:`~seedgraph.errors.SeedgraphError` into a
one-line message on stderr and an exit code."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from seedgraph import api
from seedgraph.config import parse_sets
from seedgraph.errors import (
    NothingToResumeError,
    SeedgraphError,
    TaskFailed,
    UsageError,
)

app = typer.Typer(
    name="seedgraph",
    help="Seed relational databases with realistic synthetic data from a graph of seed tasks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
schema_app = typer.Typer(help="Create or drop the tables of a pack that ships a schema.",
                         no_args_is_help=True)
app.add_typer(schema_app, name="schema")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

PackOpt = Annotated[str | None, typer.Option("--pack", "-p", help="Pack directory, .py file or module (default: from config).")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (default: $SEEDGRAPH_DATABASE_URL, config, or sqlite:///seedgraph.db).")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (TOML or YAML).")]
OnlyOpt = Annotated[str | None, typer.Option("--only", "-s", help="Selector, e.g. 'zone_anomalies+' or 'tag:jobs'.")]
ExcludeOpt = Annotated[str | None, typer.Option("--exclude", "-x", help="Selector of tasks to leave out.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="Named selection + parameters (see `seedgraph profiles`).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Parameter override key=value (repeatable).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed (default 42).")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Reference date/time, UTC (default: today 00:00).")]
ConfirmOpt = Annotated[bool, typer.Option("--confirm", help="Allow deleting rows seedgraph did not write.")]
AutoOpt = Annotated[bool, typer.Option("--auto", help="Seed every table of the database's own schema with no code (tables the pack fills keep its tasks).")]
LockOpt = Annotated[float | None, typer.Option("--lock-timeout", help="Seconds to wait when another program holds the SQLite file (default 30).")]
ProdOpt = Annotated[bool, typer.Option("--allow-production", help="Run even when SEEDGRAPH_ENV/APP_ENV is production.")]


def _fail(message: str, code: int) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UsageError as exc:
            _fail(str(exc), 2)
        except NothingToResumeError as exc:
            if not exc.finished:
                _fail(str(exc), 1)
            out.print(escape(str(exc)), soft_wrap=True)  # the last run finished: success
        except SeedgraphError as exc:
            _fail(str(exc), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except typer.Exit:
            raise
        except Exception as exc:  # never show a traceback to a user
            if os.environ.get("SEEDGRAPH_DEBUG"):
                raise
            from seedgraph.backends import explain_driver_error

            cause = exc.cause if isinstance(exc, TaskFailed) else exc
            known = explain_driver_error(cause)
            if known is not None:
                _fail(known, 1)
            _fail(f"unexpected {type(exc).__name__}: {exc} (set SEEDGRAPH_DEBUG=1 for the "
                  "traceback, and please report it)", 1)
        return None

    return wrapper  # type: ignore[return-value]


def build_options(**kwargs: Any) -> api.Options:
    sets = kwargs.pop("sets", None) or []
    return api.Options(sets=parse_sets(sets), **{k: v for k, v in kwargs.items()})
