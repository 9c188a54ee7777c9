"""Which invocation failures are worth another try, and how long to wait before it."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import grpc
import httpx
from tenacity import RetryCallState

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
GRPC_TRANSIENT = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by total time."""

    max_attempts: int = 5
    initial_s: float = 0.5
    max_backoff_s: float = 10.0
    total_s: float = 60.0


class TransientHttpError(Exception):
    """An answer that says "later": 429, 503, 504, or a 502 from the gateway rather than the function."""

    def __init__(self, status: int, retry_after_s: float | None, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status
        self.retry_after_s = retry_after_s


def is_function_error(response: httpx.Response) -> bool:
    """The platform marks a failure of the function itself (never retried) with this header."""
    value = str(response.headers.get("X-Function-Error", ""))
    return value.strip().lower() == "true"


def is_transient_status(response: httpx.Response) -> bool:
    return response.status_code in RETRYABLE_STATUSES and not is_function_error(response)


def is_transient_exception(exc: BaseException) -> bool:
    if isinstance(exc, TransientHttpError | httpx.TransportError | TimeoutError):
        return True
    return isinstance(exc, grpc.RpcError) and bool(exc.code() in GRPC_TRANSIENT)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff(policy: RetryPolicy, rng: random.Random | None = None) -> Callable[[RetryCallState], float]:
    """A tenacity ``wait``: full jitter over the exponential step, never less than the server's Retry-After."""
    draw = (rng or random.Random()).uniform  # noqa: S311 - jitter, not security

    def wait(state: RetryCallState) -> float:
        ceiling = min(policy.max_backoff_s, policy.initial_s * 2 ** (state.attempt_number - 1))
        delay = draw(0, ceiling)
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, TransientHttpError) and exc.retry_after_s is not None:
            delay = max(delay, min(exc.retry_after_s, policy.max_backoff_s))
        return delay

    return wait
