"""The one interface the dispatcher uses to start a function, whatever runs it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

Payload = Mapping[str, Any] | bytes


@dataclass(frozen=True, slots=True)
class InvocationResult:
    """An accepted asynchronous invocation: the function will run, its outcome comes back as job events."""

    function: str
    invocation_id: str
    http_status: int
    attempts: int
    started: datetime
    finished: datetime
    version_id: str | None = None


class InvocationError(Exception):
    """The function was not started."""

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


class UnknownFunctionError(InvocationError):
    """The invoker has no function of that name configured, or the cloud does not know it."""


class InvocationRejectedError(InvocationError):
    """A definitive refusal (4xx, a function error): calling again would fail the same way."""


class InvocationUnavailableError(InvocationError):
    """Transient faults outlasted the retry budget; the job may be dispatched again later."""

    retryable = True


@runtime_checkable
class FunctionInvoker(Protocol):
    """Starts ``function`` asynchronously with ``payload`` and returns once it is accepted."""

    async def invoke(self, function: str, payload: Payload, *, job_id: str | None = None) -> InvocationResult: ...

    async def aclose(self) -> None: ...


def encode_payload(payload: Payload) -> bytes:
    """The request body exactly as both runtimes deliver it to ``index.handler``."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def job_id_of(payload: Payload, job_id: str | None) -> str | None:
    """The job an invocation belongs to: explicit, else the payload's own ``job_id``."""
    if job_id is not None or isinstance(payload, bytes):
        return job_id
    value = payload.get("job_id")
    return value if isinstance(value, str) else None
