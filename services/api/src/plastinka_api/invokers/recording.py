"""Every invocation attempt is reported to a recorder; the API writes them to ``cloud_function_logs``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

_log = logging.getLogger("plastinka_api.invokers")


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One try at starting (Yandex) or running (local) a function.

    ``status`` is the HTTP status seen (local runs map their outcome onto the same codes: 200 returned,
    502 the handler raised, 504 killed at the timeout); ``None`` when no answer came (connection error).
    """

    function: str
    job_id: str | None
    attempt: int
    request_id: str | None
    started: datetime
    finished: datetime
    status: int | None
    error: str | None = None
    logs: str | None = None

    @property
    def duration_s(self) -> float:
        return (self.finished - self.started).total_seconds()


class InvocationRecorder(Protocol):
    async def record(self, entry: AttemptRecord) -> None: ...


class LoggingRecorder:
    """The default recorder: one log line per attempt."""

    async def record(self, entry: AttemptRecord) -> None:
        level = logging.INFO if entry.error is None else logging.WARNING
        _log.log(
            level,
            "function=%s job=%s attempt=%d request=%s status=%s duration=%.3fs error=%s",
            entry.function,
            entry.job_id,
            entry.attempt,
            entry.request_id,
            entry.status,
            entry.duration_s,
            entry.error,
        )


class MemoryRecorder:
    """Keeps the records in a list: for tests and for the CLI's local runs."""

    def __init__(self) -> None:
        self.entries: list[AttemptRecord] = []

    async def record(self, entry: AttemptRecord) -> None:
        self.entries.append(entry)


async def record_safely(recorder: InvocationRecorder, entry: AttemptRecord) -> None:
    """Record without letting a failing recorder (a database hiccup) turn an accepted invocation into an error."""
    try:
        await recorder.record(entry)
    except Exception:
        _log.exception("could not record the attempt of %s (request %s)", entry.function, entry.request_id)
