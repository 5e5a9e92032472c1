"""AI enrichment of person detections: demographics, pose, action, threats, re-ID."""

import sqlalchemy as sa

from .. import vocab
from .base import (
    JSONB,
    METADATA,
    UUID,
    created_at,
    embedding,
    fk,
    one_of,
    pk,
)

demographics_results = sa.Table(
    "demographics_results", METADATA, pk(),
    fk("detection_id", "detections.id", index=False),
    sa.Column("age_min", sa.Integer, nullable=False),
    sa.Column("age_max", sa.Integer, nullable=False),
    sa.Column("gender", sa.String(10), nullable=False),
    sa.Column("gender_confidence", sa.Float, nullable=False),
    created_at(),
    sa.UniqueConstraint("detection_id"),
    one_of("gender", vocab.GENDERS),
    sa.CheckConstraint("age_min <= age_max", name="age_order"),
)
pose_results = sa.Table(
    "pose_results", METADATA, pk(),
    fk("detection_id", "detections.id", index=False),
    sa.Column("keypoints", JSONB, nullable=False),  # 17 COCO points [x, y, score], pixels
    sa.Column("pose_class", sa.String(12), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    created_at(),
    sa.UniqueConstraint("detection_id"),
    one_of("pose_class", vocab.POSE_CLASSES),
)
action_results = sa.Table(
    "action_results", METADATA, pk(),
    fk("detection_id", "detections.id"),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    created_at(),
    one_of("action", vocab.ACTIONS),
)
threat_detections = sa.Table(
    "threat_detections", METADATA, pk(),
    fk("detection_id", "detections.id"),
    sa.Column("threat_type", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    created_at(),
    one_of("threat_type", vocab.THREAT_TYPES),
    one_of("severity", vocab.SEVERITIES),
)
reid_embeddings = sa.Table(
    "reid_embeddings", METADATA, pk(),
    fk("detection_id", "detections.id", index=False),
    fk("entity_id", "entities.id", type_=UUID),
    embedding(),  # 512-dim, L2-normalised
    created_at(),
    sa.UniqueConstraint("detection_id"),
)
