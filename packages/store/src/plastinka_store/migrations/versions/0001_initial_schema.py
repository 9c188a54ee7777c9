"""Initial schema: datasets, models, training and prediction jobs, job events, function logs, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index("ix_api_keys_owner_created_at", ["owner", "created_at"], unique=False)
        batch_op.create_index("ix_api_keys_prefix", ["prefix"], unique=False)

    op.create_table(
        "cloud_function_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("function_name", sa.String(length=200), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.Column("invocation_id", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("peak_memory_mb", sa.Float(), nullable=True),
        sa.Column("cold_start", sa.Boolean(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cloud_function_logs", schema=None) as batch_op:
        batch_op.create_index("ix_cloud_function_logs_job_id_attempt", ["job_id", "attempt"], unique=False)
        batch_op.create_index("ix_cloud_function_logs_started_at", ["started_at"], unique=False)

    op.create_table(
        "datasets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("stock_filename", sa.String(length=500), nullable=True),
        sa.Column("stock_sha256", sa.String(length=64), nullable=True),
        sa.Column("stock_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("stock_key", sa.String(length=1024), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.create_index("ix_datasets_owner_created_at", ["owner", "created_at"], unique=False)
        batch_op.create_index("ix_datasets_owner_sha256", ["owner", "sha256"], unique=False)

    op.create_table(
        "job_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("job_kind", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_events", schema=None) as batch_op:
        batch_op.create_index("ix_job_events_job_id_at", ["job_id", "at"], unique=False)

    op.create_table(
        "training_jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("error_type", sa.String(length=200), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_traceback", sa.Text(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("callback_url", sa.String(length=2000), nullable=True),
        sa.Column("invocation_id", sa.String(length=200), nullable=True),
        sa.Column("manifest", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dataset_id", sa.String(length=40), nullable=False),
        sa.Column("model_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'dispatched', 'running', 'retry_wait', 'succeeded', 'failed', 'cancelled', 'dead_letter')",
            name="ck_training_jobs_status",
        ),
        sa.CheckConstraint("attempt >= 0 AND max_attempts >= 1", name="ck_training_jobs_attempts"),
        sa.CheckConstraint("progress IS NULL OR (progress >= 0 AND progress <= 1)", name="ck_training_jobs_progress"),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner", "idempotency_key", name="uq_training_jobs_owner_idempotency_key"),
    )
    with op.batch_alter_table("training_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_training_jobs_owner_created_at", ["owner", "created_at"], unique=False)
        batch_op.create_index("ix_training_jobs_status_lease_expires_at", ["status", "lease_expires_at"], unique=False)
        batch_op.create_index("ix_training_jobs_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "models",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("dataset_id", sa.String(length=40), nullable=False),
        sa.Column("training_job_id", sa.String(length=40), nullable=False),
        sa.Column("frequency", sa.String(length=2), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("quantiles", sa.JSON(), nullable=False),
        sa.Column("train_start", sa.Date(), nullable=True),
        sa.Column("train_end", sa.Date(), nullable=True),
        sa.Column("artifact_key", sa.String(length=1024), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("horizon >= 1", name="ck_models_horizon"),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["training_job_id"],
            ["training_jobs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index("ix_models_owner_active", ["owner", "active"], unique=False)
        batch_op.create_index("ix_models_owner_created_at", ["owner", "created_at"], unique=False)

    op.create_table(
        "prediction_jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("error_type", sa.String(length=200), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_traceback", sa.Text(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("callback_url", sa.String(length=2000), nullable=True),
        sa.Column("invocation_id", sa.String(length=200), nullable=True),
        sa.Column("manifest", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("dataset_id", sa.String(length=40), nullable=True),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'dispatched', 'running', 'retry_wait', 'succeeded', 'failed', 'cancelled', 'dead_letter')",
            name="ck_prediction_jobs_status",
        ),
        sa.CheckConstraint("attempt >= 0 AND max_attempts >= 1", name="ck_prediction_jobs_attempts"),
        sa.CheckConstraint("progress IS NULL OR (progress >= 0 AND progress <= 1)", name="ck_prediction_jobs_progress"),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner", "idempotency_key", name="uq_prediction_jobs_owner_idempotency_key"),
    )
    with op.batch_alter_table("prediction_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_prediction_jobs_owner_created_at", ["owner", "created_at"], unique=False)
        batch_op.create_index(
            "ix_prediction_jobs_status_lease_expires_at", ["status", "lease_expires_at"], unique=False
        )
        batch_op.create_index("ix_prediction_jobs_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prediction_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_prediction_jobs_status_next_attempt_at")
        batch_op.drop_index("ix_prediction_jobs_status_lease_expires_at")
        batch_op.drop_index("ix_prediction_jobs_owner_created_at")

    op.drop_table("prediction_jobs")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index("ix_models_owner_created_at")
        batch_op.drop_index("ix_models_owner_active")

    op.drop_table("models")
    with op.batch_alter_table("training_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_training_jobs_status_next_attempt_at")
        batch_op.drop_index("ix_training_jobs_status_lease_expires_at")
        batch_op.drop_index("ix_training_jobs_owner_created_at")

    op.drop_table("training_jobs")
    with op.batch_alter_table("job_events", schema=None) as batch_op:
        batch_op.drop_index("ix_job_events_job_id_at")

    op.drop_table("job_events")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index("ix_datasets_owner_sha256")
        batch_op.drop_index("ix_datasets_owner_created_at")

    op.drop_table("datasets")
    with op.batch_alter_table("cloud_function_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_cloud_function_logs_started_at")
        batch_op.drop_index("ix_cloud_function_logs_job_id_attempt")

    op.drop_table("cloud_function_logs")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_api_keys_prefix")
        batch_op.drop_index("ix_api_keys_owner_created_at")

    op.drop_table("api_keys")
