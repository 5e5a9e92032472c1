"""The ``seedgraph`` command line (typer). Parses flags, calls :mod:`seedgraph.api`, renders.

Every :class:`~seedgraph.errors.SeedgraphError` becomes a one-line message on
stderr and a non-zero exit code: 2 for bad input, 1 for refusals and failures,
130 for an interrupted run.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
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
from seedgraph.events import Listener, RunStatus, TaskStatus
from seedgraph.graph import levels
from seedgraph.report import (
    PlainReporter,
    RichReporter,
    VerboseReporter,
    result_json,
    rows_table,
    summary_table,
)

__all__ = ["app", "main"]

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


def _options(**kwargs: Any) -> api.Options:
    sets = kwargs.pop("sets", None) or []
    return api.Options(sets=parse_sets(sets), **{k: v for k, v in kwargs.items()})


@app.command()
@handle_errors
def run(
    pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None, auto: AutoOpt = False,
    seed: SeedOpt = None, as_of: AsOfOpt = None, profile: ProfileOpt = None,
    sets: SetOpt = None, only: OnlyOpt = None, exclude: ExcludeOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the latest unfinished run with its recorded settings.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild selected tables even if up to date.")] = False,
    append: Annotated[bool, typer.Option("--append", help="Add rows (e.g. a later date range) without emptying tables.")] = False,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-j", help="Tasks run at once (default 4).")] = None,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Cancel everything at the first failure.")] = False,
    confirm: ConfirmOpt = False, allow_production: ProdOpt = False,
    lock_timeout: LockOpt = None,
    json_out: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Per task as it finishes: why it ran, its parameters, rows, seconds, rows/s.")] = False,
) -> None:
    """Seed the database: run the selected tasks in dependency order."""
    options = _options(pack=pack, db=db, config=config, auto=auto, seed=seed, as_of=as_of, profile=profile,
                       sets=sets, only=only, exclude=exclude, resume=resume, force=force,
                       append=append, concurrency=concurrency, fail_fast=fail_fast,
                       confirm=confirm, allow_production=allow_production,
                       lock_timeout=lock_timeout)
    def shown(inner: Listener) -> Listener:
        if not verbose:
            return inner
        prep = anyio.run(lambda: api.plan_only(options))[1]  # the plan run makes, read-only
        return VerboseReporter(out, inner, {s.table: s.reason for s in prep.plan.steps
                                            if s.action == "run"}, prep.task_params)

    if quiet or json_out:
        result = anyio.run(lambda: api.run(options))
    elif out.is_terminal:
        with RichReporter(out) as reporter:
            listener = shown(reporter)
            result = anyio.run(lambda: api.run(options, listener))
    else:
        listener = shown(PlainReporter(out))
        result = anyio.run(lambda: api.run(options, listener))
    if json_out:
        print(result_json(result))
    elif not quiet:
        out.print(summary_table(result))
    if result.status == RunStatus.INTERRUPTED:
        err.print("[magenta]interrupted:[/] in-flight tasks rolled back; continue with "
                  "`seedgraph run --resume`")
        raise typer.Exit(130)
    if result.status != RunStatus.DONE:
        failed = [o for o in result.outcomes if o.status == TaskStatus.FAILED]
        for o in failed:
            err.print(f"[bold red]failed:[/] {o.table}: {escape(o.error or '')}", soft_wrap=True)
        err.print("fix the cause, then continue with `seedgraph run --resume`")
        raise typer.Exit(1)


@app.command()
@handle_errors
def plan(
    pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None, auto: AutoOpt = False,
    seed: SeedOpt = None, as_of: AsOfOpt = None, profile: ProfileOpt = None,
    sets: SetOpt = None, only: OnlyOpt = None, exclude: ExcludeOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Plan the resumption of the latest unfinished run.")] = False,
    force: Annotated[bool, typer.Option("--force")] = False,
    append: Annotated[bool, typer.Option("--append")] = False,
    confirm: Annotated[bool, typer.Option("--confirm", help="Plan as `run --confirm` would: rows seedgraph did not write may be deleted.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Show, level by level, what `run` would run, skip or empty first, and why. Exits 1
    when `run` with the same flags would refuse."""
    options = _options(pack=pack, db=db, config=config, auto=auto, seed=seed, as_of=as_of, profile=profile,
                       sets=sets, only=only, exclude=exclude, resume=resume, force=force,
                       append=append)
    _, prep = anyio.run(lambda: api.plan_only(options))
    p = prep.plan
    if json_out:
        print(json.dumps({
            "seed": prep.seed, "as_of": prep.as_of.isoformat(),
            "levels": [list(level) for level in p.levels],
            "steps": [{"table": s.table, "action": s.action, "reason": s.reason,
                       "rows_now": p.states[s.table].rows} for s in p.steps],
            "clear": list(p.clear), "problems": list(p.problems),
            "needs_confirm": list(p.needs_confirm),
            "resume_run": prep.resume_run.id if prep.resume_run else None,
        }, indent=2))
        if p.problems or (p.needs_confirm and not confirm):
            raise typer.Exit(1)
        return
    head = f"seed {prep.seed}, as_of {prep.as_of.isoformat()}"
    if prep.resume_run:
        head = f"resuming run #{prep.resume_run.id}: " + head
    table = rows_table(head, ["level", "task", "action", "why", "rows now"], [])
    for i, level in enumerate(p.levels):
        for name in level:
            s = p.step(name)
            style = "green" if s.action == "run" else "dim"
            table.add_row(str(i), escape(name), f"[{style}]{s.action}[/]", escape(s.reason),
                          f"{p.states[name].rows:,}")
    out.print(table)
    if p.clear:
        out.print("emptied first (children first): " + ", ".join(
            f"{escape(t)} ({p.states[t].rows:,} rows)" for t in p.clear))
    for t in p.needs_confirm:
        out.print(f"[yellow]needs --confirm:[/] '{escape(t)}' holds rows seedgraph did not "
                  "write")
    for problem in p.problems:
        out.print(f"[red]refused:[/] {escape(problem)}")
    if p.problems or (p.needs_confirm and not confirm):
        raise typer.Exit(1)  # `run` with the same flags would refuse


