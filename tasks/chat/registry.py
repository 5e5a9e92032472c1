"""The model registry: providers, their models and the embedding spaces (all modes)."""

from __future__ import annotations

from seedgraph import TaskContext, task

from .clock import at

REGISTRY_AGE_DAYS = 400  # the registry predates every account


@task("providers", data="seed_data.yaml", key="name", tags=["config", "registry"])
async def providers(ctx: TaskContext) -> None:
    """LLM providers (natural key: name)."""
    await _registry_rows(ctx)


@task("models", data="seed_data.yaml", key="name", upstream=["providers"],
      tags=["config", "registry"])
async def models(ctx: TaskContext) -> None:
    """Chat and embedding models (natural key: name)."""
    await _registry_rows(ctx)


@task("embedding_spaces", data="seed_data.yaml", key="name", upstream=["models"],
      tags=["config", "registry"])
async def embedding_spaces(ctx: TaskContext) -> None:
    """Embedding spaces; exactly one is the default (natural key: name)."""
    await _registry_rows(ctx)


async def _registry_rows(ctx: TaskContext) -> None:
    """The file's rows, created when the registry was set up (before every account)."""
    rows = ctx.records()
    rows.setdefault("created_at", [at(ctx.as_of, REGISTRY_AGE_DAYS)] * len(rows))
    await ctx.write_records(rows)
