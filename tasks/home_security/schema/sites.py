"""Sites and people: properties, households, members, vehicles, notifications, face identity."""

import sqlalchemy as sa

from .. import vocab
from .base import (
    METADATA,
    IntArray,
    created_at,
    embedding,
    fk,
    one_of,
    pk,
)

properties = sa.Table(
    "properties", METADATA, pk(),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("address", sa.String(255), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    created_at(),
)
households = sa.Table(
    "households", METADATA, pk(),
    fk("property_id", "properties.id"),
    sa.Column("name", sa.String(255), nullable=False),
    created_at(),
    sa.UniqueConstraint("property_id", "name"),
)
household_members = sa.Table(
    "household_members", METADATA, pk(),
    fk("household_id", "households.id"),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    created_at(),
    one_of("role", vocab.MEMBER_ROLES),
)
registered_vehicles = sa.Table(
    "registered_vehicles", METADATA, pk(),
    fk("household_id", "households.id"),
    fk("owner_member_id", "household_members.id", nullable=True, ondelete="SET NULL"),
    sa.Column("plate_number", sa.String(16), nullable=False, unique=True),
    sa.Column("make", sa.String(64), nullable=False),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("color", sa.String(32), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    created_at(),
    sa.CheckConstraint("year BETWEEN 1980 AND 2030", name="year_range"),
)
notification_preferences = sa.Table(
    "notification_preferences", METADATA, pk(),
    fk("household_member_id", "household_members.id", index=False),
    sa.Column("push_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("email_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("min_severity", sa.String(10), nullable=False, server_default="medium"),
    sa.Column("sound", sa.String(32), nullable=False, server_default="default"),
    created_at(),
    sa.UniqueConstraint("household_member_id"),
    one_of("min_severity", vocab.SEVERITIES),
)
quiet_hours = sa.Table(
    "quiet_hours", METADATA, pk(),
    fk("notification_preference_id", "notification_preferences.id"),
    sa.Column("start_time", sa.Time, nullable=False),
    sa.Column("end_time", sa.Time, nullable=False),
    sa.Column("days_of_week", IntArray, nullable=False),  # 0 = Monday
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("label", sa.String(64)),
)
known_persons = sa.Table(
    "known_persons", METADATA, pk(),
    fk("household_member_id", "household_members.id", nullable=True, ondelete="SET NULL"),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("is_household_member", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("notes", sa.Text),
    created_at(),
)
face_embeddings = sa.Table(
    "face_embeddings", METADATA, pk(),
    fk("known_person_id", "known_persons.id"),
    embedding(),  # 512-dim ArcFace, L2-normalised
    sa.Column("quality_score", sa.Float, nullable=False),
    sa.Column("source_image_path", sa.String(512)),
    created_at(),
    sa.CheckConstraint("quality_score BETWEEN 0 AND 1", name="quality_range"),
)
person_embeddings = sa.Table(
    "person_embeddings", METADATA, pk(),
    fk("household_member_id", "household_members.id"),
    embedding(),  # 512-dim, L2-normalised
    sa.Column("quality_score", sa.Float, nullable=False),
    sa.Column("source_image_path", sa.String(512), nullable=False),
    created_at(),
    sa.CheckConstraint("quality_score BETWEEN 0 AND 1", name="quality_range"),
)
