"""The read-only operations behind ``status`` and ``verify`` (re-exported by
:mod:`seedgraph.api`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from seedgraph import checkpoints, partitions
from seedgraph.checkpoints import RunRecord, TaskRecord
from seedgraph.config import load_config
from seedgraph.events import RunStatus, TaskStatus
from seedgraph.selector import select
from seedgraph.session import Options, Session, connect, open_session, profile_for
from seedgraph.verify import Check, run_checks

__all__ = ["StatusReport", "status", "verify"]


@dataclass(frozen=True, slots=True)
class StatusReport:
    database: str  # the URL, password masked
    runs: tuple[RunRecord, ...]  # newest first
    tasks: tuple[TaskRecord, ...]  # of the newest run
    row_counts: Mapping[str, int]
    partitions: Mapping[str, int] = field(default_factory=dict)  # committed, per table


async def status(options: Options | None = None, runs: int = 5, *,
                 session: Session | None = None) -> StatusReport:
    """``seedgraph status``: recent runs, the latest run's tasks, current row counts. A
    run still recorded ``running`` that no process holds was killed: it is reported
    interrupted, as the next run will record it. A command that opened its *session*
    already (``plot --status``) passes it, so the pack is not loaded twice."""
    session = session or open_session(options or Options())
    async with connect(session, read_only=True) as db:
        recent = await checkpoints.recent_runs(db, runs)
        tasks = await checkpoints.task_records(db, recent[0].id) if recent else []
        counts = await db.row_counts(list(session.graph.nodes))
        parts = await partitions.committed(db)
        if recent and recent[0].status == RunStatus.RUNNING and not await db.run_locked():
            recent[0] = replace(recent[0], status=RunStatus.INTERRUPTED)
            tasks = [replace(t, status=TaskStatus.INTERRUPTED,
                             error="the process stopped; rolled back")
                     if t.status == TaskStatus.RUNNING else t for t in tasks]
    return StatusReport(session.url.display, tuple(recent), tuple(tasks), counts, parts)


async def verify(options: Options, *, allow_empty: bool = False) -> list[Check]:
    """``seedgraph verify``: row counts, the database's own keys and CHECKs, the pack's
    invariants, over the selection (or the profile the latest run used). With no pack
    anywhere, it checks the live schema's own constraints (as ``--auto``)."""
    if options.pack is None and not options.auto and load_config(options.config).pack is None:
        options = replace(options, auto=True)
    session = open_session(options)
    async with connect(session, read_only=True) as db:
        latest = await checkpoints.latest_run(db)
        only, exclude = options.only, options.exclude
        if only is None and exclude is None:
            name = options.profile or (latest.selection.get("profile") if latest else None) \
                or session.pack.default_profile
            if name:
                chosen = profile_for(session, name)
                only, exclude = chosen.only, chosen.exclude
        tables = sorted(select(session.graph, only, exclude))
        states = await checkpoints.load_states(db, tables)
        seeded_empty = frozenset(t for t, st in states.items()
                                 if st.fingerprint is not None and st.recorded_rows == 0)
        return await run_checks(db, session.pack, tables, allow_empty=allow_empty,
                                params=dict(latest.params) if latest else {},
                                as_of=latest.as_of if latest else None,
                                seeded_empty=seeded_empty)
