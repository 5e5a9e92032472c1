"""Operations: Prometheus alerts, GPU statistics, application and audit logs, API keys."""

import sqlalchemy as sa

from .. import vocab
from .base import JSONB, METADATA, created_at, one_of, pk, ts

prometheus_alerts = sa.Table(
    "prometheus_alerts", METADATA, pk(),
    sa.Column("alert_name", sa.String(64), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("labels", JSONB, nullable=False),
    sa.Column("annotations", JSONB, nullable=False),
    ts("started_at"),
    ts("resolved_at", nullable=True),
    created_at(),
    one_of("alert_name", vocab.PROMETHEUS_ALERT_NAMES),
    one_of("status", vocab.PROMETHEUS_STATUSES),
    one_of("severity", vocab.PROMETHEUS_SEVERITIES),
    sa.CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)",
                       name="resolved_iff_time"),
)
gpu_stats = sa.Table(
    "gpu_stats", METADATA, pk(),
    ts("recorded_at", default_now=True),
    sa.Column("gpu_name", sa.String(255)),
    sa.Column("gpu_utilization", sa.Float),
    sa.Column("memory_used", sa.Integer),
    sa.Column("memory_total", sa.Integer),
    sa.Column("temperature", sa.Float),
    sa.Column("power_usage", sa.Float),
    sa.Column("inference_fps", sa.Float),
    sa.CheckConstraint("gpu_utilization BETWEEN 0 AND 100", name="utilization_range"),
    sa.CheckConstraint("memory_used <= memory_total", name="memory_fits"),
    sa.Index("idx_gpu_stats_recorded_at", "recorded_at"),
)
logs = sa.Table(
    "logs", METADATA, pk(),
    ts("timestamp", default_now=True),
    sa.Column("level", sa.String(10), nullable=False, index=True),
    sa.Column("component", sa.String(50), nullable=False, index=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("camera_id", sa.String(100), index=True),
    sa.Column("event_id", sa.Integer),
    sa.Column("request_id", sa.String(36)),
    sa.Column("detection_id", sa.Integer),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("extra", JSONB),
    sa.Column("source", sa.String(10), nullable=False, server_default="backend", index=True),
    sa.Column("user_agent", sa.Text),
    one_of("level", vocab.LOG_LEVELS),
    one_of("source", vocab.LOG_SOURCES),
    sa.Index("idx_logs_timestamp", "timestamp"),
)
audit_logs = sa.Table(
    "audit_logs", METADATA, pk(),
    ts("timestamp", default_now=True),
    sa.Column("action", sa.String(50), nullable=False, index=True),
    sa.Column("resource_type", sa.String(50), nullable=False, index=True),
    sa.Column("resource_id", sa.String(255)),
    sa.Column("actor", sa.String(100), nullable=False, index=True),
    sa.Column("ip_address", sa.String(45)),
    sa.Column("user_agent", sa.Text),
    sa.Column("details", JSONB),
    sa.Column("status", sa.String(20), nullable=False, server_default="success", index=True),
    one_of("status", vocab.AUDIT_STATUSES),
    sa.Index("idx_audit_logs_timestamp", "timestamp"),
    sa.Index("idx_audit_logs_resource", "resource_type", "resource_id"),
)
api_keys = sa.Table(
    "api_keys", METADATA, pk(),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    created_at(),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.CheckConstraint("length(key_hash) = 64", name="sha256_hex"),
)
