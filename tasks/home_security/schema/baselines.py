"""Activity baselines per camera and zone, and the anomalies measured against them."""

import sqlalchemy as sa

from .. import vocab
from .base import METADATA, UUID, fk, one_of, pk, ts

activity_baselines = sa.Table(
    "activity_baselines", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=sa.String(36)),
    sa.Column("hour", sa.Integer, nullable=False),
    sa.Column("day_of_week", sa.Integer, nullable=False),  # 0 = Monday
    sa.Column("avg_count", sa.Float, nullable=False, server_default="0"),
    sa.Column("sample_count", sa.Integer, nullable=False, server_default="0"),
    ts("last_updated", default_now=True),
    sa.UniqueConstraint("camera_id", "hour", "day_of_week"),
    sa.CheckConstraint("hour BETWEEN 0 AND 23 AND day_of_week BETWEEN 0 AND 6", name="slot"),
)
class_baselines = sa.Table(
    "class_baselines", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=sa.String(36)),
    sa.Column("detection_class", sa.String(32), nullable=False),
    sa.Column("hour", sa.Integer, nullable=False),
    sa.Column("frequency", sa.Float, nullable=False, server_default="0"),
    sa.Column("sample_count", sa.Integer, nullable=False, server_default="0"),
    ts("last_updated", default_now=True),
    sa.UniqueConstraint("camera_id", "detection_class", "hour"),
    sa.CheckConstraint("hour BETWEEN 0 AND 23", name="hour_range"),
)
zone_activity_baselines = sa.Table(
    "zone_activity_baselines", METADATA,
    sa.Column("id", UUID, primary_key=True),
    fk("zone_id", "camera_zones.id", type_=sa.String(36)),
    sa.Column("hour_of_day", sa.Integer, nullable=False),
    sa.Column("day_of_week", sa.Integer, nullable=False),
    sa.Column("avg_detections", sa.Float, nullable=False),
    sa.Column("std_dev", sa.Float, nullable=False),
    sa.Column("sample_count", sa.Integer, nullable=False),
    ts("updated_at"),
    sa.UniqueConstraint("zone_id", "hour_of_day", "day_of_week"),
    sa.CheckConstraint("std_dev > 0", name="std_positive"),
)
zone_anomalies = sa.Table(
    "zone_anomalies", METADATA,
    sa.Column("id", sa.String(36), primary_key=True),
    fk("zone_id", "camera_zones.id", type_=sa.String(36)),
    sa.Column("anomaly_type", sa.String(24), nullable=False),
    sa.Column("baseline_value", sa.Float, nullable=False),
    sa.Column("actual_value", sa.Float, nullable=False),
    sa.Column("deviation_score", sa.Float, nullable=False),
    fk("event_id", "events.id", nullable=True, ondelete="SET NULL"),
    ts("detected_at"),
    one_of("anomaly_type", vocab.ANOMALY_TYPES),
)
