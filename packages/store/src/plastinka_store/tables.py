"""SQLModel tables of the job database, on their own metadata (the migrations' target).

Every datetime column is timezone-aware UTC (:class:`~plastinka_store.columns.UTCDateTime`); statuses and
roles are stored as plain strings guarded by CHECK constraints. Index and constraint names are explicit so
the migration and the metadata agree on both SQLite and PostgreSQL.
"""

import datetime as dt
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from plastinka_schemas import Frequency, JobKind, JobStatus, Role
from plastinka_store.columns import EnumString, UTCDateTime, utcnow

__all__ = [
    "JOB_TABLES",
    "ApiKey",
    "CloudFunctionLog",
    "Dataset",
    "JobEventRow",
    "JobRow",
    "Model",
    "PredictionJob",
    "TrainingJob",
    "WebhookOutbox",
    "WebhookSecret",
    "metadata",
]

jobs_registry = registry()
#: All tables of plastinka-store (and nothing else): what ``alembic`` migrates to.
metadata = jobs_registry.metadata

_STATUS = EnumString(JobStatus, 16)
_STATUS_VALUES = ", ".join(f"'{s.value}'" for s in JobStatus)


def _utc(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class _Table(SQLModel, registry=jobs_registry):
    pass


class Dataset(_Table, table=True):
    """An uploaded sales export (and optional stock snapshot), stored content-addressed."""

    __tablename__ = "datasets"
    __table_args__ = (
        sa.Index("ix_datasets_owner_created_at", "owner", "created_at"),
        sa.Index("ix_datasets_owner_sha256", "owner", "sha256"),
    )

    id: str = Field(primary_key=True, max_length=40)
    owner: str = Field(max_length=200)
    filename: str = Field(max_length=500)
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    object_key: str = Field(max_length=1024)
    stock_filename: str | None = Field(default=None, max_length=500)
    stock_sha256: str | None = Field(default=None, max_length=64)
    stock_size_bytes: int | None = Field(default=None, sa_type=sa.BigInteger)
    stock_key: str | None = Field(default=None, max_length=1024)
    report: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class _JobFields(_Table):
    """Columns every job table has; the concrete tables add what their kind needs."""

    KIND: ClassVar[JobKind]

    id: str = Field(primary_key=True, max_length=40)
    owner: str = Field(max_length=200)
    status: JobStatus = Field(default=JobStatus.QUEUED, sa_type=_STATUS)
    attempt: int = Field(default=0)
    max_attempts: int
    lease_expires_at: dt.datetime | None = _utc()
    heartbeat_at: dt.datetime | None = _utc()
    next_attempt_at: dt.datetime | None = _utc()
    progress: float | None = None
    error_type: str | None = Field(default=None, max_length=200)
    error_message: str | None = Field(default=None, sa_type=sa.Text)
    error_traceback: str | None = Field(default=None, sa_type=sa.Text)
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    idempotency_key: str | None = Field(default=None, max_length=200)
    callback_url: str | None = Field(default=None, max_length=2000)
    invocation_id: str | None = Field(default=None, max_length=200)
    manifest: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    result: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    dispatched_at: dt.datetime | None = _utc()
    started_at: dt.datetime | None = _utc()
    finished_at: dt.datetime | None = _utc()


def _job_table_args(table: str) -> tuple[Any, ...]:
    return (
        sa.Index(f"ix_{table}_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index(f"ix_{table}_status_lease_expires_at", "status", "lease_expires_at"),
        sa.Index(f"ix_{table}_owner_created_at", "owner", "created_at"),
        sa.UniqueConstraint("owner", "idempotency_key", name=f"uq_{table}_owner_idempotency_key"),
        sa.CheckConstraint(f"status IN ({_STATUS_VALUES})", name=f"ck_{table}_status"),
        sa.CheckConstraint("attempt >= 0 AND max_attempts >= 1", name=f"ck_{table}_attempts"),
        sa.CheckConstraint("progress IS NULL OR (progress >= 0 AND progress <= 1)", name=f"ck_{table}_progress"),
    )


class TrainingJob(_JobFields, table=True):
    __tablename__ = "training_jobs"
    __table_args__ = _job_table_args("training_jobs")
    KIND: ClassVar[JobKind] = JobKind.TRAINING

    dataset_id: str = Field(foreign_key="datasets.id", max_length=40)
    model_id: str | None = Field(default=None, max_length=40)


class Model(_Table, table=True):
    """A trained model: where its artifacts are, what it was trained on and how well it did."""

    __tablename__ = "models"
    __table_args__ = (
        sa.Index("ix_models_owner_created_at", "owner", "created_at"),
        sa.Index("ix_models_owner_active", "owner", "active"),
        sa.CheckConstraint("horizon >= 1", name="ck_models_horizon"),
    )

    id: str = Field(primary_key=True, max_length=40)
    owner: str = Field(max_length=200)
    dataset_id: str = Field(foreign_key="datasets.id", max_length=40)
    training_job_id: str = Field(foreign_key="training_jobs.id", max_length=40)
    frequency: Frequency = Field(default=Frequency.MONTH, sa_type=EnumString(Frequency, 2))
    horizon: int
    quantiles: list[float] = Field(default_factory=list, sa_type=sa.JSON)
    train_start: dt.date | None = None
    train_end: dt.date | None = None
    artifact_key: str = Field(max_length=1024)
    artifact_sha256: str = Field(max_length=64)
    manifest: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    active: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PredictionJob(_JobFields, table=True):
    __tablename__ = "prediction_jobs"
    __table_args__ = _job_table_args("prediction_jobs")
    KIND: ClassVar[JobKind] = JobKind.PREDICTION

    model_id: str = Field(foreign_key="models.id", max_length=40)
    dataset_id: str | None = Field(default=None, foreign_key="datasets.id", max_length=40)
    horizon: int


#: A row of either job table.
JobRow = TrainingJob | PredictionJob

#: The table class of each job kind.
JOB_TABLES: dict[JobKind, type[TrainingJob] | type[PredictionJob]] = {
    JobKind.TRAINING: TrainingJob,
    JobKind.PREDICTION: PredictionJob,
}


class JobEventRow(_Table, table=True):
    """One entry of a job's history, written in the same transaction as the change it records."""

    __tablename__ = "job_events"
    __table_args__ = (sa.Index("ix_job_events_job_id_at", "job_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=40)
    job_kind: JobKind = Field(sa_type=EnumString(JobKind, 16))
    attempt: int
    at: dt.datetime = Field(sa_type=UTCDateTime)
    type: str = Field(max_length=32)
    status: JobStatus | None = Field(default=None, sa_type=_STATUS)
    progress: float | None = None
    message: str | None = Field(default=None, sa_type=sa.Text)


class CloudFunctionLog(_Table, table=True):
    """One invocation attempt of a cloud function: what was asked, how it ran and how it ended."""

    __tablename__ = "cloud_function_logs"
    __table_args__ = (
        sa.Index("ix_cloud_function_logs_job_id_attempt", "job_id", "attempt"),
        sa.Index("ix_cloud_function_logs_started_at", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    function_name: str = Field(max_length=200)
    job_id: str = Field(max_length=40)
    attempt: int
    request_id: str | None = Field(default=None, max_length=200)
    invocation_id: str | None = Field(default=None, max_length=200)
    started_at: dt.datetime = Field(sa_type=UTCDateTime)
    finished_at: dt.datetime | None = _utc()
    duration_s: float | None = None
    peak_memory_mb: float | None = None
    cold_start: bool | None = None
    outcome: str = Field(max_length=32)
    error: str | None = Field(default=None, sa_type=sa.Text)
    http_status: int | None = None


class ApiKey(_Table, table=True):
    """An API key: only its hash is stored; the prefix identifies it in listings and logs."""

    __tablename__ = "api_keys"
    __table_args__ = (
        sa.Index("ix_api_keys_owner_created_at", "owner", "created_at"),
        sa.Index("ix_api_keys_prefix", "prefix"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )

    id: str = Field(primary_key=True, max_length=40)
    key_hash: str = Field(max_length=128)
    prefix: str = Field(max_length=32)
    name: str = Field(max_length=200)
    role: Role = Field(sa_type=EnumString(Role, 16))
    owner: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = _utc()
    last_used_at: dt.datetime | None = _utc()


class WebhookSecret(_Table, table=True):
    """An owner's webhook signing secret, sealed (AES-GCM under a key the API derives from its master secret,
    the owner as associated data): the database alone does not reveal it. One per owner; rotation replaces it."""

    __tablename__ = "webhook_secrets"

    owner: str = Field(primary_key=True, max_length=200)
    sealed: str = Field(max_length=200)
    prefix: str = Field(max_length=16)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookOutbox(_Table, table=True):
    """A job-end webhook waiting to be delivered: written in the same transaction as the terminal
    transition, so a restart between the transition and the POST loses nothing; the engine delivers and
    retries it (``next_attempt_at`` doubles as the delivery lease)."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (
        sa.Index("ix_webhook_outbox_due", "delivered_at", "next_attempt_at"),
        sa.Index("ix_webhook_outbox_job_id", "job_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=40)
    url: str = Field(max_length=2000)
    event: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: dt.datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    delivered_at: dt.datetime | None = _utc()
    gave_up_at: dt.datetime | None = _utc()
    last_error: str | None = Field(default=None, sa_type=sa.Text)
