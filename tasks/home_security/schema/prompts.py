"""Prompt configurations, their version history, and A/B experiment results."""

import sqlalchemy as sa

from .. import vocab
from .base import METADATA, created_at, fk, one_of, pk, updated_at

prompt_configs = sa.Table(
    "prompt_configs", METADATA, pk(),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("description", sa.Text),
    # 003: idx_prompt_configs_model, a unique index: one configuration per model
    sa.Column("model", sa.String(50), nullable=False, index=True, unique=True),
    sa.Column("system_prompt", sa.Text, nullable=False),
    sa.Column("user_template", sa.Text, nullable=False),
    sa.Column("temperature", sa.Float, nullable=False, server_default="0.7"),
    sa.Column("max_tokens", sa.Integer, nullable=False, server_default="2048"),
    sa.Column("status", sa.String(10), nullable=False, server_default="active"),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
    one_of("status", vocab.PROMPT_STATUSES),
    sa.CheckConstraint("temperature BETWEEN 0 AND 2", name="temperature_range"),
    sa.CheckConstraint("max_tokens BETWEEN 100 AND 8192", name="max_tokens_range"),
)
prompt_versions = sa.Table(
    "prompt_versions", METADATA, pk(),
    fk("prompt_config_id", "prompt_configs.id"),
    sa.Column("model", sa.String(50), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("system_prompt", sa.Text, nullable=False),
    sa.Column("user_template", sa.Text, nullable=False),
    sa.Column("config_json", sa.Text, nullable=False),
    # 003's names (000 said changelog and is_current)
    sa.Column("change_description", sa.Text),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_by", sa.String(255)),
    created_at(),
    sa.UniqueConstraint("prompt_config_id", "version"),
    sa.UniqueConstraint("model", "version"),  # 003's unique (model, version)
    sa.CheckConstraint("version >= 1", name="version_positive"),
    # exactly one active version per model (003's idx_prompt_versions_model_active): at
    # most one here, at least one by invariant
    sa.Index("uq_prompt_versions_one_active", "model", unique=True,
             postgresql_where=sa.text("is_active"), sqlite_where=sa.text("is_active")),
)
experiment_results = sa.Table(
    "experiment_results", METADATA, pk(),
    fk("prompt_version_id", "prompt_versions.id"),
    fk("event_id", "events.id"),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("token_count", sa.Integer, nullable=False),
    sa.Column("user_rating", sa.Integer),
    sa.Column("accuracy_score", sa.Float, nullable=False),
    created_at(),
    sa.CheckConstraint("user_rating BETWEEN 1 AND 5", name="rating_range"),
    sa.CheckConstraint("accuracy_score BETWEEN 0 AND 1", name="accuracy_range"),
)
