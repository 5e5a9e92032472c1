"""A pack whose rows come from data files: teams (YAML, upserted by slug with no unique
index), members (CSV naming their team by slug), plans (JSON)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from seedgraph import TaskContext, task

METADATA = sa.MetaData()
JSON = postgresql.JSONB().with_variant(sa.JSON(), "sqlite")

teams = sa.Table(
    "teams", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(32), nullable=False),  # the natural key, deliberately not unique
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("budget", sa.Numeric(10, 2)),
    sa.Column("settings", JSON),
)
members = sa.Table(
    "members", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("email", sa.String(64), nullable=False, unique=True),
    sa.Column("joined_on", sa.Date, nullable=False),
    sa.Column("is_lead", sa.Boolean, nullable=False),
)
plans = sa.Table(
    "plans", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(16), nullable=False, unique=True),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("starts_at", sa.DateTime, nullable=False),
)


@task("teams", data="teams.yaml", key="slug")
async def teams_task(ctx: TaskContext) -> None:
    await ctx.write_records(ctx.records())


@task("members", data="members.csv", key="email", upstream=["teams"])
async def members_task(ctx: TaskContext) -> None:
    await ctx.write_records(ctx.records())


@task("plans", data="plans.json")
async def plans_task(ctx: TaskContext) -> None:
    await ctx.write_records(ctx.records())
