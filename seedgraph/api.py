"""The operations behind the CLI, callable from Python: plan, run, status, clean, verify.

This module wires the pure core (pack, graph, selector, plan) to the edges
(database, runner). The CLI only parses flags and renders results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import networkx as nx

from seedgraph import __version__, checkpoints, detach
from seedgraph.auto import AUTO_REF
from seedgraph.backends import Database
from seedgraph.config import parse_as_of
from seedgraph.errors import NothingToResumeError, SafetyError, SeedgraphError, UsageError
from seedgraph.events import Listener, RunStarted, RunStatus, TaskStatus
from seedgraph.executors import make_executor
from seedgraph.fingerprint import task_fingerprints
from seedgraph.graph import children_first
from seedgraph.guards import check_data_files, check_production_run, refuse
from seedgraph.inspection import StatusReport, status, verify
from seedgraph.plan import Plan, TableState, make_plan, resolve_params
from seedgraph.runner import RunResult, execute
from seedgraph.selector import select
from seedgraph.session import (
    DEFAULT_SEED,
    Options,
    Session,
    check_production,
    connect,
    ensure_schema,
    open_db,
    open_session,
    profile_for,
    select_tables,
)
from seedgraph.task import Profile

__all__ = [
    "CleanResult",
    "Options",
    "Prepared",
    "Session",
    "StatusReport",
    "check_production",
    "clean",
    "connect",
    "create_schema",
    "drop_schema",
    "ensure_schema",
    "open_db",
    "open_session",
    "plan_only",
    "prepare",
    "profile_for",
    "profile_rows",
    "run",
    "select_tables",
    "status",
    "verify",
]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A plan plus the settings it was made with."""

    plan: Plan
    selected: frozenset[str]
    params: Mapping[str, Any]
    task_params: Mapping[str, Mapping[str, Any]]
    seed: int
    as_of: datetime
    selection: Mapping[str, Any]
    resume_run: checkpoints.RunRecord | None = None


def _same_as_recorded(options: Options, run: checkpoints.RunRecord) -> None:
    """--resume with flags: fine when they repeat what the run recorded; a different
    value is refused, naming the flag and the recorded value."""
    sel = run.selection
    recorded: list[tuple[str, Any, Any]] = [
        ("--seed", options.seed, run.seed),
        ("--as-of", None if options.as_of is None else parse_as_of(options.as_of),
         parse_as_of(run.as_of)),
        ("--profile", options.profile, sel.get("profile")),
        ("--only", options.only, sel.get("only")),
        ("--exclude", options.exclude, sel.get("exclude")),
    ]
    recorded += [(f"--set {k}", v, run.params.get(k)) for k, v in options.sets.items()]
    for flag, given, was in recorded:
        if given is not None and given != was:
            raise UsageError(
                f"--resume continues run #{run.id}, which ran with {flag}={was!r}, not "
                f"{given!r}; drop {flag.split()[0]}, or start a new run without --resume")


def _layers(session: Session, options: Options, profile: Profile | None) -> list[Mapping[str, Any]]:
    layers: list[Mapping[str, Any]] = [session.pack.params, session.config.params]
    if session.config.extra and options.config is not None:
        hook = session.pack.config_params
        if hook is None:
            raise UsageError(
                f"config {session.config.source}: unknown key(s) "
                f"{', '.join(sorted(session.config.extra))}; this pack reads only "
                "pack, db, seed, as_of, profile, params, profiles, concurrency"
            )
        layers.append(hook(session.config.extra))
    if profile is not None:
        layers.append(profile.params)
    layers.append(options.sets)
    return layers


