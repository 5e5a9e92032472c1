"""``seedgraph run`` and ``seedgraph plan``: seed the database, or show what a run would do."""

from __future__ import annotations

import json
from typing import Annotated

import anyio
import typer
from rich.markup import escape

from seedgraph import api
from seedgraph.cli.common import (
    AsOfOpt,
    AutoOpt,
    ConfigOpt,
    ConfirmOpt,
    DbOpt,
    ExcludeOpt,
    JsonOpt,
    LockOpt,
    OnlyOpt,
    PackOpt,
    ProdOpt,
    ProfileOpt,
    SeedOpt,
    SetOpt,
    build_options,
    err,
    handle_errors,
    out,
)
from seedgraph.events import Listener, RunStatus, TaskStatus
from seedgraph.report import (
    PlainReporter,
    RichReporter,
    VerboseReporter,
    result_json,
    rows_table,
    summary_table,
)


@handle_errors
def run(
    pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None, auto: AutoOpt = False,
    seed: SeedOpt = None, as_of: AsOfOpt = None, profile: ProfileOpt = None,
    sets: SetOpt = None, only: OnlyOpt = None, exclude: ExcludeOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the latest unfinished run with its recorded settings.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild selected tables even if up to date.")] = False,
    append: Annotated[bool, typer.Option("--append", help="Add rows (e.g. a later date range) without emptying tables.")] = False,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-j", help="Tasks (and a partitioned table's partitions) run at once (default 4).")] = None,
    executor: Annotated[str | None, typer.Option("--executor", help="Where partitions run: local (default), processes (-j worker processes), or dask://HOST:PORT.")] = None,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Cancel everything at the first failure.")] = False,
    confirm: ConfirmOpt = False, allow_production: ProdOpt = False,
    lock_timeout: LockOpt = None,
    json_out: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Per task as it finishes: why it ran, its parameters, rows, seconds, rows/s.")] = False,
) -> None:
    """Seed the database: run the selected tasks in dependency order."""
    options = build_options(pack=pack, db=db, config=config, auto=auto, seed=seed, as_of=as_of, profile=profile,
                       sets=sets, only=only, exclude=exclude, resume=resume, force=force,
                       append=append, concurrency=concurrency, fail_fast=fail_fast,
                       confirm=confirm, allow_production=allow_production,
                       lock_timeout=lock_timeout, executor=executor)
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
    options = build_options(pack=pack, db=db, config=config, auto=auto, seed=seed, as_of=as_of, profile=profile,
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
