"""Building the configured object store and function invoker from the settings."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread

from plastinka_api.invokers.base import FunctionInvoker
from plastinka_api.invokers.local import LocalFunction, LocalFunctionInvoker
from plastinka_api.invokers.recording import AttemptRecord
from plastinka_api.metrics import Metrics
from plastinka_api.settings import Settings
from plastinka_storage.base import ObjectStore
from plastinka_storage.factory import open_store
from plastinka_storage.local import LocalObjectStore
from plastinka_store.repository import JobRepository
from plastinka_store.tables import CloudFunctionLog

#: Where signed URLs of the local store are served by this app.
FILES_PATH = "/files"

#: The function handler directories of the monorepo (``services/<name>/``), next to this service.
SERVICES_DIR = Path(__file__).resolve().parents[3]


def make_store(settings: Settings, secret: bytes) -> ObjectStore:
    if settings.storage_backend == "local":
        return LocalObjectStore(
            settings.resolved_storage_dir,
            signing_key=secret,
            base_url=settings.resolved_public_url + FILES_PATH,
            presign_expiry_s=settings.signed_url_ttl_s,
        )
    return open_store(settings.s3_settings(presign_expiry_s=settings.signed_url_ttl_s))


def function_env(settings: Settings) -> dict[str, str]:
    """What a function process needs to reach the same storage as the API."""
    env = {
        "PLASTINKA_STORAGE_BACKEND": settings.storage_backend,
        "PLASTINKA_STORAGE_DIR": str(settings.resolved_storage_dir),
    }
    if settings.storage_backend == "s3":
        env |= settings.s3_env()
    return env


class DbRecorder:
    """Writes every invocation attempt to ``cloud_function_logs`` and tells the engine about failed runs."""

    def __init__(
        self,
        repo: JobRepository,
        on_finished: Callable[[AttemptRecord], Awaitable[None]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.repo = repo
        self.on_finished = on_finished
        self.metrics = metrics

    async def record(self, entry: AttemptRecord) -> None:
        row = CloudFunctionLog(
            function_name=entry.function,
            job_id=entry.job_id or "",
            attempt=entry.attempt,
            request_id=entry.request_id,
            started_at=entry.started,
            finished_at=entry.finished,
            duration_s=entry.duration_s,
            outcome="ok" if entry.error is None else "error",
            error=entry.error,
            http_status=entry.status,
        )
        await anyio.to_thread.run_sync(self.repo.log_invocation, row)
        if self.metrics is not None:
            kind = {"train": "training", "predict": "prediction"}.get(entry.function, entry.function)
            if entry.status == 429:
                self.metrics.throttles.labels(kind).inc()
        if self.on_finished is not None:
            await self.on_finished(entry)


def make_invoker(settings: Settings, recorder: DbRecorder) -> FunctionInvoker | None:
    if settings.invoker == "none":
        return None
    if settings.invoker == "local":
        root = settings.functions_dir or SERVICES_DIR
        env = {**os.environ, **function_env(settings)}
        functions = {
            "train": LocalFunction(path=root / "train-function", timeout_s=settings.function_timeout_s),
            "predict": LocalFunction(path=root / "predict-function", timeout_s=settings.function_timeout_s),
        }
        return LocalFunctionInvoker(
            functions, recorder=recorder, max_concurrency=settings.function_concurrency, env=env
        )
    # A Yandex record is one HTTP try at *starting* a function, not the end of a run: a 503 or a connection
    # error that the invoker's own retry then gets past (or a final 502 that fails the job) must not also be
    # settled as a crashed run, which retried the job and ran its function twice.
    return make_yandex_invoker(settings, DbRecorder(recorder.repo, None, recorder.metrics))


def make_yandex_invoker(settings: Settings, recorder: DbRecorder) -> FunctionInvoker:
    # The SDK and its gRPC stubs load only when the yandex invoker is configured.
    from plastinka_api.invokers.cloud_api import CloudCredentials  # noqa: PLC0415
    from plastinka_api.invokers.yandex import (  # noqa: PLC0415
        YandexFunction,
        YandexFunctionInvoker,
        YandexInvokerSettings,
    )

    if not settings.yandex_train_function_id or not settings.yandex_predict_function_id:
        raise ValueError("the yandex invoker needs PLASTINKA_YANDEX_TRAIN_FUNCTION_ID and ..._PREDICT_FUNCTION_ID")
    if settings.yandex_sa_key_file is not None:
        credentials = CloudCredentials(service_account_key=json.loads(settings.yandex_sa_key_file.read_text()))
    elif settings.yandex_iam_token is not None:
        credentials = CloudCredentials(iam_token=settings.yandex_iam_token.get_secret_value())
    elif settings.yandex_metadata_credentials:
        credentials = CloudCredentials(metadata_url=settings.yandex_metadata_url)
    else:
        raise ValueError(
            "the yandex invoker needs PLASTINKA_YANDEX_SA_KEY_FILE, PLASTINKA_YANDEX_IAM_TOKEN"
            " or PLASTINKA_YANDEX_METADATA_CREDENTIALS=true"
        )
    extra: dict[str, Any] = {}
    if settings.yandex_api_endpoint:
        extra["api_endpoint"] = settings.yandex_api_endpoint
    if settings.yandex_functions_endpoint:
        extra["functions_endpoint"] = settings.yandex_functions_endpoint
    if settings.yandex_root_certificates_file:
        extra["root_certificates"] = settings.yandex_root_certificates_file.read_bytes()
    tag = settings.yandex_function_tag
    invoker_settings = YandexInvokerSettings(
        functions={
            "train": YandexFunction(settings.yandex_train_function_id, tag),
            "predict": YandexFunction(settings.yandex_predict_function_id, tag),
        },
        credentials=credentials,
        **extra,
    )
    return YandexFunctionInvoker(invoker_settings, recorder=recorder)
