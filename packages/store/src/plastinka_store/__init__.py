"""plastinka-store: job state machine, retry policy, tables, repository, callback tokens and reporter.

Names load lazily, so a function handler importing ``JobReporter`` does not pay for SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plastinka_schemas.lazy import lazy_getattr

if TYPE_CHECKING:
    from plastinka_store.columns import UTCDateTime, utcnow
    from plastinka_store.db import DEFAULT_DATABASE_URL, create_engine, migrate, normalize_url
    from plastinka_store.ids import job_kind_of, new_id, new_job_id
    from plastinka_store.policy import RetryPolicy
    from plastinka_store.reporter import CallbackRejected, CallbackUnavailable, JobReporter, ReportError
    from plastinka_store.repository import ALL_OWNERS, ExpiredLease, IdempotencyConflict, JobRepository, QuotaExceeded
    from plastinka_store.states import (
        ACTIVE_STATUSES,
        CANCELLABLE_STATUSES,
        CLAIMABLE_STATUSES,
        TERMINAL_STATUSES,
        TRANSITIONS,
        InvalidTransition,
        is_allowed,
        transition,
    )
    from plastinka_store.tables import (
        JOB_TABLES,
        ApiKey,
        CloudFunctionLog,
        Dataset,
        JobEventRow,
        JobRow,
        Model,
        PredictionJob,
        TrainingJob,
        metadata,
    )
    from plastinka_store.tokens import InvalidJobToken, JobTokenClaims, sign_job_token, verify_job_token

_EXPORTS: dict[str, str] = {
    "UTCDateTime": "columns",
    "utcnow": "columns",
    "DEFAULT_DATABASE_URL": "db",
    "create_engine": "db",
    "migrate": "db",
    "normalize_url": "db",
    "job_kind_of": "ids",
    "new_id": "ids",
    "new_job_id": "ids",
    "RetryPolicy": "policy",
    "CallbackRejected": "reporter",
    "CallbackUnavailable": "reporter",
    "JobReporter": "reporter",
    "ReportError": "reporter",
    "ALL_OWNERS": "repository",
    "ExpiredLease": "repository",
    "IdempotencyConflict": "repository",
    "JobRepository": "repository",
    "QuotaExceeded": "repository",
    "ACTIVE_STATUSES": "states",
    "CANCELLABLE_STATUSES": "states",
    "CLAIMABLE_STATUSES": "states",
    "TERMINAL_STATUSES": "states",
    "TRANSITIONS": "states",
    "InvalidTransition": "states",
    "is_allowed": "states",
    "transition": "states",
    "JOB_TABLES": "tables",
    "ApiKey": "tables",
    "CloudFunctionLog": "tables",
    "Dataset": "tables",
    "JobEventRow": "tables",
    "JobRow": "tables",
    "Model": "tables",
    "PredictionJob": "tables",
    "TrainingJob": "tables",
    "metadata": "tables",
    "InvalidJobToken": "tokens",
    "JobTokenClaims": "tokens",
    "sign_job_token": "tokens",
    "verify_job_token": "tokens",
}

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_OWNERS",
    "CANCELLABLE_STATUSES",
    "CLAIMABLE_STATUSES",
    "DEFAULT_DATABASE_URL",
    "JOB_TABLES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "ApiKey",
    "CallbackRejected",
    "CallbackUnavailable",
    "CloudFunctionLog",
    "Dataset",
    "ExpiredLease",
    "IdempotencyConflict",
    "InvalidJobToken",
    "InvalidTransition",
    "JobEventRow",
    "JobReporter",
    "JobRepository",
    "JobRow",
    "JobTokenClaims",
    "Model",
    "PredictionJob",
    "QuotaExceeded",
    "ReportError",
    "RetryPolicy",
    "TrainingJob",
    "UTCDateTime",
    "create_engine",
    "is_allowed",
    "job_kind_of",
    "metadata",
    "migrate",
    "new_id",
    "new_job_id",
    "normalize_url",
    "sign_job_token",
    "transition",
    "utcnow",
    "verify_job_token",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
