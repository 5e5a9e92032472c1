"""Background jobs: the job, its attempts, its state transitions, its logs, and exports."""

import sqlalchemy as sa

from .. import vocab
from .base import JSONB, METADATA, created_at, fk, one_of, pk, ts

jobs = sa.Table(
    "jobs", METADATA,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("job_type", sa.String(32), nullable=False, index=True),
    sa.Column("status", sa.String(12), nullable=False, index=True),
    sa.Column("payload", JSONB),
    sa.Column("result", JSONB),
    sa.Column("error", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    created_at(),
    ts("started_at", nullable=True),
    ts("finished_at", nullable=True),
    one_of("job_type", vocab.JOB_TYPES),
    one_of("status", vocab.JOB_STATUSES),
    sa.CheckConstraint(
        "(status IN ('running', 'pending')) = (finished_at IS NULL)", name="finished_iff_done"),
    sa.CheckConstraint("(status = 'pending') = (started_at IS NULL)", name="started_iff_picked"),
)
job_attempts = sa.Table(
    "job_attempts", METADATA, pk(),
    fk("job_id", "jobs.id", type_=sa.String(36)),
    sa.Column("attempt_number", sa.Integer, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("worker_id", sa.String(64), nullable=False),
    ts("started_at"),
    ts("finished_at", nullable=True),
    sa.Column("error", sa.Text),
    sa.UniqueConstraint("job_id", "attempt_number"),
    one_of("status", vocab.ATTEMPT_STATUSES),
    sa.CheckConstraint("finished_at IS NULL OR finished_at >= started_at", name="time_order"),
)
job_transitions = sa.Table(
    "job_transitions", METADATA, pk(),
    fk("job_id", "jobs.id", type_=sa.String(36)),
    sa.Column("from_status", sa.String(12)),
    sa.Column("to_status", sa.String(12), nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("triggered_by", sa.String(64), nullable=False),
    ts("transitioned_at"),
    one_of("trigger", vocab.JOB_TRIGGERS),
    one_of("to_status", vocab.JOB_STATUSES),
)
job_logs = sa.Table(
    "job_logs", METADATA, pk(),
    fk("job_id", "jobs.id", type_=sa.String(36)),
    sa.Column("level", sa.String(10), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("context", JSONB),
    ts("logged_at"),
    one_of("level", vocab.LOG_LEVELS),
)
export_jobs = sa.Table(
    "export_jobs", METADATA, pk(),
    fk("job_id", "jobs.id", type_=sa.String(36), index=False),
    sa.Column("export_type", sa.String(16), nullable=False),
    sa.Column("camera_ids", JSONB, nullable=False),
    ts("time_range_start"),
    ts("time_range_end"),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("file_size_bytes", sa.BigInteger),
    sa.Column("download_url", sa.String(512)),
    ts("expires_at", nullable=True),
    sa.UniqueConstraint("job_id"),
    one_of("export_type", vocab.EXPORT_TYPES),
    one_of("format", vocab.EXPORT_FORMATS),
    sa.CheckConstraint("time_range_end >= time_range_start", name="range_order"),
)
