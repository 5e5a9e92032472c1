"""The operations behind the CLI, callable from Python: plan, run, status, clean, verify.

This module wires the pure core (pack, graph, selector, plan) to the edges
(database, runner). The CLI only parses flags and renders results.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import networkx as nx

from seedgraph import __version__, checkpoints
from seedgraph.auto import auto_pack
from seedgraph.backends import DEFAULT_URL, Database, DbUrl, parse_url
from seedgraph.config import Config, load_config, parse_as_of
from seedgraph.errors import (
    DatabaseError,
    NothingToResumeError,
    SafetyError,
    UsageError,
)
from seedgraph.events import Listener, RunStarted, RunStatus
from seedgraph.graph import build_graph, children_first
from seedgraph.pack import Pack, load_pack
from seedgraph.plan import Plan, TableState, make_plan, resolve_params, task_fingerprints
from seedgraph.runner import RunResult, execute
from seedgraph.selector import select
from seedgraph.task import Profile

__all__ = [
    "Options",
    "Prepared",
    "Session",
    "check_production",
    "clean",
    "open_session",
    "prepare",
    "run",
    "select_tables",
]

DEFAULT_SEED = 42
# values of SEEDGRAPH_ENV / APP_ENV that mean production (compared trimmed, case-folded)
PRODUCTION_NAMES = frozenset({"production", "prod", "prd", "live"})


@dataclass(frozen=True, slots=True)
class Options:
    """Everything a command may be told; None means "not given"."""

    pack: str | None = None
    db: str | None = None
    config: Path | None = None
    seed: int | None = None
    as_of: str | None = None
    profile: str | None = None
    sets: Mapping[str, Any] = field(default_factory=dict)
    only: str | None = None
    exclude: str | None = None
    resume: bool = False
    force: bool = False
    append: bool = False
    concurrency: int | None = None
    fail_fast: bool = False
    confirm: bool = False
    chunk_rows: int | None = None
    allow_production: bool = False
    auto: bool = False  # infer a task for every table the pack does not fill (--auto)
    config_auto: bool = True  # False: ignore `auto = true` in the config (schema create/drop)


@dataclass(frozen=True, slots=True)
class Session:
    """A loaded pack, its graph, the config and the database URL."""

    config: Config
    pack: Pack
    graph: nx.DiGraph
    url: DbUrl


def open_session(options: Options) -> Session:
    config = load_config(options.config)
    pack_ref = options.pack or config.pack
    auto = options.auto or (config.auto and options.config_auto)
    if pack_ref is None and not auto:
        raise UsageError(
            "no pack given; pass --pack PATH (e.g. --pack tasks/home_security), or --auto "
            "to seed the database's own tables with no code, or set pack = \"...\" in "
            "seedgraph.toml or [tool.seedgraph] in pyproject.toml"
        )
    raw = options.db or os.environ.get("SEEDGRAPH_DATABASE_URL") or config.db or DEFAULT_URL
    url = parse_url(raw)
    base = Path.cwd() if options.pack else config.base_dir
    pack = load_pack(pack_ref, base) if pack_ref is not None else None
    if auto:
        pack = auto_pack(url, pack)
    assert pack is not None
    graph = build_graph(list(pack.tasks.values()), pack.foreign_keys())
    return Session(config=config, pack=pack, graph=graph, url=url)


def select_tables(session: Session, only: str | None, exclude: str | None) -> frozenset[str]:
    """The tables a selection names; an empty selection is a usage error (exit 2)."""
    selected = select(session.graph, only, exclude)
    if not selected:
        raise UsageError(
            f"the selection (--only {only!r} --exclude {exclude!r}) is empty; "
            "see `seedgraph list` for the tasks")
    return selected


def check_production(options: Options, action: str) -> None:
    """Destructive commands refuse in production unless --allow-production is given."""
    for var in ("SEEDGRAPH_ENV", "APP_ENV"):
        env = os.environ.get(var, "").strip().casefold()
        if env in PRODUCTION_NAMES and not options.allow_production:
            raise SafetyError(
                f"refusing to {action}: {var}={os.environ[var].strip()}. This looks like "
                "production; if you really mean it, add --allow-production"
            )


def profile_for(session: Session, name: str) -> Profile:
    cfg = session.config.profiles.get(name)
    if cfg is None:
        return session.pack.profile(name)
    body = dict(cfg)
    base = session.pack.profile(str(body.pop("extends"))) if "extends" in body else Profile(name)
    params = dict(base.params)
    params.update(body.pop("params", {}) or {})
    only = body.pop("only", base.only)
    exclude = body.pop("exclude", base.exclude)
    for key, value in (("only", only), ("exclude", exclude)):
        if value is not None and not isinstance(value, str):
            raise UsageError(f"profile '{name}' in {session.config.source}: '{key}' must be a "
                             f"selector string such as \"tag:facts\", got {value!r}")
    description = str(body.pop("description", base.description))
    if body:
        if session.pack.config_params is None:
            raise UsageError(
                f"profile '{name}' in {session.config.source}: unknown key(s) "
                f"{', '.join(sorted(body))}; use only, exclude, extends, description, params"
            )
        params.update(session.pack.config_params(body))
    return Profile(name, description, only, exclude, params)


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


async def open_db(session: Session, concurrency: int = 4, *,
                  read_only: bool = False) -> Database:
    """Open the session's database; *read_only* commands never create an SQLite file."""
    if read_only and session.url.missing_file:
        raise DatabaseError(
            f"no database at {session.url.sqlite_path}; check --db (or "
            "SEEDGRAPH_DATABASE_URL), or seed one first with `seedgraph run`")
    db = await Database.open(session.url, pool_size=concurrency + 2)
    db.register(session.pack.metadata)
    return db