@app.command("list")
@handle_errors
def list_tasks(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None,
               auto: AutoOpt = False, json_out: JsonOpt = False) -> None:
    """List the pack's tasks with their upstream tables and tags, by level."""
    session = api.open_session(api.Options(pack=pack, db=db, config=config, auto=auto))
    g = session.graph
    if json_out:
        print(json.dumps([
            {"table": n, "level": i, "upstream": sorted(g.predecessors(n)),
             "tags": list(g.nodes[n]["tags"]), "description": g.nodes[n]["description"]}
            for i, level in enumerate(levels(g)) for n in level], indent=2))
        return
    table = rows_table(f"pack {session.pack.name}: {len(g)} tasks",
                       ["level", "task", "upstream", "tags"], [])
    for i, level in enumerate(levels(g)):
        for n in level:
            table.add_row(str(i), n, ", ".join(sorted(g.predecessors(n))) or "-",
                          ", ".join(g.nodes[n]["tags"]))
    out.print(table)


@app.command()
@handle_errors
def profiles(pack: PackOpt = None, config: ConfigOpt = None, json_out: JsonOpt = False,
             show_rows: Annotated[bool, typer.Option("--rows", help="Seed each profile into a scratch SQLite database and show the rows per table.")] = False,
             seed: SeedOpt = None, as_of: AsOfOpt = None) -> None:
    """List the pack's profiles (and those defined in the config file)."""
    session = api.open_session(api.Options(pack=pack, config=config))
    if show_rows:
        names = [*session.pack.profiles, *session.config.profiles]
        counts = anyio.run(lambda: api.profile_rows(
            api.Options(pack=pack, config=config, seed=seed, as_of=as_of), names))
        _print_profile_rows(counts, json_out)
        return
    rows = [(p.name, "pack", p.description, p.only or "all", json.dumps(dict(p.params)))
            for p in session.pack.profiles.values()]
    rows += [(name, "config", str(body.get("description", "")), str(body.get("only", "all")),
              json.dumps({k: v for k, v in body.items() if k not in {"description", "only"}}))
             for name, body in session.config.profiles.items()]
    if json_out:
        print(json.dumps([dict(zip(["name", "source", "description", "only", "params"], r,
                                   strict=True)) for r in rows], indent=2))
        return
    default = session.config.profile or session.pack.default_profile
    out.print(rows_table(f"profiles (default: {default or 'none'})",
                         ["profile", "from", "description", "selection", "parameters"], rows))


