"""What a run refuses before it writes anything: tables it cannot seed, plan problems,
rows it would delete without --confirm, production, and data files that are wrong."""

from __future__ import annotations

from pathlib import Path

from seedgraph.backends import Database
from seedgraph.datafile import read_records
from seedgraph.errors import SafetyError, UsageError
from seedgraph.pack import Pack
from seedgraph.plan import Plan
from seedgraph.session import Options, Session, check_production

__all__ = ["check_data_files", "check_production_run", "refuse"]


def refuse(plan: Plan, options: Options, pack: Pack) -> None:
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


async def check_production_run(options: Options, plan: Plan, session: Session,
                            db: Database) -> None:
    """In production (SEEDGRAPH_ENV/APP_ENV) a run may go ahead without
    --allow-production only when it writes nothing but upserts by natural key into
    tables that exist: it never deletes a row and never creates a table."""
    try:
        check_production(options, "seed this database")
        return
    except SafetyError as refusal:
        rebuilt = [t for t in plan.to_run if not session.pack.tasks[t].key]
        missing = sorted(set(plan.to_run) - await db.existing_tables())
        if rebuilt or plan.clear:
            raise SafetyError(
                f"{refusal}. Here only tables upserted by a natural key may be seeded (they "
                f"never lose a row), but this run would rebuild '{(rebuilt or plan.clear)[0]}'"
                "; choose a selection or profile of upserted tables (e.g. --profile "
                "production)") from None
        if missing:
            raise SafetyError(
                f"{refusal}. Table '{missing[0]}' does not exist, and seedgraph does not "
                "create tables in production; run your migrations first") from None


async def check_data_files(session: Session, db: Database, plan: Plan) -> None:
    """Every data file the run reads is read and checked before anything is written."""
    for name in plan.to_run:
        t = session.pack.tasks[name]
        if t.data is not None:
            spec = await db.spec(name)
            read_records(Path(t.data), spec, key=t.key, fields=t.fields,
                         foreign_keys=spec.foreign_keys)
