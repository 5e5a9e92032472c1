"""The detection pipeline: detections, events, alerts, feedback, tracking, faces, actions."""

import sqlalchemy as sa

from .. import vocab
from .base import (
    JSONB,
    METADATA,
    TSVECTOR,
    UUID,
    created_at,
    embedding,
    fk,
    one_of,
    pk,
    ts,
    updated_at,
)

CAMERA_ID = sa.String(36)

detections = sa.Table(
    "detections", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=CAMERA_ID, index=False),
    sa.Column("file_path", sa.String(512), nullable=False),
    sa.Column("file_type", sa.String(32)),
    ts("detected_at", default_now=True),
    sa.Column("object_type", sa.String(32)),
    sa.Column("confidence", sa.Float),
    sa.Column("bbox_x", sa.Integer),
    sa.Column("bbox_y", sa.Integer),
    sa.Column("bbox_width", sa.Integer),
    sa.Column("bbox_height", sa.Integer),
    sa.Column("thumbnail_path", sa.String(512)),
    sa.Column("enrichment_data", JSONB),
    sa.CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence_range"),
    sa.CheckConstraint("bbox_width > 0 AND bbox_height > 0", name="bbox_positive"),
    sa.Index("idx_detections_camera_id", "camera_id"),
    sa.Index("idx_detections_detected_at", "detected_at"),
    sa.Index("idx_detections_camera_time", "camera_id", "detected_at"),
)
events = sa.Table(
    "events", METADATA, pk(),
    sa.Column("batch_id", sa.String(36), nullable=False),
    fk("camera_id", "cameras.id", type_=CAMERA_ID, index=False),
    ts("started_at"),
    ts("ended_at", nullable=True),
    sa.Column("risk_score", sa.Integer),
    sa.Column("risk_level", sa.String(10)),
    sa.Column("summary", sa.Text),
    sa.Column("reasoning", sa.Text),
    sa.Column("detection_ids", sa.Text),  # JSON array text, as the platform stores it
    sa.Column("object_types", JSONB),
    sa.Column("reviewed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("notes", sa.Text),
    sa.Column("is_fast_path", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("search_vector", TSVECTOR),  # kept in sync by a trigger on PostgreSQL
    ts("deleted_at", nullable=True),
    sa.CheckConstraint("risk_score BETWEEN 0 AND 100", name="risk_score_range"),
    sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="time_order"),
    one_of("risk_level", vocab.RISK_LEVELS),
    sa.Index("idx_events_camera_id", "camera_id"),
    sa.Index("idx_events_started_at", "started_at"),
    sa.Index("idx_events_risk_score", "risk_score"),
    sa.Index("idx_events_reviewed", "reviewed"),
    sa.Index("idx_events_batch_id", "batch_id"),
    sa.Index("idx_events_search_vector", "search_vector", postgresql_using="gin"),
)
# search_vector: summary + reasoning + object types, maintained by the database itself
sa.event.listen(events, "after_create", sa.DDL("""
CREATE OR REPLACE FUNCTION events_search_vector_update() RETURNS trigger AS $$
BEGIN
  NEW.search_vector := to_tsvector('english',
      coalesce(NEW.summary, '') || ' ' || coalesce(NEW.reasoning, '') || ' ' ||
      coalesce(NEW.object_types::text, ''));
  RETURN NEW;
END $$ LANGUAGE plpgsql
""").execute_if(dialect="postgresql"))
sa.event.listen(events, "after_create", sa.DDL(
    "CREATE TRIGGER events_search_vector_trigger BEFORE INSERT OR UPDATE ON events "
    "FOR EACH ROW EXECUTE FUNCTION events_search_vector_update()"
).execute_if(dialect="postgresql"))
sa.event.listen(events, "after_drop", sa.DDL(
    "DROP FUNCTION IF EXISTS events_search_vector_update()").execute_if(dialect="postgresql"))

event_detections = sa.Table(
    "event_detections", METADATA,
    sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("detection_id", sa.Integer, sa.ForeignKey("detections.id", ondelete="CASCADE"),
              primary_key=True, index=True),
    created_at(),
)
alert_rules = sa.Table(
    "alert_rules", METADATA,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, index=True),
    sa.Column("description", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true(), index=True),
    sa.Column("severity", sa.String(10), nullable=False, server_default="medium", index=True),
    sa.Column("risk_threshold", sa.Integer),
    sa.Column("object_types", JSONB),
    sa.Column("camera_ids", JSONB),
    sa.Column("zone_ids", JSONB),
    sa.Column("min_confidence", sa.Float),
    sa.Column("schedule", JSONB),
    sa.Column("conditions", JSONB),
    sa.Column("dedup_key_template", sa.String(255), nullable=False,
              server_default="{camera_id}:{rule_id}"),
    sa.Column("cooldown_seconds", sa.Integer, nullable=False, server_default="300"),
    sa.Column("channels", JSONB),
    created_at(),
    updated_at(),
    one_of("severity", vocab.SEVERITIES),
    sa.CheckConstraint("risk_threshold BETWEEN 0 AND 100", name="threshold_range"),
    sa.CheckConstraint("min_confidence BETWEEN 0 AND 1", name="confidence_range"),
)
alerts = sa.Table(
    "alerts", METADATA,
    sa.Column("id", UUID, primary_key=True),
    fk("event_id", "events.id"),
    fk("rule_id", "alert_rules.id", type_=UUID, nullable=True, ondelete="SET NULL"),
    sa.Column("severity", sa.String(10), nullable=False, server_default="medium", index=True),
    sa.Column("status", sa.String(12), nullable=False, server_default="pending", index=True),
    ts("created_at", default_now=True),
    updated_at(),
    ts("delivered_at", nullable=True),
    sa.Column("channels", JSONB),
    sa.Column("dedup_key", sa.String(255), nullable=False, index=True),
    sa.Column("metadata", JSONB),
    one_of("severity", vocab.SEVERITIES),
    one_of("status", vocab.ALERT_STATUSES),
    sa.Index("idx_alerts_created_at", "created_at"),
    sa.Index("idx_alerts_dedup_key_created_at", "dedup_key", "created_at"),
)
event_feedback = sa.Table(
    "event_feedback", METADATA, pk(),
    fk("event_id", "events.id", index=False),
    sa.Column("feedback_type", sa.String(20), nullable=False),
    sa.Column("feedback_text", sa.Text),
    sa.Column("corrected_risk_level", sa.String(10)),
    sa.Column("corrected_labels", JSONB),
    sa.Column("created_by", sa.String(100), nullable=False),
    created_at(),
    sa.UniqueConstraint("event_id"),
    one_of("feedback_type", vocab.FEEDBACK_TYPES),
    one_of("corrected_risk_level", vocab.RISK_LEVELS),
)
event_audits = sa.Table(
    "event_audits", METADATA, pk(),
    fk("event_id", "events.id", index=False),
    ts("audited_at"),
    sa.Column("model", sa.String(50), nullable=False),
    sa.Column("consistency_score", sa.Float, nullable=False),
    sa.Column("enrichment_utilization", sa.Float, nullable=False),
    sa.Column("reasoning_coherence", sa.Float, nullable=False),
    sa.Column("overall_quality", sa.Float, nullable=False),
    sa.Column("issues", JSONB),
    sa.UniqueConstraint("event_id"),
    sa.CheckConstraint("overall_quality BETWEEN 0 AND 1", name="quality_range"),
)
entities = sa.Table(
    "entities", METADATA,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("entity_type", sa.String(20), nullable=False, server_default="person", index=True),
    sa.Column("trust_status", sa.String(20), nullable=False, server_default="unknown",
              index=True),
    sa.Column("embedding_vector", JSONB),
    ts("first_seen_at", default_now=True),
    ts("last_seen_at", default_now=True),
    sa.Column("detection_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("entity_metadata", JSONB),
    sa.Column("primary_detection_id", sa.Integer),  # no FK, as documented
    one_of("entity_type", vocab.ENTITY_TYPES),
    one_of("trust_status", vocab.TRUST_STATUSES),
    sa.CheckConstraint("last_seen_at >= first_seen_at", name="seen_order"),
    sa.Index("idx_entities_type_last_seen", "entity_type", "last_seen_at"),
    sa.Index("ix_entities_entity_metadata_gin", "entity_metadata", postgresql_using="gin"),
)
tracks = sa.Table(
    "tracks", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=CAMERA_ID),
    fk("entity_id", "entities.id", type_=UUID, nullable=True, ondelete="SET NULL"),
    sa.Column("object_type", sa.String(32), nullable=False),
    sa.Column("trajectory", JSONB, nullable=False),  # [[x, y, t_seconds], ...] normalised
    ts("first_seen_at"),
    ts("last_seen_at"),
    sa.Column("point_count", sa.Integer, nullable=False),
    sa.Column("total_distance", sa.Float, nullable=False),
    sa.CheckConstraint("last_seen_at >= first_seen_at", name="seen_order"),
)
dwell_time_records = sa.Table(
    "dwell_time_records", METADATA, pk(),
    fk("zone_id", "camera_zones.id", type_=sa.String(36)),
    fk("track_id", "tracks.id", nullable=True, ondelete="SET NULL"),
    fk("camera_id", "cameras.id", type_=CAMERA_ID),
    sa.Column("object_class", sa.String(32), nullable=False),
    ts("entry_time"),
    ts("exit_time", nullable=True),
    sa.Column("total_seconds", sa.Float, nullable=False),
    sa.Column("triggered_alert", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.CheckConstraint("exit_time IS NULL OR exit_time >= entry_time", name="time_order"),
)
face_detection_events = sa.Table(
    "face_detection_events", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=CAMERA_ID),
    fk("detection_id", "detections.id"),
    fk("known_person_id", "known_persons.id", nullable=True, ondelete="SET NULL"),
    sa.Column("match_confidence", sa.Float),
    sa.Column("face_quality", sa.Float, nullable=False),
    sa.Column("bbox", JSONB, nullable=False),
    sa.Column("is_unknown", sa.Boolean, nullable=False),
    ts("detected_at"),
    sa.CheckConstraint("(known_person_id IS NULL) = is_unknown", name="match_consistent"),
)
action_events = sa.Table(
    "action_events", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=CAMERA_ID),
    fk("event_id", "events.id", nullable=True, ondelete="SET NULL"),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("is_suspicious", sa.Boolean, nullable=False),
    sa.Column("frame_count", sa.Integer, nullable=False),
    sa.Column("all_scores", JSONB),
    created_at(),
    one_of("action", vocab.ACTIONS),
)
scene_changes = sa.Table(
    "scene_changes", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=CAMERA_ID),
    fk("event_id", "events.id", nullable=True, ondelete="SET NULL"),
    sa.Column("change_type", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    embedding("before_embedding"),
    embedding("after_embedding"),
    sa.Column("similarity_score", sa.Float, nullable=False),
    ts("detected_at", default_now=True),
    ts("resolved_at", nullable=True),
    sa.Column("details", JSONB),
    one_of("change_type", vocab.SCENE_CHANGE_ALLOWED),
    one_of("severity", vocab.SEVERITIES),
)
heatmap_data = sa.Table(
    "heatmap_data", METADATA, pk(),
    fk("camera_id", "cameras.id", type_=CAMERA_ID),
    ts("bucket_start"),
    sa.Column("resolution", sa.String(10), nullable=False, server_default="hour"),
    sa.Column("grid_width", sa.Integer, nullable=False),
    sa.Column("grid_height", sa.Integer, nullable=False),
    sa.Column("grid", JSONB, nullable=False),  # row-major counts of box centres
    sa.Column("total_detections", sa.Integer, nullable=False),
    sa.UniqueConstraint("camera_id", "bucket_start", "resolution"),
)
