"""One attempt of one job, the same for every function: report, work, store the outcome, report again.

``running`` -> progress... -> the final event (``succeeded`` with the manifest, or ``failed``), which is written to
``jobs/<job_id>/attempt-<n>/status.json`` *before* it is sent, so a lost callback can be reconciled and a
re-delivered attempt only re-sends it. Deterministic failures are reported and the handler returns; transient ones
are reported as retryable and re-raised so the platform retries the invocation.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
import traceback
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from plastinka_function_runtime.environment import ConfigurationError, storage_settings
from plastinka_function_runtime.events import RequestError, decode_event, parse_request
from plastinka_function_runtime.stats import Meter, next_invocation_is_cold

if TYPE_CHECKING:
    from plastinka_schemas import (
        AnyJobEvent,
        Artifact,
        ArtifactRef,
        PredictRequest,
        RunStats,
        RunSummary,
        TrainRequest,
    )
    from plastinka_storage import ObjectStore
    from plastinka_store import JobReporter

_T = TypeVar("_T")
_log = logging.getLogger("plastinka.function")

PROGRESS_MIN_STEP = 0.1
PROGRESS_MIN_INTERVAL_S = 5.0


class FunctionContext(Protocol):
    """The part of the platform's context object the handlers use."""

    request_id: str

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass
class Outcome:
    """What a successful attempt produced: named artifacts (the manifest) and a small summary."""

    artifacts: dict[Artifact, ArtifactRef]
    summary: RunSummary | None = None


class Attempt:
    """What the work function gets: the request, the store (through a blocking facade) and the time left."""

    def __init__(
        self,
        request: TrainRequest | PredictRequest,
        store: ObjectStore,
        runner: asyncio.Runner,
        context: FunctionContext,
        reporter: JobReporter,
    ) -> None:
        self.request = request
        self.store = store
        self._runner = runner
        self._context = context
        self._reporter = reporter
        self._last_progress = (0.0, time.monotonic())

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run one storage coroutine to completion on the attempt's event loop."""
        return self._runner.run(coro)

    def remaining_s(self) -> float:
        """Seconds until the platform's deadline or the request's, whichever comes first."""
        left = self._context.get_remaining_time_in_millis() / 1000
        if self.request.deadline is not None:
            left = min(left, (self.request.deadline - datetime.now(UTC)).total_seconds())
        return max(0.0, left)

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report progress, at most every ``PROGRESS_MIN_STEP`` or ``PROGRESS_MIN_INTERVAL_S``; never fails the job."""
        from plastinka_store import ReportError  # noqa: PLC0415

        fraction = min(1.0, max(0.0, fraction))
        last_fraction, last_at = self._last_progress
        now = time.monotonic()
        if fraction - last_fraction < PROGRESS_MIN_STEP and now - last_at < PROGRESS_MIN_INTERVAL_S:
            return
        self._last_progress = (fraction, now)
        try:
            self._reporter.progress(round(fraction, 3), message[:2000] if message else None)
        except ReportError as exc:
            _log.warning("progress event not delivered: %s", exc)

    def read(self, ref: ArtifactRef) -> bytes:
        """An input object, verified against the sha256 (and size) the request carries."""
        return self.run(self.store.get_artifact(ref))

    def read_inputs(
        self, dataset: ArtifactRef, stock: ArtifactRef | None
    ) -> tuple[bytes, str, bytes | None, str | None]:
        """The dataset and the optional stock snapshot, verified, each with its file name (which names the format)."""
        if stock is None:
            return self.read(dataset), PurePosixPath(dataset.key).name, None, None
        return self.read(dataset), PurePosixPath(dataset.key).name, self.read(stock), PurePosixPath(stock.key).name

    def write(self, stem: str, suffix: str, data: bytes, content_type: str) -> ArtifactRef:
        """Store an output under this attempt's prefix, named by its content.

        A re-delivered attempt that produces other bytes (a new timestamp inside a model) writes a new object
        beside the first instead of replacing what an earlier manifest may already point at.
        """
        from plastinka_storage import job_artifact_key  # noqa: PLC0415

        digest = hashlib.sha256(data).hexdigest()
        key = job_artifact_key(self.request.job_id, self.request.attempt, f"{stem}-{digest[:16]}{suffix}")
        return self.run(self.store.put_bytes(key, data, content_type=content_type))

    def write_artifact(self, artifact: Artifact, data: bytes) -> ArtifactRef:
        """Store one of the contract's artifacts under its name, suffix and media type."""
        return self.write(artifact.stem, artifact.suffix, data, artifact.media_type)


Work = Callable[[Attempt], Outcome]


def is_transient(exc: BaseException) -> bool:
    """Faults that may pass by themselves: storage or network trouble, an unreachable callback."""
    import httpx  # noqa: PLC0415

    from plastinka_storage import TransientStorageError  # noqa: PLC0415
    from plastinka_storage import is_transient as storage_transient  # noqa: PLC0415
    from plastinka_store import CallbackUnavailable  # noqa: PLC0415

    transient = (TransientStorageError, CallbackUnavailable, ConnectionError, TimeoutError, httpx.TransportError)
    return isinstance(exc, transient) or storage_transient(exc)