async def ensure_schema(session: Session, db: Database, *, create: bool = True) -> list[str]:
    """Check the pack's tables that exist against its schema; with *create*, create the
    missing ones."""
    md = session.pack.metadata
    if md is None:
        return []
    names = sorted(md.tables)  # create_all orders them; a cycle must not warn here
    await db.check_schema(md, names)
    return await db.create_missing(md, names) if create else []


def _refuse(plan: Plan, options: Options, pack: Pack) -> None:
    cannot = [t for t in plan.to_run if t in pack.problems]
    if cannot:
        raise UsageError(f"cannot seed table '{cannot[0]}': {pack.problems[cannot[0]]}"
                         + (f" (and {len(cannot) - 1} more table(s))" if len(cannot) > 1
                            else ""))
    if plan.problems:
        raise SafetyError("refusing to run: " + plan.problems[0]
                          + (f" (and {len(plan.problems) - 1} more)" if len(plan.problems) > 1
                             else ""))
    if plan.needs_confirm and not options.confirm:
        t = plan.needs_confirm[0]
        st = plan.states[t]
        raise SafetyError(
            f"table '{t}' holds {st.unknown_rows} row(s) seedgraph did not write or that "
            "were changed since; this run would delete them. Add --confirm to allow it, or "
            f"leave '{t}' out with --exclude '{t}+'")


async def run(options: Options, listener: Listener = lambda e: None,
              *, handle_signals: bool = True) -> RunResult:
    """``seedgraph run``: plan, empty what must be rebuilt, execute, record."""
    check_production(options, "seed this database")
    session = open_session(options)
    if options.concurrency is not None:
        concurrency = options.concurrency
    else:
        concurrency = session.config.concurrency or 4
    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if options.resume and session.url.missing_file:
        await prepare(session, options, None)  # checks the flags, then: nothing to resume
    db = await open_db(session, concurrency)
    try:
        async with db.run_lock():
            # everything is checked before anything is written
            await ensure_schema(session, db, create=False)
            prep = await prepare(session, options, db, read_only=True)
            plan = prep.plan
            _refuse(plan, options, session.pack)
            await ensure_schema(session, db)
            await checkpoints.ensure_tables(db)
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
                listener=listener, handle_signals=handle_signals)
    finally:
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

