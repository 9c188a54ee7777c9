"""Prometheus metrics of one app instance: HTTP, database, jobs, functions, models.

Each app owns its registry so several apps (tests, two instances in one process) never share counters.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_JOB_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600)


class Metrics:
    """The named instruments; ``render()`` is the ``/metrics`` body."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("plastinka_http_requests", "HTTP requests", ["method", "route", "status"], registry=r)
        self.request_errors = Counter(
            "plastinka_http_errors", "HTTP responses with status >= 400", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "plastinka_http_request_seconds", "HTTP latency", ["method", "route"], buckets=_LATENCY_BUCKETS, registry=r
        )
        self.db_query = Histogram(
            "plastinka_db_query_seconds", "Database statement time", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.jobs_finished = Counter("plastinka_store_finished", "Jobs ended", ["kind", "status"], registry=r)
        self.job_duration = Histogram(
            "plastinka_job_seconds",
            "Job time from submission to end",
            ["kind", "status"],
            buckets=_JOB_BUCKETS,
            registry=r,
        )
        self.jobs_dispatched = Counter(
            "plastinka_store_dispatched", "Attempts handed to the invoker", ["kind"], registry=r
        )
        self.dispatch_errors = Counter(
            "plastinka_dispatch_errors", "Invocations that failed", ["kind", "reason"], registry=r
        )
        self.function_seconds = Histogram(
            "plastinka_function_seconds", "Function execution time", ["kind"], buckets=_JOB_BUCKETS, registry=r
        )
        self.function_memory = Gauge("plastinka_function_peak_memory_mb", "Last peak memory", ["kind"], registry=r)
        self.cold_starts = Counter("plastinka_function_cold_starts", "Function cold starts", ["kind"], registry=r)
        self.throttles = Counter("plastinka_function_throttles", "Invocations answered 429", ["kind"], registry=r)
        self.events = Counter("plastinka_job_events", "Callback events", ["type", "outcome"], registry=r)
        self.sweeps = Counter("plastinka_sweeper_actions", "Sweeper decisions", ["action"], registry=r)
        self.model_quality = Gauge(
            "plastinka_model_quality", "Metric of the newest model or accuracy check", ["metric", "source"], registry=r
        )
        self.rows = Counter("plastinka_rows_processed", "Data rows ingested or forecast", ["stage"], registry=r)
        self.webhooks = Counter("plastinka_webhooks", "Webhook deliveries", ["outcome"], registry=r)
        self.jobs_refused = Counter(
            "plastinka_jobs_refused", "Job submissions refused by a per-owner quota", ["kind", "reason"], registry=r
        )
        self.auth_failures = Counter(
            "plastinka_auth_failures", "Refused API-key authentications (invalid, throttled)", ["outcome"], registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def watch_engine(self, engine: Engine) -> None:
        """Time every statement the engine runs."""

        @event.listens_for(engine, "before_cursor_execute")
        def _start(conn: Any, *_: Any) -> None:
            conn.info.setdefault("plastinka_t0", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _stop(conn: Any, *_: Any) -> None:
            starts = conn.info.get("plastinka_t0")
            if starts:
                self.db_query.observe(time.perf_counter() - starts.pop())


def _route_of(scope: Scope) -> str:
    """The route template (``/api/v1/status/{job_id}``), never the raw path: bounded label values."""
    if scope.get("route") is None:
        return "unmatched"
    # Routers included in routers keep relative templates; rebuild the full one from the matched parameters.
    segments = str(scope.get("path", "")).split("/")
    for name, value in (scope.get("path_params") or {}).items():
        text = str(value)
        segments = [f"{{{name}}}" if segment == text else segment for segment in segments]
        if "/" in text:  # a {key:path} parameter spans several segments
            return str(scope.get("path", "")).replace(text, f"{{{name}}}")
    return "/".join(segments)


class MetricsMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer streamed uploads and downloads)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_of(scope)
            method = scope.get("method", "GET")
            self.metrics.requests.labels(method, route, str(status)).inc()
            if status >= 400:
                self.metrics.request_errors.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - start)
