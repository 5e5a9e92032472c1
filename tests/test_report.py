"""What a person reads: the live reporter's lines, plain log lines, the summary table and
the JSON document (rendered into a string console, as rich's own tests do)."""

from __future__ import annotations

import io
import json

from rich.console import Console

from seedgraph.events import RunFinished, RunStarted, TaskFinished, TaskProgress, TaskStarted
from seedgraph.report import PlainReporter, RichReporter, result_json, rows_table, summary_table
from seedgraph.runner import RunResult, TaskOutcome

ODD = "[red]odd[/] name"  # a table name that looks like rich markup

EVENTS = [
    RunStarted(3, ("orders", ODD), ("regions",), ("orders",), resumed=False),
    TaskStarted("orders"),
    TaskProgress("orders", 1500, 0.5),
    TaskFinished("orders", "done", 1500, 0.5),
    TaskStarted(ODD),
    TaskFinished(ODD, "failed", 0, 0.25, "task failed: bad [value]"),
    RunFinished(3, "failed", 0.8),
]


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=120, color_system=None), buf


def test_the_live_reporter_prints_each_finished_task_above_the_bars() -> None:
    console, buf = _console()
    with RichReporter(console) as reporter:
        for e in EVENTS:
            reporter(e)
    lines = [ln.rstrip() for ln in buf.getvalue().splitlines() if ln.strip()]
    assert lines[0] == ("run #3 starting: 2 task(s) to run, 1 up to date, 1 table(s) "
                        "emptied first")
    assert lines[1].split() == ["done", "orders", "1,500", "rows", "0.50s"]
    assert lines[2].split()[:5] == ["failed", "[red]odd[/]", "name", "0", "rows"]
    assert lines[2].endswith("0.25s — task failed: bad [value]")
    assert reporter._ids == {}  # every bar removed once its task finished


def test_a_resumed_run_says_so() -> None:
    console, buf = _console()
    with RichReporter(console) as reporter:
        reporter(RunStarted(4, ("a",), (), (), resumed=True))
    assert buf.getvalue().startswith("run #4 resuming: 1 task(s) to run, 0 up to date")


def test_plain_lines_for_logs() -> None:
    console, buf = _console()
    reporter = PlainReporter(console)
    for e in EVENTS:
        reporter(e)
    assert buf.getvalue().splitlines() == [
        "run #3: 2 to run, 1 up to date, 1 emptied first",
        "start orders",
        "done orders rows=1500 seconds=0.50",
        f"start {ODD}",
        f"failed {ODD} rows=0 seconds=0.25 (task failed: bad [value])",
    ]


RESULT = RunResult(7, "failed", 2.0, (
    TaskOutcome("orders", "done", 12_000, 1.5),
    TaskOutcome(ODD, "failed", 0, 0.5, "boom"),
    TaskOutcome("shipments", "skipped", 0, 0.0, "upstream failed"),
))


def test_the_summary_table_counts_only_what_was_done() -> None:
    console, buf = _console()
    console.print(summary_table(RESULT))
    text = buf.getvalue()
    assert "run #7: failed in 2.00s" in text
    rows = {ln.split("│")[1].strip(): [c.strip() for c in ln.split("│")[2:-1]]
            for ln in text.splitlines() if ln.count("│") >= 6}
    assert rows["orders"] == ["done", "12,000", "1.50", "8,000"]
    assert rows[ODD] == ["failed", "0", "0.50", "-"]
    assert rows["shipments"] == ["skipped", "0", "0.00", "-"]
    assert rows["total"] == ["failed", "12,000", "2.00", "6,000"]


def test_the_json_document() -> None:
    doc = json.loads(result_json(RESULT, {"database": "sqlite:///x.db"}))
    assert doc == {
        "run_id": 7, "status": "failed", "seconds": 2.0, "rows": 12_000,
        "database": "sqlite:///x.db",
        "tasks": [
            {"table": "orders", "status": "done", "rows": 12_000, "seconds": 1.5,
             "error": None, "note": None},
            {"table": ODD, "status": "failed", "rows": 0, "seconds": 0.5, "error": "boom",
             "note": None},
            {"table": "shipments", "status": "skipped", "rows": 0, "seconds": 0.0,
             "error": "upstream failed", "note": None},
        ]}


def test_rows_table_shows_values_as_text() -> None:
    console, buf = _console()
    console.print(rows_table("t", ["a", "b"], [(ODD, 1), ("x", None)]))
    text = buf.getvalue()
    assert ODD in text and "None" in text
