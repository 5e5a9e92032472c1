"""The commands that delete or create: ``clean`` and ``schema create`` / ``schema drop``."""

from __future__ import annotations

import json
from typing import Annotated

import anyio
import typer

from seedgraph import api
from seedgraph.cli.common import (
    AutoOpt,
    ConfigOpt,
    DbOpt,
    ExcludeOpt,
    JsonOpt,
    OnlyOpt,
    PackOpt,
    ProdOpt,
    handle_errors,
    out,
)
from seedgraph.report import rows_table


@handle_errors
def clean(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None, auto: AutoOpt = False,
          only: OnlyOpt = None, exclude: ExcludeOpt = None,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the row counts only.")] = False,
          confirm: Annotated[bool, typer.Option("--confirm", help="Really delete.")] = False,
          allow_production: ProdOpt = False, json_out: JsonOpt = False) -> None:
    """Empty the selected tables, children first (needs --confirm; --dry-run shows counts)."""
    options = api.Options(pack=pack, db=db, config=config, auto=auto, only=only, exclude=exclude,
                          confirm=confirm, allow_production=allow_production)
    result = anyio.run(lambda: api.clean(options, dry_run=dry_run))
    if json_out:
        print(json.dumps({"deleted": result.deleted, "tables": list(result.tables),
                          "rows": dict(result.rows)}, indent=2))
        return
    verb = "deleted" if result.deleted else "would delete"
    out.print(rows_table(f"clean ({'done' if result.deleted else 'dry run'})",
                         ["table", f"rows {verb}"],
                         [(t, f"{result.rows[t]:,}") for t in result.tables]))
    out.print(f"{verb} {sum(result.rows.values()):,} rows from {len(result.tables)} tables")


@handle_errors
def schema_create(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None) -> None:
    """Create the pack's missing tables."""
    options = api.Options(pack=pack, db=db, config=config)
    created = anyio.run(lambda: api.create_schema(options))
    out.print(f"created {len(created)} table(s)" + (": " + ", ".join(created) if created else ""))


@handle_errors
def schema_drop(pack: PackOpt = None, db: DbOpt = None, config: ConfigOpt = None,
                only: OnlyOpt = None, exclude: ExcludeOpt = None,
                confirm: Annotated[bool, typer.Option("--confirm", help="Really drop.")] = False,
                allow_production: ProdOpt = False) -> None:
    """Drop the pack's tables (needs --confirm)."""
    options = api.Options(pack=pack, db=db, config=config, only=only, exclude=exclude,
                          allow_production=allow_production)
    dropped = anyio.run(lambda: api.drop_schema(options, confirm=confirm))
    out.print(f"dropped {len(dropped)} table(s)")
