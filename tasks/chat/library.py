"""Chat profiles and prompt templates, from the file's basic and extended groups."""

from __future__ import annotations

import string

from seedgraph import DataFileError, TaskContext, task

from .clock import at

__all__ = ["chat_profiles", "placeholders", "prompts"]


@task("chat_profiles", data="seed_data.yaml", key="name", upstream=["models", "users"],
      tags=["config"], params=["profile_groups"])
async def chat_profiles(ctx: TaskContext) -> None:
    """Model, temperature, token limit and system prompt per use (natural key: name)."""
    rows = ctx.records(ctx.params["profile_groups"])
    rows.setdefault("created_by", [{"email": "admin@chatter.local"}] * len(rows))
    rows.setdefault("created_at", [at(ctx.as_of, 300 - 7 * i) for i in range(len(rows))])
    await ctx.write_records(rows)


@task("prompts", data="seed_data.yaml", key="name", upstream=["users"], tags=["config"],
      params=["prompt_groups"])
async def prompts(ctx: TaskContext) -> None:
    """Prompt templates; every {variable} of a template is declared (natural key: name)."""
    rows = ctx.records(ctx.params["prompt_groups"])
    for r in rows:
        used, declared = placeholders(r.values["template"]), set(r.values["variables"])
        if used != declared:
            missing, unused = sorted(used - declared), sorted(declared - used)
            raise DataFileError(rows.where(
                (f"template uses {{{missing[0]}}}, which 'variables' does not declare"
                 if missing else f"variable '{unused[0]}' is declared but not used"),
                r, "variables"))
    rows.setdefault("created_by", [{"email": "admin@chatter.local"}] * len(rows))
    rows.setdefault("created_at", [at(ctx.as_of, 290 - 5 * i) for i in range(len(rows))])
    await ctx.write_records(rows)


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template fills in (``{{`` is a literal brace)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}

