"""Cameras and their detection zones (camera_zones supersedes the older zones table)."""

import sqlalchemy as sa

from .. import vocab
from .base import (
    JSONB,
    METADATA,
    created_at,
    fk,
    one_of,
    ts,
    updated_at,
)

cameras = sa.Table(
    "cameras", METADATA,
    sa.Column("id", sa.String(36), primary_key=True),  # UUID format
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("folder_path", sa.String(512), nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="online"),
    fk("property_id", "properties.id", nullable=True, ondelete="SET NULL"),
    created_at(),
    ts("last_seen_at", nullable=True),
    ts("deleted_at", nullable=True),
    one_of("status", vocab.CAMERA_STATUSES),
)
camera_zones = sa.Table(
    "camera_zones", METADATA,
    sa.Column("id", sa.String(36), primary_key=True),
    fk("camera_id", "cameras.id", type_=sa.String(36)),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("zone_type", sa.String(20), nullable=False, server_default="other"),
    sa.Column("polygon_coords", JSONB, nullable=False),  # [[x, y], ...] normalised 0-1
    sa.Column("shape", sa.String(10), nullable=False, server_default="rectangle"),
    sa.Column("color", sa.String(7), nullable=False, server_default="#3B82F6"),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sensitivity", sa.Float, nullable=False, server_default="0.5"),
    sa.Column("detection_classes", JSONB),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    created_at(),
    updated_at(),
    sa.UniqueConstraint("camera_id", "name"),
    one_of("zone_type", vocab.ZONE_TYPES),
    one_of("shape", vocab.ZONE_SHAPES),
    sa.CheckConstraint("sensitivity BETWEEN 0 AND 1", name="sensitivity_range"),
    sa.Index("ix_camera_zones_camera_enabled", "camera_id", "enabled"),
)