async def prepare(session: Session, options: Options, db: Database | None, *,
                  read_only: bool = False) -> Prepared:
    """Resolve settings (or the run to resume) and plan against the database's state;
    *read_only* (``plan``) leaves the database exactly as it is, and no *db* (an SQLite
    file that does not exist yet) plans against empty tables."""
    resume_run = None
    if options.resume:
        given = any(v is not None for v in (options.seed, options.as_of, options.profile,
                                             options.only, options.exclude)) or options.sets
        resume_run = await checkpoints.latest_run(db) if db is not None else None
        if given and resume_run is None:
            raise UsageError("--resume reuses the recorded settings; drop --seed, --as-of, "
                             "--profile, --only, --exclude and --set")
        if given and resume_run is not None:
            _same_as_recorded(options, resume_run)
        if resume_run is not None:
            known = set(session.pack.params).union(
                *(t.params for t in session.pack.tasks.values()))
            foreign = sorted(set(resume_run.params) - known)
            if foreign:
                raise UsageError(
                    f"run #{resume_run.id} was made with pack '{resume_run.pack}', whose "
                    f"parameters ({', '.join(foreign[:3])}) pack '{session.pack.ref}' does "
                    f"not have; resume it with --pack {resume_run.pack}")
        if resume_run is None:
            raise NothingToResumeError(
                f"nothing to resume: no seedgraph run recorded in {session.url.display}; "
                "start one with `seedgraph run`")
        if resume_run.status == RunStatus.DONE:
            raise NothingToResumeError(
                f"nothing to resume: the latest run #{resume_run.id} finished successfully; "
                "start a new one with `seedgraph run`", finished=True)
        sel = resume_run.selection
        seed, as_of = resume_run.seed, parse_as_of(resume_run.as_of)
        only, exclude = sel.get("only"), sel.get("exclude")
        layers: list[Mapping[str, Any]] = [session.pack.params, resume_run.params]
        selection = dict(sel)
        options = replace(options, force=bool(sel.get("force")), append=resume_run.mode == "append")
    else:
        profile_name = options.profile or session.config.profile or session.pack.default_profile
        profile = profile_for(session, profile_name) if profile_name else None
        seed = options.seed if options.seed is not None else (
            session.config.seed if session.config.seed is not None else DEFAULT_SEED)
        if not 0 <= seed < 2**63:
            raise UsageError(f"--seed must be a whole number from 0 to 2**63-1, got {seed}")
        if options.as_of is None and session.config.as_of is not None:
            try:
                as_of = parse_as_of(session.config.as_of)
            except UsageError as exc:  # say where the value came from, not --as-of
                raise UsageError(str(exc).replace(
                    f"--as-of '{session.config.as_of}'",
                    f"as_of = '{session.config.as_of}' in {session.config.source}")) from None
        else:
            as_of = parse_as_of(options.as_of)
        if options.only is not None or options.exclude is not None:
            only, exclude = options.only, options.exclude
        else:
            only = profile.only if profile else None
            exclude = profile.exclude if profile else None
        layers = _layers(session, options, profile)
        selection = {"only": only, "exclude": exclude,
                     "profile": profile.name if profile else None, "force": options.force}
    selected = select_tables(session, only, exclude)
    merged, task_params = resolve_params(session.pack.tasks, layers)
    fps = task_fingerprints(session.graph, task_params, seed, as_of)
    tables = list(session.graph.nodes)
    if db is None:
        states = {t: TableState(rows=0) for t in tables}
    else:
        if not read_only:
            await checkpoints.ensure_tables(db)
        states = await checkpoints.load_states(db, tables)
    plan = make_plan(session.graph, selected, states, fps, force=options.force,
                     append=options.append)
    if db is not None and plan.clear:
        # rows replaced or edited by hand keep the count: ask the database which rows of
        # the tables this run would empty seedgraph did not write
        changed = await checkpoints.changed_rows(db, plan.clear)
        if any(changed.values()):
            states = {t: replace(st, changed_rows=changed.get(t)) for t, st in states.items()}
            plan = make_plan(session.graph, selected, states, fps, force=options.force,
                             append=options.append)
    return Prepared(plan, frozenset(selected), merged, task_params, seed, as_of, selection,
                    resume_run)


async def run(options: Options, listener: Listener = lambda e: None,
              *, handle_signals: bool = True) -> RunResult:
    """``seedgraph run``: plan, empty what must be rebuilt, execute, record."""
    session = open_session(options)
    if options.concurrency is not None:
        concurrency = options.concurrency
    else:
        concurrency = session.config.concurrency or 4
    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if options.resume and session.url.missing_file:
        await prepare(session, options, None)  # checks the flags, then: nothing to resume
    spec = options.executor or "local"
    if spec != "local" and session.pack.ref == AUTO_REF:
        raise UsageError(f"--executor {spec} runs partitions in other processes, which import "
                         "the pack: write it with `seedgraph init DIR` and run it with --pack")
    db = await open_db(session, concurrency)
    executor = None
    try:
        executor = make_executor(spec, db, concurrency)
        async with db.run_lock():
            # everything is checked before anything is written
            await ensure_schema(session, db, create=False)
            prep = await prepare(session, options, db, read_only=True)
            plan = prep.plan
            refuse(plan, options, session.pack)
            await check_production_run(options, plan, session, db)
            if session.pack.preflight is not None:
                session.pack.preflight(prep.params)
            await check_data_files(session, db, plan)
            await ensure_schema(session, db)
            await checkpoints.ensure_tables(db)
            await detach.reattach_left(db)  # keys a dead run's loads left detached
            skipped = [s.table for s in plan.steps if s.action == "skip"]
            async with db.transaction() as tx:
                await checkpoints.close_stale_runs(tx)
                run_id = await checkpoints.start_run(
                    tx, mode="append" if (options.append or (prep.resume_run is not None
                                                             and prep.resume_run.mode == "append"))
                    else "build",
                    seed=prep.seed, as_of=prep.as_of, selection=prep.selection,
                    params=prep.params, pack=session.pack.ref,
                    pack_fingerprint=session.pack.fingerprint(), version=__version__,
                    tables=plan.to_run, skipped=skipped,
                    run_id=prep.resume_run.id if prep.resume_run else None)
                await checkpoints.clear_tables(tx, plan.clear)
            listener(RunStarted(run_id, plan.to_run, tuple(skipped), plan.clear,
                                prep.resume_run is not None))
            chunk = options.chunk_rows or session.config.chunk_rows or 50_000
            return await execute(
                db, session.graph, plan, run_id=run_id, params=prep.task_params,
                seed=prep.seed, as_of=prep.as_of,
                append=options.append or (prep.resume_run is not None
                                          and prep.resume_run.mode == "append"),
                concurrency=concurrency, fail_fast=options.fail_fast, chunk_rows=chunk,
                force=bool(prep.selection.get("force")), cycle_keys=session.pack.cycle_keys,
                executor=executor, data={n: t.data for n, t in session.pack.tasks.items()
                                         if t.data is not None},
                locate=(session.pack.ref, str(Path.cwd() if options.pack
                                              else session.config.base_dir), session.url.url),
                listener=listener, handle_signals=handle_signals)
    finally:
        if executor is not None:
            executor.close()
        await db.close()