def run_attempt(
    event: object,
    context: FunctionContext,
    request_type: type[TrainRequest] | type[PredictRequest],
    work: Work,
    *,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The whole handler around ``work``; returns a small JSON-able summary (the async body's response)."""
    from plastinka_storage import open_store  # noqa: PLC0415
    from plastinka_store import CallbackRejected, JobReporter  # noqa: PLC0415

    meter = Meter(cold_start=next_invocation_is_cold())
    try:
        request = parse_request(event, request_type)
        _check_prefix(request)
    except RequestError as exc:
        _report_unparsable(event, context, exc, meter)
        return {"status": "rejected", "error": str(exc)}
    reporter = JobReporter.for_request(request, invocation_id=context.request_id)
    try:
        settings = storage_settings(os.environ if env is None else env)
    except (ConfigurationError, ValueError) as exc:
        # A deployment problem: retryable, since fixing the function's environment fixes the job.
        with reporter:
            _best_effort_failed(reporter, exc, meter.stats(), retryable=True)
        raise
    with reporter, asyncio.Runner() as runner:
        store = open_store(settings)
        runner.run(store.open())
        try:
            previous = _previous_outcome(runner, store, request)
            if previous is not None:
                return _resend(reporter, previous)
            try:
                reporter.running(cold_start=meter.cold_start)
            except CallbackRejected as exc:
                # The API no longer wants this attempt (cancelled, superseded): do no work for it.
                return {"status": "abandoned", "error": str(exc)}
            return _work(Attempt(request, store, runner, context, reporter), work, reporter, meter)
        finally:
            runner.run(store.close())


def _work(attempt: Attempt, work: Work, reporter: JobReporter, meter: Meter) -> dict[str, Any]:
    from plastinka_schemas import ArtifactManifest, FailedEvent, RunSummary, SucceededEvent  # noqa: PLC0415
    from plastinka_store import CallbackRejected  # noqa: PLC0415

    request = attempt.request
    common = {"job_id": request.job_id, "attempt": request.attempt, "invocation_id": reporter.invocation_id}
    try:
        outcome = work(attempt)
    except Exception as exc:
        if is_transient(exc):
            _best_effort_failed(reporter, exc, meter.stats(), retryable=True)
            raise
        final: AnyJobEvent = FailedEvent(
            **common,
            at=datetime.now(UTC),
            error_type=type(exc).__name__,
            message=str(exc)[:10_000] or type(exc).__name__,
            traceback=traceback.format_exc()[-100_000:],
            stats=meter.stats(),
        )
    else:
        final = SucceededEvent(
            **common,
            at=datetime.now(UTC),
            manifest=ArtifactManifest(artifacts=outcome.artifacts),
            stats=meter.stats(),
            summary=outcome.summary or RunSummary(),
        )
    _store_status(attempt, final)
    try:
        reporter.send(final)  # CallbackUnavailable propagates: the platform re-runs and we re-send the status
    except CallbackRejected as exc:
        # The API refused the outcome (a stale attempt, say); it stays in the status object for reconciliation.
        _log.warning("the API refused the %s event: %s", final.type, exc)
    return {"status": final.type, **({"manifest": final.manifest.model_dump()} if final.type == "succeeded" else {})}


def _check_prefix(request: TrainRequest | PredictRequest) -> None:
    from plastinka_storage import job_attempt_prefix  # noqa: PLC0415

    expected = job_attempt_prefix(request.job_id, request.attempt)
    if request.output_prefix != expected:
        raise RequestError(f"output_prefix must be {expected!r} for this attempt, not {request.output_prefix!r}")


def _store_status(attempt: Attempt, final: AnyJobEvent) -> None:
    from plastinka_storage import job_status_key  # noqa: PLC0415

    key = job_status_key(attempt.request.job_id, attempt.request.attempt)
    attempt.run(attempt.store.put_bytes(key, final.model_dump_json().encode(), content_type="application/json"))


def _previous_outcome(
    runner: asyncio.Runner, store: ObjectStore, request: TrainRequest | PredictRequest
) -> AnyJobEvent | None:
    from plastinka_schemas import parse_job_event  # noqa: PLC0415
    from plastinka_storage import job_status_key  # noqa: PLC0415

    key = job_status_key(request.job_id, request.attempt)
    if not runner.run(store.exists(key)):
        return None
    return parse_job_event(runner.run(store.get_bytes(key)))


def _resend(reporter: JobReporter, previous: AnyJobEvent) -> dict[str, Any]:
    from plastinka_store import CallbackRejected  # noqa: PLC0415

    try:
        reporter.send(previous)
    except CallbackRejected as exc:
        _log.info("the API already has the outcome of this attempt: %s", exc)
    return {"status": previous.type, "redelivered": True}


def _best_effort_failed(reporter: JobReporter, exc: BaseException, stats: RunStats, *, retryable: bool) -> None:
    from plastinka_store import ReportError  # noqa: PLC0415

    try:
        reporter.failed(
            type(exc).__name__,
            str(exc) or type(exc).__name__,
            traceback=traceback.format_exc(),
            retryable=retryable,
            stats=stats,
        )
    except ReportError as report_error:
        _log.warning("failed event not delivered: %s", report_error)


def _report_unparsable(event: object, context: FunctionContext, exc: RequestError, meter: Meter) -> None:
    """A request we cannot accept still names its job, usually: tell the API, so the job fails at once."""
    from plastinka_store import JobReporter, ReportError  # noqa: PLC0415

    _log.error("rejected request: %s", exc)
    try:
        data = decode_event(event)
        reporter = JobReporter(
            job_id=str(data["job_id"]),
            attempt=int(data["attempt"]),
            token=str(data["callback_token"]),
            callback_url=str(data["callback_url"]) if data.get("callback_url") else None,
            invocation_id=context.request_id,
        )
    except (RequestError, KeyError, TypeError, ValueError):
        return
    with reporter:
        try:
            reporter.failed("RequestError", str(exc), stats=meter.stats())
        except (ReportError, ValueError) as report_error:
            _log.warning("could not report the rejected request: %s", report_error)
