"""Prompt configurations, their version history, and A/B experiment results."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, gen, invariant, task

from . import sim

CONFIGS = (
    ("risk_analysis_v1", "Main threat assessment prompt", "nemotron", 0.3, 2048,
     "You are a home security analyst. Assess the risk of the detections below from 0 to 100 "
     "and explain your reasoning briefly.",
     "Camera: {camera}\nTime: {time}\nDetections: {detections}\nZones: {zones}"),
    ("scene_description", "Natural language scene summary", "florence-2", 0.7, 512,
     "Describe the scene in one or two plain sentences for a homeowner.",
     "Image from {camera} at {time}. Objects: {detections}"),
    # 003 keys configurations by model (unique): the threat pass runs on X-CLIP's text prompts
    ("threat_assessment", "Specialized threat-focused analysis", "x-clip", 0.2, 1024,
     "Focus only on signs of threat: weapons, forced entry, concealment, prowling.",
     "Detections: {detections}\nPose: {pose}\nActions: {actions}"),
)
CHANGES = ("Initial version", "Tightened the risk scale wording", "Added zone context",
           "Reduced false positives for delivery drivers", "Shorter reasoning",
           "Added pose and action hints")


@task("prompt_configs", tags=["prompts", "config"], params={"versions_per_config": 4})
async def prompt_configs(ctx: TaskContext) -> None:
    """risk_analysis_v1, scene_description and threat_assessment, one per model; `version`
    is the latest of the model's `versions_per_config` versions (003: it increments on
    each update)."""
    n = len(CONFIGS)
    created = gen.timestamps(ctx.rng, n, ctx.as_of - timedelta(days=60), days=120 - 60)
    await ctx.write({
        "id": gen.ids(n), "name": [c[0] for c in CONFIGS],
        "description": [c[1] for c in CONFIGS], "model": [c[2] for c in CONFIGS],
        "temperature": [c[3] for c in CONFIGS], "max_tokens": [c[4] for c in CONFIGS],
        "system_prompt": [c[5] for c in CONFIGS], "user_template": [c[6] for c in CONFIGS],
        "status": ["active", "active", "draft"],
        "version": np.full(n, int(ctx.params["versions_per_config"])),
        "created_at": created, "updated_at": created + sim.seconds(ctx.rng.integers(
            sim.DAY, 50 * sim.DAY, n)),
    })


@task("prompt_versions", upstream=["prompt_configs"], tags=["prompts", "config"])
async def prompt_versions(ctx: TaskContext) -> None:
    """Versions 1..n of each config, n its `version`: version 1 when the config was created,
    the latest (the only active one) at its last update, the others in between."""
    cfg = await ctx.read("prompt_configs", ["id", "model", "system_prompt", "user_template",
                                            "temperature", "version", "created_at",
                                            "updated_at"])
    rows: list[tuple[Any, ...]] = []
    for cid, model, system, template, temp, k, created, updated in zip(
            cfg["id"].tolist(), cfg["model"], cfg["system_prompt"], cfg["user_template"],
            cfg["temperature"].tolist(), cfg["version"].tolist(), cfg["created_at"],
            cfg["updated_at"], strict=True):
        span = int((updated - created) // np.timedelta64(1, "s"))
        between = np.sort(ctx.rng.integers(1, max(span, 2), max(k - 2, 0)))
        offsets = [0, *between.tolist(), span][:k] if k > 1 else [0]
        for v, offset in enumerate(offsets, start=1):
            when = created + np.timedelta64(int(offset), "s")
            t = round(float(np.clip(temp + ctx.rng.normal(0, 0.1), 0, 2)), 2)
            rows.append((cid, model, v, system if v == k else f"{system} (v{v})", template,
                         json.dumps({"temperature": t, "max_tokens": 1024 + 256 * v}),
                         CHANGES[min(v - 1, len(CHANGES) - 1)] if v > 1 else CHANGES[0],
                         v == k, v, str(ctx.rng.choice(["john.smith", "ml-team", "ops-bot"])),
                         when))
    await ctx.write_rows(["prompt_config_id", "model", "version", "system_prompt",
                          "user_template", "config_json", "change_description", "is_active",
                          "row_version", "created_by", "created_at"], rows)


@task("experiment_results", upstream=["prompt_versions", "events"], tags=["prompts"],
      params={"experiment_results": 50})
async def experiment_results(ctx: TaskContext) -> None:
    """A/B results of prompt versions on real events: latency, tokens, ratings, accuracy."""
    pv = await ctx.read("prompt_versions", ["id", "version"])
    ev = await ctx.read("events", ["id", "ended_at"])
    n = min(int(ctx.params["experiment_results"]), 10 * len(ev["id"]))
    rng = ctx.rng
    version = rng.integers(0, len(pv["id"]), n)
    event = rng.integers(0, len(ev["id"]), n)
    newer = pv["version"][version]
    rating = gen.with_nulls(rng, gen.integers(rng, n, 1, 5), 0.4)
    await ctx.write({
        "prompt_version_id": pv["id"][version], "event_id": ev["id"][event],
        "latency_ms": rng.gamma(6, 180, n).astype(np.int64) + 200,
        "token_count": rng.integers(180, 900, n),
        "user_rating": rating,
        "accuracy_score": np.round(np.clip(rng.beta(6, 3, n) + 0.02 * newer, 0, 1), 3),
        "created_at": ev["ended_at"][event] + sim.seconds(rng.integers(10, 3600, n)),
    })


@invariant("prompt_config_version_is_latest", tables=["prompt_configs", "prompt_versions"])
async def config_version_is_latest(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """prompt_configs.version is the latest version of its model in prompt_versions."""
    return await ctx.query(
        "SELECT c.id, c.model, c.version, MAX(v.version) FROM prompt_configs c "
        "LEFT JOIN prompt_versions v ON v.model = c.model GROUP BY c.id, c.model, c.version "
        "HAVING MAX(v.version) IS NULL OR MAX(v.version) <> c.version")


@invariant("one_active_prompt_version", tables=["prompt_versions", "prompt_configs"])
async def one_active_version(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Each config has versions 1..n and exactly one active version."""
    return await ctx.query(
        "SELECT prompt_config_id, COUNT(*), MIN(version), MAX(version), "
        "SUM(CASE WHEN is_active THEN 1 ELSE 0 END) FROM prompt_versions "
        "GROUP BY prompt_config_id HAVING MIN(version) <> 1 OR MAX(version) <> COUNT(*) "
        "OR SUM(CASE WHEN is_active THEN 1 ELSE 0 END) <> 1")
