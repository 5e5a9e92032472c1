"""The ``seedgraph`` command line (typer). Parses flags, calls :mod:`seedgraph.api`, renders.

Every :class:`~seedgraph.errors.SeedgraphError` becomes a one-line message on
stderr and a non-zero exit code: 2 for bad input, 1 for refusals and failures,
130 for an interrupted run.

One module per kind of command: :mod:`~seedgraph.cli.running` (run, plan),
:mod:`~seedgraph.cli.inspecting` (list, profiles, status, verify, export, plot),
:mod:`~seedgraph.cli.schema` (clean, schema create/drop), :mod:`~seedgraph.cli.init`;
:mod:`~seedgraph.cli.common` holds the apps, consoles, options and error handling. The
commands are registered here, in the order ``seedgraph --help`` lists them.
"""

from __future__ import annotations

import sys

from seedgraph.cli import init, inspecting, running, schema
from seedgraph.cli.common import app, err, schema_app

__all__ = ["app", "main"]

app.command()(running.run)
app.command()(running.plan)
app.command("list")(inspecting.list_tasks)
app.command()(inspecting.profiles)
app.command()(inspecting.status)
app.command()(schema.clean)
schema_app.command("create")(schema.schema_create)
schema_app.command("drop")(schema.schema_drop)
app.command()(inspecting.verify)
app.command()(init.init)
app.command()(inspecting.export)
app.command()(inspecting.plot)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
