"""The commands that read: ``list``, ``profiles``, ``status``, ``verify``, ``export`` and
``plot``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.markup import escape

from seedgraph import api
from seedgraph.cli.common import (
    AsOfOpt,
    AutoOpt,
    ConfigOpt,
    DbOpt,
    ExcludeOpt,
    JsonOpt,
    OnlyOpt,
    PackOpt,
    ProfileOpt,
    SeedOpt,
    err,
    handle_errors,
    out,
)
from seedgraph.errors import UsageError
from seedgraph.graph import levels
from seedgraph.report import rows_table


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


@handle_errors
def profiles(pack: PackOpt = None, config: ConfigOpt = None, json_out: JsonOpt = False,
             show_rows: Annotated[bool, typer.Option("--rows", help="Seed each profile into a scratch in-memory database and show the rows per table.")] = False,
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
            "partitions": report.partitions,
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
                      f"{counts[n]:,}", _note(t.error if t else None, report.partitions.get(n)))
    out.print(table)


def _note(error: str | None, parts: int | None) -> str:
    said = [f"{parts} partitions committed"] if parts else []
    return "; ".join(said + ([error] if error else []))


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