def _print_profile_rows(counts: dict[str, dict[str, int] | str], json_out: bool) -> None:
    if json_out:
        print(json.dumps(counts, indent=2))
        return
    tables = list(dict.fromkeys(t for c in counts.values() if isinstance(c, dict) for t in c))
    table = rows_table("rows per table and profile (seeded into scratch databases)",
                       ["table", *counts], [])
    for t in tables:
        table.add_row(escape(t), *[f"{c.get(t, 0):,}" if isinstance(c, dict) else "-"
                                   for c in counts.values()])
    out.print(table)
    for name, c in counts.items():
        if isinstance(c, str):
            out.print(f"[yellow]{escape(name)}[/]: {escape(c)}")


@app.command()
@handle_errors
def status(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None, auto: AutoOpt = False,
           runs: Annotated[int, typer.Option("--runs", min=1, help="How many recent runs to list.")] = 5,
           json_out: JsonOpt = False) -> None:
    """Recent runs, the latest run's per-task status, and current row counts."""
    options = api.Options(pack=pack, db=db, config=config, auto=auto)
    report = anyio.run(lambda: api.status(options, runs))
    recent, tasks, counts = report.runs, report.tasks, report.row_counts
    if json_out:
        print(json.dumps({
            "database": report.database,
            "runs": [{"id": r.id, "status": r.status, "mode": r.mode, "started_at": r.started_at,
                      "finished_at": r.finished_at, "seed": r.seed, "as_of": r.as_of,
                      "selection": r.selection} for r in recent],
            "tasks": [{"table": t.table, "status": t.status, "rows": t.rows,
                       "seconds": t.seconds, "error": t.error} for t in tasks],
            "row_counts": counts,
        }, indent=2))
        return
    out.print(f"database: {report.database}")
    if not recent:
        out.print("no seedgraph runs recorded yet; start one with `seedgraph run`")
    else:
        out.print(rows_table("recent runs", ["run", "status", "mode", "started", "finished",
                                             "seed", "as_of", "selection"],
                             [(r.id, r.status, r.mode, r.started_at, r.finished_at or "-",
                               r.seed, r.as_of, r.selection.get("only") or "all")
                              for r in recent]))
    by_table = {t.table: t for t in tasks}
    table = rows_table(f"tables (latest run #{recent[0].id})" if recent else "tables",
                       ["task", "status", "rows written", "seconds", "rows now", "note"], [])
    for n in sorted(counts):
        t = by_table.get(n)
        table.add_row(n, t.status if t else "-", f"{t.rows:,}" if t and t.rows is not None else "-",
                      f"{t.seconds:.2f}" if t and t.seconds is not None else "-",
                      f"{counts[n]:,}", (t.error or "") if t else "")
    out.print(table)


@app.command()
@handle_errors
def clean(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None, auto: AutoOpt = False,
          only: OnlyOpt = None, exclude: ExcludeOpt = None,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the row counts only.")] = False,
          confirm: Annotated[bool, typer.Option("--confirm", help="Really delete.")] = False,
          allow_production: ProdOpt = False, json_out: JsonOpt = False) -> None:
    """Empty the selected tables, children first (needs --confirm; --dry-run shows counts)."""
    options = api.Options(pack=pack, db=db, config=config, auto=auto, only=only, exclude=exclude,
                          confirm=confirm, allow_production=allow_production)
    result = anyio.run(lambda: api.clean(options, dry_run=dry_run))
    if json_out:
        print(json.dumps({"deleted": result.deleted, "tables": list(result.tables),
                          "rows": dict(result.rows)}, indent=2))
        return
    verb = "deleted" if result.deleted else "would delete"
    out.print(rows_table(f"clean ({'done' if result.deleted else 'dry run'})",
                         ["table", f"rows {verb}"],
                         [(t, f"{result.rows[t]:,}") for t in result.tables]))
    out.print(f"{verb} {sum(result.rows.values()):,} rows from {len(result.tables)} tables")