async def plan_only(options: Options) -> tuple[Session, Prepared]:
    """``seedgraph plan``: what ``run`` with the same flags would do."""
    session = open_session(options)
    if session.url.missing_file:  # a new database: plan, create nothing
        return session, await prepare(session, options, None, read_only=True)
    db = await open_db(session, read_only=True)
    try:
        prep = await prepare(session, options, db, read_only=True)
    finally:
        await db.close()
    return session, prep


@dataclass(frozen=True, slots=True)
class CleanResult:
    tables: tuple[str, ...]  # children first
    rows: Mapping[str, int]
    deleted: bool


async def clean(options: Options, *, dry_run: bool) -> CleanResult:
    """``seedgraph clean``: empty a selection children-first."""
    session = open_session(options)
    selected = select_tables(session, options.only, options.exclude)
    db = await open_db(session)
    try:
        existing = await db.existing_tables()
        names = [t for t in children_first(session.graph, selected) if t in existing]
        counts = await db.row_counts(names)
        if dry_run:
            return CleanResult(tuple(names), counts, False)
        check_production(options, "delete rows")
        if not options.confirm:
            total = sum(counts.values())
            raise SafetyError(
                f"clean would delete {total} row(s) from {len(names)} table(s); "
                "add --confirm to do it, or --dry-run to see the counts")
        async with db.run_lock():
            await checkpoints.ensure_tables(db)
            states = await checkpoints.load_states(db, list(session.graph.nodes))
            for name in names:
                for child in sorted(nx.descendants(session.graph, name)):
                    if child not in selected and states[child].rows > 0:
                        raise SafetyError(
                            f"refusing to clean: table '{child}' is not selected but depends "
                            f"on '{name}'; include it: --only '{name}+'")
            async with db.transaction() as tx:
                await checkpoints.clear_tables(tx, [n for n in names if counts[n] > 0])
        return CleanResult(tuple(names), counts, True)
    finally:
        await db.close()


async def profile_rows(options: Options, names: list[str]) -> dict[str, dict[str, int] | str]:
    """``seedgraph profiles --rows``: seed each profile into a scratch in-memory database
    (``memory://``) and count the rows each table gets (or say why the profile does not
    run)."""
    out: dict[str, dict[str, int] | str] = {}
    for name in names:
        scratch = replace(options, profile=name, db="memory://", only=None, exclude=None,
                          resume=False, append=False, allow_production=True)
        try:
            result = await run(scratch, handle_signals=False)
        except SeedgraphError as exc:
            out[name] = str(exc)
            continue
        failed = [o for o in result.outcomes if o.status == TaskStatus.FAILED]
        out[name] = (f"task '{failed[0].table}' failed: {failed[0].error}" if failed else
                     {o.table: o.rows for o in result.outcomes if o.status == TaskStatus.DONE})
    return out


def _schema_session(options: Options) -> Session:
    session = open_session(replace(options, config_auto=False))  # never the user's schema
    if session.pack.metadata is None:
        raise UsageError(f"pack {session.pack.name} ships no schema (no METADATA)")
    return session


async def create_schema(options: Options) -> list[str]:
    """``seedgraph schema create``: the pack's missing tables; returns those created."""
    session = _schema_session(options)
    async with connect(session) as db:
        return await ensure_schema(session, db)


async def drop_schema(options: Options, *, confirm: bool) -> list[str]:
    """``seedgraph schema drop``: the selected tables of the pack's schema, and what
    seedgraph recorded about them; returns those dropped."""
    check_production(options, "drop tables")
    session = _schema_session(options)
    assert session.pack.metadata is not None
    names = sorted(select(session.graph, options.only, options.exclude)
                   & set(session.pack.metadata.tables))
    if not confirm:
        raise SafetyError(
            f"schema drop would drop {len(names)} table(s) and all their rows; add --confirm")
    async with connect(session) as db, db.run_lock():
        dropped = await db.drop(session.pack.metadata, names)
        await checkpoints.ensure_tables(db)
        async with db.transaction() as tx:
            await checkpoints.forget_tables(tx, dropped)
        return dropped
