"""JobReporter against a real HTTP server on loopback that verifies the callback token."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from plastinka_schemas import ArtifactManifest, RunStats, SucceededEvent, TrainRequest, parse_job_event
from plastinka_store import (
    CallbackRejected,
    CallbackUnavailable,
    InvalidJobToken,
    JobReporter,
    sign_job_token,
    verify_job_token,
)

SECRET = b"0123456789abcdef-callback-secret"
JOB_ID = "tj_01hzz0000000000000000000000"


@dataclass
class CallbackServer:
    """Answers each POST with the next scripted status (200 once the script runs out)."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def server() -> Iterator[CallbackServer]:
    state = CallbackServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            event = parse_job_event(body)
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                verify_job_token(SECRET, token, event.job_id, attempt=event.attempt)
                verified = True
            except InvalidJobToken:
                verified = False
            state.received.append({"event": event, "verified": verified, "headers": dict(self.headers)})
            status, headers = state.script.pop(0) if state.script else (200, {})
            if not verified:
                status = 401
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            payload = json.dumps({"status": status}).encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/api/v1/callbacks/jobs"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _token(attempt: int = 1) -> str:
    return sign_job_token(SECRET, JOB_ID, attempt, datetime.now(UTC) + timedelta(hours=1))


def _reporter(url: str | None, sleeps: list[float] | None = None, **kwargs: Any) -> JobReporter:
    recorded = sleeps if sleeps is not None else []
    kwargs.setdefault("sleep", recorded.append)
    return JobReporter(job_id=JOB_ID, attempt=1, token=_token(), callback_url=url, invocation_id="fn-1", **kwargs)


def _manifest() -> ArtifactManifest:
    return ArtifactManifest.model_validate(
        {"artifacts": {"model": {"key": f"jobs/{JOB_ID}/attempt-1/model.txt", "sha256": "a" * 64, "size": 10}}}
    )


def test_events_arrive_signed_and_intact(server: CallbackServer) -> None:
    with _reporter(server.url) as reporter:
        assert reporter.running(cold_start=True)
        assert reporter.progress(0.5, "fitting")
        assert reporter.succeeded(_manifest(), stats=RunStats(duration_s=3.5), summary={"rows": 1})
    assert [r["verified"] for r in server.received] == [True, True, True]
    kinds = [r["event"].type for r in server.received]
    assert kinds == ["running", "progress", "succeeded"]
    done = server.received[2]["event"]
    assert isinstance(done, SucceededEvent)
    assert done.manifest == _manifest() and done.summary.rows == 1 and done.invocation_id == "fn-1"
    assert server.received[0]["headers"]["Content-Type"] == "application/json"


def test_503_is_retried_with_growing_backoff(server: CallbackServer) -> None:
    server.script = [(503, {}), (503, {}), (200, {})]
    sleeps: list[float] = []
    reporter = _reporter(server.url, sleeps, backoff_initial_s=0.5, backoff_max_s=8.0)
    assert reporter.failed("Timeout", "storage timed out", retryable=True)
    assert len(server.received) == 3
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and sleeps[1] >= 1.0


def test_429_honours_retry_after_within_the_cap(server: CallbackServer) -> None:
    server.script = [(429, {"Retry-After": "3"}), (200, {})]
    sleeps: list[float] = []
    assert _reporter(server.url, sleeps, backoff_initial_s=0.1, backoff_max_s=8.0).running()
    assert sleeps and sleeps[0] >= 3.0


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_4xx_is_an_answer_and_never_retried(server: CallbackServer, status: int) -> None:
    server.script = [(status, {})]
    sleeps: list[float] = []
    with pytest.raises(CallbackRejected) as rejected:
        _reporter(server.url, sleeps).progress(0.1)
    assert rejected.value.status_code == status
    assert len(server.received) == 1 and sleeps == []


def test_a_forged_token_is_refused_by_the_server(server: CallbackServer) -> None:
    forged = sign_job_token(b"another-secret-of-16-bytes", JOB_ID, 1, datetime.now(UTC) + timedelta(hours=1))
    reporter = JobReporter(job_id=JOB_ID, attempt=1, token=forged, callback_url=server.url, sleep=lambda _: None)
    with pytest.raises(CallbackRejected) as rejected:
        reporter.running()
    assert rejected.value.status_code == 401
    assert server.received[0]["verified"] is False


def test_retries_stop_within_the_total_time_budget(server: CallbackServer) -> None:
    server.script = [(503, {})] * 1000
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        threading.Event().wait(seconds)

    reporter = _reporter(
        server.url, sleep=sleep, max_total_s=0.4, max_tries=1000, backoff_initial_s=0.02, backoff_max_s=0.1
    )
    with pytest.raises(CallbackUnavailable):
        reporter.running()
    assert sum(slept) < 0.4  # never sleeps past the budget
    assert 1 < len(server.received) < 1000


def test_connection_errors_are_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    sleeps: list[float] = []
    with pytest.raises(CallbackUnavailable):
        _reporter(f"http://127.0.0.1:{port}/cb", sleeps, max_tries=3).running()
    assert len(sleeps) == 2


def test_without_a_callback_url_nothing_is_sent() -> None:
    reporter = _reporter(None)
    assert reporter.running() is False
    assert reporter.sent == []


def test_reporter_for_a_function_request(server: CallbackServer) -> None:
    request = TrainRequest.model_validate(
        {
            "job_id": JOB_ID,
            "attempt": 1,
            "callback_url": server.url,
            "callback_token": _token(),
            "output_prefix": f"jobs/{JOB_ID}/attempt-1/",
            "dataset": {"key": "datasets/x/sales.xlsx", "sha256": "b" * 64, "size": 100},
        }
    )
    with JobReporter.for_request(request, sleep=lambda _: None) as reporter:
        assert reporter.running()
    assert server.received[0]["verified"] is True