@schema_app.command("create")
@handle_errors
def schema_create(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None) -> None:
    """Create the pack's missing tables."""
    options = api.Options(pack=pack, db=db, config=config)
    created = anyio.run(lambda: api.create_schema(options))
    out.print(f"created {len(created)} table(s)" + (": " + ", ".join(created) if created else ""))


@schema_app.command("drop")
@handle_errors
def schema_drop(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None,
                only: OnlyOpt = None, exclude: ExcludeOpt = None,
                confirm: Annotated[bool, typer.Option("--confirm", help="Really drop.")] = False,
                allow_production: ProdOpt = False) -> None:
    """Drop the pack's tables (needs --confirm)."""
    options = api.Options(pack=pack, db=db, config=config, only=only, exclude=exclude,
                          allow_production=allow_production)
    dropped = anyio.run(lambda: api.drop_schema(options, confirm=confirm))
    out.print(f"dropped {len(dropped)} table(s)")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


@app.command()
@handle_errors
def verify(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None, auto: AutoOpt = False,
           profile: ProfileOpt = None, only: OnlyOpt = None, exclude: ExcludeOpt = None,
           allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Do not fail on empty tables.")] = False,
           json_out: JsonOpt = False) -> None:
    """Check row counts, foreign keys, unique/check constraints and the pack's invariants
    (with no pack: the database's own foreign keys, uniques and CHECKs)."""
    from seedgraph.errors import VerificationFailed

    options = api.Options(pack=pack, db=db, config=config, auto=auto, profile=profile, only=only,
                          exclude=exclude)
    checks = anyio.run(lambda: api.verify(options, allow_empty=allow_empty))
    failed = [c for c in checks if not c.ok]
    if json_out:
        print(json.dumps({"ok": not failed, "checks": len(checks), "failed": [
            {"kind": c.kind, "name": c.name, "table": c.table, "violations": c.violations,
             "sample": [list(map(str, r)) for r in c.sample], "detail": c.detail}
            for c in failed]}, indent=2))
    else:
        kinds: dict[str, list[int]] = {}
        for c in checks:
            kinds.setdefault(c.kind, [0, 0])[0 if c.ok else 1] += 1
        out.print(rows_table(f"verify: {len(checks)} checks", ["kind", "passed", "failed"],
                             [(k, v[0], v[1]) for k, v in sorted(kinds.items())]))
        for c in failed:
            err.print(f"[bold red]FAIL[/] {c.kind} {escape(c.name)}: {c.violations} violation(s)"
                      + (f" — {escape(c.detail)}" if c.detail else ""), soft_wrap=True)
            for r in c.sample:
                err.print(f"    {escape(str(r))}", soft_wrap=True)
        if not failed:
            out.print("[green]all checks passed[/]")
    if failed:
        raise VerificationFailed(len(failed))


@app.command()
@handle_errors
def init(directory: Annotated[Path, typer.Argument(help="New folder to write the pack into.")],
         db: DbOpt = None, config: ConfigOpt = None) -> None:
    """Write the pack `run --auto` infers from the database's schema, one module per table,
    ready to edit."""
    from seedgraph.auto import write_pack
    from seedgraph.backends import parse_url
    from seedgraph.config import load_config

    session_db = db or os.environ.get("SEEDGRAPH_DATABASE_URL") or load_config(config).db
    if session_db is None:
        raise UsageError("init reads an existing database: pass --db URL (e.g. --db "
                         "postgresql://me@localhost/shop)")
    result = write_pack(parse_url(session_db), directory)
    out.print(f"wrote {len(result.files)} files to {escape(str(directory))}/ "
              f"({len(result.files) - 2} tables)")
    for table, why in sorted(result.problems.items()):
        out.print(f"[yellow]edit {escape(table)}:[/] {escape(why)}", soft_wrap=True)
    out.print(f"next: seedgraph run -c {escape(str(directory / 'seedgraph.toml'))}")


