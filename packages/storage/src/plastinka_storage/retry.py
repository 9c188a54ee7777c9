"""Which S3 faults are transient, and the bounded tenacity loop that retries them.

Transient: throttling (429, ``SlowDown``), 5xx except 501, S3's ``RequestTimeout``, timeouts, connection
resets and truncated bodies. Everything else (403, 404, 400...) is a deterministic answer and is never retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from botocore import exceptions as boto_exc
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay, wait_random_exponential

from plastinka_storage.errors import TransientStorageError

__all__ = ["RetryPolicy", "call_with_retry", "is_transient"]

T = TypeVar("T")

_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
    }
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded both in attempts and in total time.

    No new attempt starts once the elapsed time plus the next sleep would pass ``total_s``; an attempt already
    running is bounded by the client's connect/read timeouts, so a call gives up within about
    ``total_s + read timeout``.
    """

    total_s: float = 20.0
    max_attempts: int = 6
    backoff_base_s: float = 0.2
    backoff_max_s: float = 5.0


def client_error_status(exc: boto_exc.ClientError) -> tuple[str, int]:
    """The S3 error code and HTTP status of a botocore ``ClientError``."""
    response: dict[str, Any] = getattr(exc, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def is_transient(exc: BaseException) -> bool:
    """True when retrying the same request later may well succeed."""
    if isinstance(exc, boto_exc.ClientError):
        code, status = client_error_status(exc)
        return code in _TRANSIENT_CODES or status == 429 or (status >= 500 and status != 501)
    if isinstance(exc, boto_exc.SSLError):
        return False  # a certificate problem does not heal by itself
    return isinstance(
        exc,
        boto_exc.HTTPClientError  # ReadTimeout, ConnectionClosed, ResponseStreamingError...
        | boto_exc.ConnectionError  # EndpointConnectionError, ConnectTimeoutError
        | boto_exc.IncompleteReadError
        | aiohttp.ClientConnectionError
        | aiohttp.ClientPayloadError
        | asyncio.TimeoutError
        | ConnectionError,
    )


async def call_with_retry(
    policy: RetryPolicy, fn: Callable[[], Awaitable[T]], *, what: str, key: str | None = None
) -> T:
    """Await ``fn()``, retrying transient failures under ``policy``.

    When the budget runs out on a transient failure it raises ``TransientStorageError`` (chained to the last
    fault); any other exception propagates untouched on the first occurrence.
    """
    attempts = 0
    started = time.monotonic()

    async def attempt() -> T:
        nonlocal attempts
        attempts += 1
        return await fn()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.total_s),
        wait=wait_random_exponential(multiplier=policy.backoff_base_s, max=policy.backoff_max_s),
        retry=retry_if_exception(is_transient),
        reraise=True,
    )
    try:
        return await retrying(attempt)
    except Exception as exc:
        if not is_transient(exc):
            raise
        elapsed = time.monotonic() - started
        raise TransientStorageError(
            f"{what}: still failing after {attempts} attempt(s) in {elapsed:.1f}s: {exc}",
            key=key,
            attempts=attempts,
            elapsed_s=elapsed,
        ) from exc
