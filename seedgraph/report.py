"""Display: live progress (rich on a terminal, plain lines otherwise), summaries, JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from seedgraph.events import Event, RunFinished, RunStarted, TaskFinished, TaskProgress, TaskStarted
from seedgraph.runner import RunResult, TaskOutcome

__all__ = ["STATUS_STYLE", "PlainReporter", "RichReporter", "VerboseReporter", "result_json",
           "summary_table"]

STATUS_STYLE = {
    "done": "green",
    "up-to-date": "dim green",
    "failed": "bold red",
    "skipped": "yellow",
    "interrupted": "magenta",
    "pending": "dim",
    "running": "cyan",
    "never": "dim",
}


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 and rows else "-"


class RichReporter:
    """One live line per running task (rows, rows/s); finished tasks print above the bars."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<28}"),
            TextColumn("{task.fields[rows]:>12} rows"),
            TextColumn("{task.fields[rate]:>10} rows/s"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._ids: dict[str, TaskID] = {}

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            what = "resuming" if event.resumed else "starting"
            self.progress.console.print(
                f"[bold]run #{event.run_id}[/] {what}: {len(event.to_run)} task(s) to run, "
                f"{len(event.skipped)} up to date, {len(event.cleared)} table(s) emptied first")
        elif isinstance(event, TaskStarted):
            self._ids[event.table] = self.progress.add_task(escape(event.table), rows="0",
                                                            rate="-", total=None)
        elif isinstance(event, TaskProgress):
            tid = self._ids.get(event.table)
            if tid is not None:
                self.progress.update(tid, rows=f"{event.rows:,}",
                                     rate=_rate(event.rows, event.seconds))
        elif isinstance(event, TaskFinished):
            tid = self._ids.pop(event.table, None)
            if tid is not None:
                self.progress.remove_task(tid)
            style = STATUS_STYLE.get(event.status, "")
            said = event.error or event.note
            extra = f" — {escape(said)}" if said else ""
            self.progress.console.print(
                f"[{style}]{event.status:>11}[/] {escape(f'{event.table:<28}')} "
                f"{event.rows:>10,} rows "
                f"{event.seconds:7.2f}s{extra}")
        elif isinstance(event, RunFinished):
            pass


class PlainReporter:
    """Plain lines for logs and pipes."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, event: Event) -> None:
        def out(line: str) -> None:  # names and errors are text, never markup
            self.console.print(line, highlight=False, markup=False)

        if isinstance(event, RunStarted):
            out(f"run #{event.run_id}: {len(event.to_run)} to run, {len(event.skipped)} up to "
                f"date, {len(event.cleared)} emptied first")
        elif isinstance(event, TaskStarted):
            out(f"start {event.table}")
        elif isinstance(event, TaskFinished):
            said = event.error or event.note
            extra = f" ({said})" if said else ""
            out(f"{event.status} {event.table} rows={event.rows} "
                f"seconds={event.seconds:.2f}{extra}")


class VerboseReporter:
    """``run --verbose``: passes every event to *inner* (the normal display), and under each
    task that ran, as it finishes, prints why the plan ran it, its resolved parameters,
    rows, seconds and rows/s."""

    def __init__(self, console: Console, inner: Callable[[Event], None],
                 reasons: Mapping[str, str], params: Mapping[str, Mapping[str, Any]]) -> None:
        self.console, self.inner, self.reasons, self.params = console, inner, reasons, params

    def __call__(self, event: Event) -> None:
        self.inner(event)
        if isinstance(event, TaskFinished) and event.table in self.reasons:
            values = ", ".join(f"{k}={json.dumps(v, default=str)}"
                               for k, v in sorted(self.params.get(event.table, {}).items()))
            for line in (f"    why: {self.reasons[event.table]}",
                         f"    params: {values or '-'}",
                         f"    {event.rows:,} rows in {event.seconds:.2f}s, "
                         f"{_rate(event.rows, event.seconds)} rows/s"):
                self.console.print(line, highlight=False, markup=False, soft_wrap=True)


def summary_table(result: RunResult) -> Table:
    table = Table(title=f"run #{result.run_id}: {result.status} in {result.seconds:.2f}s")
    table.add_column("task")
    table.add_column("status")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("rows/s", justify="right")
    for o in result.outcomes:
        style = STATUS_STYLE.get(o.status, "")
        table.add_row(escape(o.table), f"[{style}]{o.status}[/]", f"{o.rows:,}",
                      f"{o.seconds:.2f}", _rate(o.rows, o.seconds))
    table.add_section()
    table.add_row("total", result.status, f"{result.rows:,}", f"{result.seconds:.2f}",
                  _rate(result.rows, result.seconds))
    return table


def outcome_dict(o: TaskOutcome) -> dict[str, Any]:
    return {"table": o.table, "status": o.status, "rows": o.rows,
            "seconds": round(o.seconds, 4), "error": o.error, "note": o.note}


def result_json(result: RunResult, extra: Mapping[str, Any] | None = None) -> str:
    doc: dict[str, Any] = {
        "run_id": result.run_id,
        "status": result.status,
        "seconds": round(result.seconds, 4),
        "rows": result.rows,
        "tasks": [outcome_dict(o) for o in result.outcomes],
    }
    if extra:
        doc.update(extra)
    return json.dumps(doc, indent=2)


def rows_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*[escape(str(v)) for v in r])
    return table
