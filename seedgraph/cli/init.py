"""``seedgraph init``: write the pack ``run --auto`` would infer, ready to edit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seedgraph.cli.common import ConfigOpt, DbOpt, handle_errors, out
from seedgraph.errors import UsageError


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
