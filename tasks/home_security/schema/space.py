"""Logical areas, camera coverage, calibrations and per-zone household rules."""

import sqlalchemy as sa

from .. import vocab
from .base import (
    JSONB,
    METADATA,
    created_at,
    fk,
    one_of,
    pk,
    ts,
    updated_at,
)

areas = sa.Table(
    "areas", METADATA, pk(),
    fk("property_id", "properties.id"),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text),
    created_at(),
    sa.UniqueConstraint("property_id", "name"),
)
camera_areas = sa.Table(
    "camera_areas", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=sa.String(36)),
    fk("area_id", "areas.id"),
    sa.UniqueConstraint("camera_id", "area_id"),
)
camera_calibrations = sa.Table(
    "camera_calibrations", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=sa.String(36), index=False),
    sa.Column("focal_length_mm", sa.Float, nullable=False),
    sa.Column("mounting_height_m", sa.Float, nullable=False),
    sa.Column("tilt_angle_deg", sa.Float, nullable=False),
    sa.Column("reference_object_size", sa.Float, nullable=False),  # metres
    sa.Column("pixels_per_meter", sa.Float, nullable=False),
    ts("calibrated_at"),
    sa.UniqueConstraint("camera_id"),
    sa.CheckConstraint("mounting_height_m > 0 AND focal_length_mm > 0", name="positive"),
)
user_calibrations = sa.Table(
    "user_calibrations", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=sa.String(36)),
    sa.Column("calibration_type", sa.String(32), nullable=False),
    sa.Column("calibration_data", JSONB, nullable=False),
    sa.Column("point1", JSONB, nullable=False),  # [x, y] normalised
    sa.Column("point2", JSONB, nullable=False),
    sa.Column("real_world_distance_m", sa.Float, nullable=False),
    sa.Column("label", sa.String(255), nullable=False),
    created_at(),
    updated_at(),
    sa.CheckConstraint("real_world_distance_m > 0", name="distance_positive"),
)
zone_household_configs = sa.Table(
    "zone_household_configs", METADATA, pk(),
    fk("zone_id", "camera_zones.id", type_=sa.String(36)),
    fk("household_id", "households.id"),
    sa.Column("suppress_known_members", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("suppress_known_vehicles", sa.Boolean, nullable=False, server_default=sa.true()),
    created_at(),
    sa.UniqueConstraint("zone_id", "household_id"),
)
camera_notification_settings = sa.Table(
    "camera_notification_settings", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=sa.String(36)),
    fk("notification_preference_id", "notification_preferences.id"),
    sa.Column("override_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("min_severity_override", sa.String(10)),
    sa.UniqueConstraint("camera_id", "notification_preference_id"),
    one_of("min_severity_override", vocab.SEVERITIES),
)
