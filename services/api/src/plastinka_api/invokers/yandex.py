"""Invoking Yandex Cloud Functions: SDK for the IAM token and the invoke URL, then an async HTTPS POST."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay

from plastinka_api.invokers.base import (
    InvocationRejectedError,
    InvocationResult,
    InvocationUnavailableError,
    Payload,
    UnknownFunctionError,
    encode_payload,
    job_id_of,
)
from plastinka_api.invokers.cloud_api import (
    YC_API_ENDPOINT,
    CloudApi,
    CloudCredentials,
    FunctionResolutionError,
    IamToken,
    ResolvedFunction,
)
from plastinka_api.invokers.recording import AttemptRecord, InvocationRecorder, LoggingRecorder, record_safely
from plastinka_api.invokers.retry import (
    RetryPolicy,
    TransientHttpError,
    backoff,
    is_function_error,
    is_transient_exception,
    is_transient_status,
    retry_after_seconds,
)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class YandexFunction:
    """A deployed function and the version tag the API calls (``$latest`` or a pinned tag such as ``prod``)."""

    function_id: str
    tag: str = "$latest"


@dataclass(frozen=True, slots=True)
class YandexInvokerSettings:
    functions: Mapping[str, YandexFunction]
    credentials: CloudCredentials
    api_endpoint: str = YC_API_ENDPOINT
    root_certificates: bytes | None = None
    functions_endpoint: str | None = None
    insecure: bool = False
    rpc_timeout_s: float = 10.0
    http_timeout_s: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # IAM tokens live at most 12 h; Yandex advises fetching a new one every hour.
    token_max_age: timedelta = timedelta(hours=1)
    token_expiry_margin: timedelta = timedelta(minutes=10)
    resolve_ttl: timedelta = timedelta(minutes=5)


class YandexFunctionInvoker:
    """``invoke`` = token (cached) -> resolve (cached) -> POST ``?integration=async`` expecting 202, with retries.

    429/503/504, a gateway 502 and connection errors are retried with jittered exponential backoff within
    ``retry.total_s``; 4xx and a 502 with ``X-Function-Error: true`` are final. Every HTTP attempt goes to the
    recorder.
    """

    def __init__(
        self,
        settings: YandexInvokerSettings,
        *,
        recorder: InvocationRecorder | None = None,
        http: httpx.AsyncClient | None = None,
        cloud: CloudApi | None = None,
    ) -> None:
        self._settings = settings
        self._recorder = recorder or LoggingRecorder()
        self._http = http or httpx.AsyncClient(timeout=settings.http_timeout_s)
        self._owns_http = http is None
        self._cloud = cloud or CloudApi(
            settings.credentials,
            api_endpoint=settings.api_endpoint,
            root_certificates=settings.root_certificates,
            functions_endpoint=settings.functions_endpoint,
            insecure=settings.insecure,
            rpc_timeout_s=settings.rpc_timeout_s,
        )
        self._token: IamToken | None = None
        self._token_lock = asyncio.Lock()
        self._resolved: dict[str, tuple[ResolvedFunction, datetime]] = {}
        self._resolve_lock = asyncio.Lock()

    async def invoke(self, function: str, payload: Payload, *, job_id: str | None = None) -> InvocationResult:
        target = self._settings.functions.get(function)
        if target is None:
            raise UnknownFunctionError(f"no Yandex function configured as {function!r}")
        body = encode_payload(payload)
        job = job_id_of(payload, job_id)
        policy = self._settings.retry
        started = datetime.now(UTC)
        attempts = 0
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(is_transient_exception),
                stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.total_s),
                wait=backoff(policy),
                reraise=True,
            ):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    resolved, request_id, status = await self._attempt(function, target, body, job, attempts)
        except TransientHttpError as exc:
            raise InvocationUnavailableError(
                f"{function}: still failing after {attempts} attempts: {exc}", status=exc.status, attempts=attempts
            ) from exc
        except FunctionResolutionError as exc:
            raise UnknownFunctionError(str(exc), attempts=attempts) from exc
        except InvocationRejectedError:
            raise
        except grpc.RpcError as exc:
            if is_transient_exception(exc):
                raise InvocationUnavailableError(
                    f"{function}: cloud API unavailable after {attempts} attempts: {exc.details()}", attempts=attempts
                ) from exc
            raise InvocationRejectedError(
                f"{function}: cloud API refused: {exc.code().name} {exc.details()}", attempts=attempts
            ) from exc
        except Exception as exc:
            if is_transient_exception(exc):
                raise InvocationUnavailableError(
                    f"{function}: {type(exc).__name__} after {attempts} attempts: {exc}", attempts=attempts
                ) from exc
            raise
        return InvocationResult(
            function=function,
            invocation_id=request_id,
            http_status=status,
            attempts=attempts,
            started=started,
            finished=datetime.now(UTC),
            version_id=resolved.version_id,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
        await asyncio.to_thread(self._cloud.close)

    async def iam_token(self) -> str:
        """A valid IAM token, fetched through the SDK when the cached one is old or close to expiry."""
        async with self._token_lock:
            now = datetime.now(UTC)
            token = self._token
            if token is None or now >= self._refresh_at(token):
                token = await self._off_loop(self._cloud.create_iam_token)
                self._token = token
            return token.value

    async def resolve(self, function: str, token: str | None = None) -> ResolvedFunction:
        """The function's invoke URL and tagged version, looked up again after ``resolve_ttl``."""
        target = self._settings.functions[function]
        async with self._resolve_lock:
            cached = self._resolved.get(function)
            now = datetime.now(UTC)
            if cached is not None and now - cached[1] < self._settings.resolve_ttl:
                return cached[0]
            token = token or await self.iam_token()
            resolved = await self._off_loop(self._cloud.resolve, target.function_id, target.tag, token)
            self._resolved[function] = (resolved, now)
            return resolved

    def _refresh_at(self, token: IamToken) -> datetime:
        settings = self._settings
        return min(token.expires_at - settings.token_expiry_margin, token.issued_at + settings.token_max_age)

    async def _off_loop(self, call: Callable[..., _T], *args: Any) -> _T:
        # The SDK blocks; its RPCs carry their own deadline and this one bounds the thread hop as well.
        return await asyncio.wait_for(asyncio.to_thread(call, *args), self._settings.rpc_timeout_s * 3)

    async def _attempt(
        self, function: str, target: YandexFunction, body: bytes, job_id: str | None, number: int
    ) -> tuple[ResolvedFunction, str, int]:
        started = datetime.now(UTC)
        request_id: str | None = None
        status: int | None = None
        error: str | None = None
        try:
            token = await self.iam_token()
            resolved = await self.resolve(function, token)
            response = await self._http.post(
                resolved.http_invoke_url,
                params={"integration": "async", "tag": target.tag},
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            status = response.status_code
            request_id = response.headers.get("X-Request-Id")
            if status == 202:
                return resolved, request_id or str(uuid.uuid4()), status
            text = response.text
            error = f"HTTP {status}: {text[:500]}"
            if is_transient_status(response):
                raise TransientHttpError(status, retry_after_seconds(response.headers.get("Retry-After")), text)
            kind = "function error" if is_function_error(response) else "rejected"
            raise InvocationRejectedError(
                f"{function}: {kind}, HTTP {status}: {text[:500]}", status=status, attempts=number
            )
        except (TransientHttpError, InvocationRejectedError):
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            await record_safely(
                self._recorder,
                AttemptRecord(
                    function=function,
                    job_id=job_id,
                    attempt=number,
                    request_id=request_id,
                    started=started,
                    finished=datetime.now(UTC),
                    status=status,
                    error=error,
                ),
            )
