"""Function side: send signed status events of one attempt to the API's callback endpoint.

Imports stay light (httpx, tenacity, the schemas; no database code) because this runs in function handlers.
Transient failures (connection errors, timeouts, 429, 5xx) are retried with backoff within a bounded total
time; a 4xx is an answer, never retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from plastinka_schemas import (
    AnyJobEvent,
    ArtifactManifest,
    FailedEvent,
    PredictRequest,
    ProgressEvent,
    RunningEvent,
    RunStats,
    SucceededEvent,
    TrainRequest,
)

__all__ = ["CallbackRejected", "CallbackUnavailable", "JobReporter", "ReportError"]

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_USER_AGENT = "plastinka-store-reporter/1"


class ReportError(Exception):
    """A status event could not be delivered."""


class CallbackRejected(ReportError):
    """The API answered 4xx: the event (or its token) is refused; retrying would not help."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(f"callback refused with HTTP {status_code}: {body[:500]}")
        self.status_code = status_code
        self.body = body


class CallbackUnavailable(ReportError):
    """Transient failures went on past the retry budget."""


class _Transient(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.status_code = response.status_code
        self.retry_after = _retry_after_seconds(response.headers.get("retry-after"))


def _retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _Transient | httpx.TransportError)


class JobReporter:
    """Reports the progress of one attempt of one job. Without a callback URL it sends nothing."""

    def __init__(
        self,
        *,
        job_id: str,
        attempt: int,
        token: str,
        callback_url: str | None,
        invocation_id: str | None = None,
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        max_total_s: float = 60.0,
        max_tries: int = 8,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.callback_url = callback_url
        self.invocation_id = invocation_id
        self._token = token
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)
        self._max_total_s = max_total_s
        self._max_tries = max_tries
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._clock = clock
        self.sent: list[AnyJobEvent] = []

    @classmethod
    def for_request(cls, request: TrainRequest | PredictRequest, **kwargs: Any) -> JobReporter:
        """A reporter for the job, attempt, callback URL and token of a function request."""
        url = None if request.callback_url is None else str(request.callback_url)
        return cls(
            job_id=request.job_id, attempt=request.attempt, token=request.callback_token, callback_url=url, **kwargs
        )

    # --- events ---------------------------------------------------------------------------------------

    def _common(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "attempt": self.attempt,
            "at": self._clock(),
            "invocation_id": self.invocation_id,
        }

    def running(self, *, cold_start: bool | None = None) -> bool:
        return self.send(RunningEvent(**self._common(), cold_start=cold_start))

    def progress(self, fraction: float, message: str | None = None) -> bool:
        return self.send(ProgressEvent(**self._common(), progress=fraction, message=message))

    def succeeded(
        self,
        manifest: ArtifactManifest,
        *,
        stats: RunStats | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> bool:
        return self.send(SucceededEvent(**self._common(), manifest=manifest, stats=stats, summary=dict(summary or {})))

    def failed(
        self,
        error_type: str,
        message: str,
        *,
        traceback: str | None = None,
        retryable: bool = False,
        stats: RunStats | None = None,
    ) -> bool:
        event = FailedEvent(
            **self._common(),
            error_type=error_type,
            message=message[:10_000],
            traceback=None if traceback is None else traceback[-100_000:],
            retryable=retryable,
            stats=stats,
        )
        return self.send(event)

    # --- delivery -------------------------------------------------------------------------------------

    def send(self, event: AnyJobEvent) -> bool:
        """POST one event; ``False`` when there is no callback URL, ``True`` once the API accepted it.

        Raises :class:`CallbackRejected` on 4xx and :class:`CallbackUnavailable` when transient failures
        outlast the retry budget.
        """
        if self.callback_url is None:
            return False
        body = event.model_dump_json().encode()
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Content-Type": "application/json",
            "User-Agent": _USER_AGENT,
        }
        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_before_delay(self._max_total_s) | stop_after_attempt(self._max_tries),
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for try_ in retrying:
                with try_:
                    self._post(body, headers)
        except (_Transient, httpx.TransportError) as exc:
            raise CallbackUnavailable(f"could not deliver {event.type} event for {self.job_id}: {exc!r}") from exc
        self.sent.append(event)
        return True

    def _post(self, body: bytes, headers: dict[str, str]) -> None:
        assert self.callback_url is not None
        response = self._client.post(self.callback_url, content=body, headers=headers)
        if response.status_code in _RETRY_STATUSES:
            raise _Transient(response)
        if response.is_error:
            raise CallbackRejected(response.status_code, response.text)

    def _wait(self, state: RetryCallState) -> float:
        # Exponential from backoff_initial_s, plus up to one initial step of jitter, capped.
        step = self._backoff_initial_s * 2.0 ** min(state.attempt_number - 1, 30)
        delay = min(self._backoff_max_s, step + random.uniform(0.0, self._backoff_initial_s))  # noqa: S311
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, self._backoff_max_s))
        return float(delay)

    # --- lifetime -------------------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> JobReporter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