@app.command()
@handle_errors
def export(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None, auto: AutoOpt = False,
           only: OnlyOpt = None, exclude: ExcludeOpt = None,
           output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write one file per table into.")] = Path("export"),
           fmt: Annotated[str, typer.Option("--format", "-f", help="csv or json.")] = "csv",
           limit: Annotated[int | None, typer.Option("--limit", min=0, help="At most this many rows per table.")] = None) -> None:
    """Export the selected tables to CSV or JSON fixture files (one per table)."""
    from seedgraph.export import export_tables, file_name

    if fmt not in {"csv", "json"}:
        raise UsageError(f"--format must be csv or json, not '{fmt}'")
    session = api.open_session(api.Options(pack=pack, db=db, config=config, auto=auto))
    tables = api.select_tables(session, only, exclude)
    if output.exists() and not output.is_dir():
        raise UsageError(f"-o {output} is a file; export writes one file per table into a "
                         "folder: choose a folder")

    async def go() -> dict[str, int]:
        async with api.connect(session, read_only=True) as dbh:
            return await export_tables(dbh, session.graph, tables, output, fmt, limit)

    try:
        written = anyio.run(go)
    except OSError as exc:  # a folder that cannot be created or written
        raise UsageError(f"cannot write the export to {output}: {exc.strerror or exc}; "
                         "choose another -o") from None
    out.print(rows_table(f"exported to {output}/", ["table", "rows", "file"],
                         [(t, f"{n:,}", file_name(t, fmt)) for t, n in written.items()]))


@app.command()
@handle_errors
def plot(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None, auto: AutoOpt = False,
         only: OnlyOpt = None, exclude: ExcludeOpt = None,
         output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file: .svg .png .html .mmd .dot (default: draw in the terminal).")] = None,
         status: Annotated[bool, typer.Option("--status", help="Colour nodes by the latest run's checkpoints (reads the database).")] = False,
         highlight: Annotated[str | None, typer.Option("--highlight", help="Selector to emphasise within the whole graph.")] = None) -> None:
    """Draw the task graph (terminal, SVG, PNG, HTML, Mermaid or DOT)."""
    from seedgraph.plot import NodeStatus, format_for_path, render, render_terminal
    from seedgraph.selector import select

    session = api.open_session(api.Options(pack=pack, db=db, config=config, auto=auto))
    graph = session.graph
    if only is not None or exclude is not None:
        graph = graph.subgraph(select(graph, only, exclude)).copy()
    marked = select(session.graph, highlight) if highlight else None
    statuses: dict[str, NodeStatus] | None = None
    if status:

        async def gather() -> dict[str, NodeStatus]:
            found = {n: NodeStatus("never") for n in graph.nodes}
            report = await api.status(runs=1, session=session)
            for t in report.tasks:
                if t.table in found:
                    found[t.table] = NodeStatus(t.status, t.rows, t.seconds, t.error)
            return found

        statuses = anyio.run(gather)
    title = f"{session.pack.name}: {graph.number_of_nodes()} tasks"
    if output is None:
        render_terminal(graph, out, highlight=marked, status=statuses, title=title)
        return
    fmt = format_for_path(output)
    if not output.parent.is_dir():
        raise UsageError(f"folder {output.parent} does not exist; create it or choose "
                         "another -o")
    data = render(graph, fmt, highlight=marked, status=statuses, title=title)
    try:
        if isinstance(data, str):
            output.write_text(data)
        else:
            output.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}; choose another -o"
                         ) from None
    out.print(f"wrote {output} ({fmt}, {graph.number_of_nodes()} tasks, "
              f"{graph.number_of_edges()} edges)")
