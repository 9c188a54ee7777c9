"""The closed vocabularies every package shares."""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    TRAINING = "training"
    PREDICTION = "prediction"


class JobStatus(StrEnum):
    QUEUED = "queued"
    DISPATCHED = "dispatched"
    RUNNING = "running"
    RETRY_WAIT = "retry_wait"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DEAD_LETTER = "dead_letter"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.DEAD_LETTER})


class Frequency(StrEnum):
    """Forecast period: ``M`` is a calendar month, ``W`` an ISO week starting on Monday."""

    # This docstring is in the committed function contracts: the other spellings are documented on _missing_.
    MONTH = "M"
    WEEK = "W"

    @classmethod
    def _missing_(cls, value: object) -> Frequency | None:
        """People write ``month`` or ``weekly``: read every spelling of ``_FREQUENCY_SPELLINGS``, any case."""
        if isinstance(value, str):
            return _FREQUENCY_SPELLINGS.get(value.strip().lower())
        return None

    @property
    def max_horizon(self) -> int:
        return 12 if self is Frequency.MONTH else 52


_FREQUENCY_SPELLINGS = {
    **dict.fromkeys(("m", "month", "monthly"), Frequency.MONTH),
    **dict.fromkeys(("w", "week", "weekly"), Frequency.WEEK),
}


class Role(StrEnum):
    """API key roles, from most to least powerful."""

    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"
