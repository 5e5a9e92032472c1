"""The chat application's tables (source document 004): accounts, chat profiles, prompt
templates, conversations with their messages, documents with their chunks, and the
model registry. Configuration tables have a natural key (a unique name or email): they
are upserted by it, so the pack can run against a database that already holds them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

METADATA = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

JSONB = postgresql.JSONB().with_variant(sa.JSON(), "sqlite")
TextArray = postgresql.ARRAY(sa.Text).with_variant(sa.JSON(), "sqlite")
FloatArray = postgresql.ARRAY(sa.REAL).with_variant(sa.JSON(), "sqlite")
TS = sa.DateTime(timezone=True)


def _fk(name: str, target: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target), nullable=nullable)


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name)


ROLES = ("admin", "developer", "tester", "user")
MESSAGE_ROLES = ("system", "user", "assistant")
MODEL_TYPES = ("llm", "embedding")

providers = sa.Table(
    "providers", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("base_url", sa.String(256)),
    sa.Column("api_key_env", sa.String(64)),  # the variable holding the key, never the key
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)
models = sa.Table(
    "models", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    _fk("provider_id", "providers.id"),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("model_type", sa.String(16), nullable=False),
    sa.Column("context_window", sa.Integer),
    sa.Column("max_output_tokens", sa.Integer),
    sa.Column("dimensions", sa.Integer),  # embedding models only
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    _one_of("model_type", MODEL_TYPES, "model_type"),
    sa.CheckConstraint("(model_type = 'embedding') = (dimensions IS NOT NULL)",
                       name="dimensions_for_embeddings"),
)
embedding_spaces = sa.Table(
    "embedding_spaces", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    _fk("model_id", "models.id"),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("dimension", sa.Integer, nullable=False),
    sa.Column("distance_metric", sa.String(16), nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    _one_of("distance_metric", ("cosine", "l2", "inner_product"), "distance_metric"),
    sa.CheckConstraint("dimension > 0", name="dimension_positive"),
)
# at most one default embedding space (verify checks there is exactly one)
sa.Index("ix_embedding_spaces_one_default", embedding_spaces.c.is_default, unique=True,
         postgresql_where=embedding_spaces.c.is_default, sqlite_where=embedding_spaces.c.is_default)
users = sa.Table(
    "users", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("full_name", sa.String(128), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=False),  # Argon2id, PHC string
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_login_at", TS),
    _one_of("role", ROLES, "role"),
)
chat_profiles = sa.Table(
    "chat_profiles", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False),
    _fk("model_id", "models.id"),
    sa.Column("temperature", sa.Float, nullable=False),
    sa.Column("max_tokens", sa.Integer, nullable=False),
    sa.Column("system_prompt", sa.Text, nullable=False),
    sa.Column("specialization", sa.String(32), nullable=False),
    sa.Column("is_public", sa.Boolean, nullable=False),
    _fk("created_by", "users.id"),
    sa.Column("created_at", TS, nullable=False),
    sa.CheckConstraint("temperature >= 0 AND temperature <= 2", name="temperature_range"),
    sa.CheckConstraint("max_tokens > 0", name="max_tokens_positive"),
)
prompts = sa.Table(
    "prompts", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("template", sa.Text, nullable=False),
    sa.Column("variables", TextArray, nullable=False),
    sa.Column("suggested_parameters", JSONB, nullable=False),
    _fk("created_by", "users.id"),
    sa.Column("created_at", TS, nullable=False),
)
conversations = sa.Table(
    "conversations", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    _fk("user_id", "users.id"),
    _fk("profile_id", "chat_profiles.id"),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.CheckConstraint("updated_at >= created_at", name="time_order"),
)
messages = sa.Table(
    "messages", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    _fk("conversation_id", "conversations.id"),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("token_count", sa.Integer, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("conversation_id", "position"),
    _one_of("role", MESSAGE_ROLES, "role"),
    sa.CheckConstraint("token_count > 0", name="tokens_positive"),
)
documents = sa.Table(
    "documents", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    _fk("owner_id", "users.id"),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("content_type", sa.String(64), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("chunk_count", sa.Integer, nullable=False),
    sa.Column("metadata", JSONB, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    _one_of("status", ("pending", "processing", "processed", "failed"), "status"),
)
document_chunks = sa.Table(
    "document_chunks", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    _fk("document_id", "documents.id"),
    _fk("embedding_space_id", "embedding_spaces.id"),
    sa.Column("chunk_index", sa.Integer, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("token_count", sa.Integer, nullable=False),
    sa.Column("embedding", FloatArray, nullable=False),
    sa.Column("metadata", JSONB, nullable=False),
    sa.UniqueConstraint("document_id", "chunk_index"),
)
