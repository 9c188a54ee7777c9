"""A real S3 peer for tests: moto's ThreadedMotoServer on loopback, fresh buckets, and a fault-injecting proxy.

The moto server runs in a child process (started with ``ThreadedMotoServer`` on 127.0.0.1, port chosen by the
kernel), not in the test process: its memory then stays out of ``tracemalloc`` measurements and its request
handling does not compete with the test's event loop for the GIL.

``FaultProxy`` sits between a client and the server and can be told to answer an error status, to stall past the
client's timeout, or to drop the connection for the next N requests; it records every request it sees.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from aiohttp import ClientSession, ClientTimeout, web

__all__ = [
    "S3_ACCESS_KEY",
    "S3_REGION",
    "S3_SECRET_KEY",
    "FaultProxy",
    "ProxiedRequest",
    "moto_server",
    "raw_s3_client",
    "s3_bucket",
    "s3_fault_proxy",
    "s3_fault_proxy_server",
    "s3_server",
    "unavailable",
]

S3_ACCESS_KEY = "testing"
S3_SECRET_KEY = "testing"  # noqa: S105 - moto accepts any credentials
S3_REGION = "us-east-1"
_START_TIMEOUT_S = 30.0

# Runs in the child. Nothing reads its output after the first line, so request logging is silenced: a full
# pipe would otherwise block the server mid-request.
_SERVE_MOTO = """
import logging, os, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(f"http://{host}:{port}", flush=True)
sys.stdout = open(os.devnull, "w")
sys.stdin.read()  # serve until the parent closes our stdin (or dies)
server.stop()
"""


def unavailable(message: str) -> None:
    """Skip the test, except on CI (``CI=true``) where a missing peer is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _start_moto() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}
    errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the child
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter running our own script
        [sys.executable, "-c", _SERVE_MOTO],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    reader.start()
    reader.join(_START_TIMEOUT_S)
    url = line[0].strip() if line else ""
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        proc.wait(timeout=10)
        errors.seek(0)
        message = errors.read().strip()[-2000:]
        errors.close()
        raise RuntimeError(f"moto server did not start: {message or 'no output'}")
    errors.close()  # the child keeps its own descriptor
    return proc, url


def _stop_moto(proc: subprocess.Popen[str]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Run a moto S3 server in a child process on 127.0.0.1 and yield its endpoint URL (for scripts too)."""
    proc, url = _start_moto()
    try:
        yield url
    finally:
        _stop_moto(proc)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Endpoint URL of a moto S3 server on 127.0.0.1 (one per test session)."""
    try:
        proc, url = _start_moto()
    except (OSError, RuntimeError) as exc:
        unavailable(f"cannot start the moto S3 server: {exc}")
        raise  # unreachable: unavailable() always raises
    try:
        yield url
    finally:
        _stop_moto(proc)


@pytest.fixture(scope="session")
def raw_s3_client(s3_server: str) -> Any:
    """A plain synchronous boto3 client on the server, for arranging or tampering behind a store's back."""
    return boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    )


@pytest.fixture
def s3_bucket(raw_s3_client: Any) -> Iterator[str]:
    """A fresh, empty bucket for this test; emptied and removed afterwards."""
    name = f"test-{uuid.uuid4().hex[:20]}"
    raw_s3_client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        paginator = raw_s3_client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=name):
            batch = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if batch:
                raw_s3_client.delete_objects(Bucket=name, Delete={"Objects": batch, "Quiet": True})
        for upload in raw_s3_client.list_multipart_uploads(Bucket=name).get("Uploads", []):
            raw_s3_client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
        raw_s3_client.delete_bucket(Bucket=name)


# --- fault-injecting proxy -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxiedRequest:
    """One request the proxy saw: what it was and what the proxy did with it."""

    method: str
    path: str
    headers: dict[str, str]
    body_md5: str  # base64, comparable with a Content-MD5 header
    body_size: int
    connection: int  # an id of the client's TCP connection: equal ids mean a reused connection
    fault: str | None
    status: int | None


@dataclass
class _Fault:
    kind: str  # "status" | "delay" | "drop" | "lose" | "truncate"
    remaining: int
    match: str | None = None
    status: int = 503
    code: str = "SlowDown"
    seconds: float = 0.0
    after_bytes: int = 0


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "content-length", "host", "te", "upgrade"}


@dataclass
class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of ``upstream`` that injects faults on demand.

    Faults queue up: ``fail_next(2); delay_next(1, 5)`` answers two errors, then stalls one request, then
    forwards everything. Thread-safe: the proxy runs its own event loop in a daemon thread.
    """

    upstream: str
    _faults: deque[_Fault] = field(default_factory=deque)
    _log: list[ProxiedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _port: int = 0
    _stopped: asyncio.Event | None = None
    _session: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # Every fault applies to the next ``n`` requests; with ``match=`` only to requests whose
    # "<METHOD> <path?query>" contains that text, e.g. ``match="PUT "`` or ``match="uploadId="``.

    def fail_next(self, n: int, *, status: int = 503, code: str = "SlowDown", match: str | None = None) -> None:
        """Answer with ``status`` and an S3-style XML error ``code`` (the request never reaches the server)."""
        self._push(_Fault("status", n, match, status=status, code=code))

    def delay_next(self, n: int, seconds: float, *, match: str | None = None) -> None:
        """Hold each request for ``seconds`` (past a client timeout), then answer 503 to nobody."""
        self._push(_Fault("delay", n, match, seconds=seconds))

    def drop_next(self, n: int, *, match: str | None = None) -> None:
        """Close the connection without an answer (a reset before the server saw the request)."""
        self._push(_Fault("drop", n, match))

    def lose_next(self, n: int, *, match: str | None = None) -> None:
        """Forward the request, so the server acts on it, then close the connection instead of answering."""
        self._push(_Fault("lose", n, match))

    def truncate_next(self, n: int, after_bytes: int, *, match: str | None = None) -> None:
        """Forward the request but cut the answer's body off after ``after_bytes`` bytes."""
        self._push(_Fault("truncate", n, match, after_bytes=after_bytes))

    def reset(self) -> None:
        """Forget queued faults and the request log."""
        with self._lock:
            self._faults.clear()
            self._log.clear()

    @property
    def requests(self) -> list[ProxiedRequest]:
        with self._lock:
            return list(self._log)

    def count(self, method: str | None = None) -> int:
        """How many requests arrived (of ``method`` if given)."""
        return sum(1 for r in self.requests if method is None or r.method == method)

    def _push(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("n must be >= 1")
        with self._lock:
            self._faults.append(fault)

    def _take(self, request_line: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.match is None or fault.match in request_line:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def _record(self, request: Any, body: bytes, fault: _Fault | None, status: int | None) -> None:
        entry = ProxiedRequest(
            method=request.method,
            path=request.path_qs,
            headers=dict(request.headers),
            body_md5=base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode("ascii"),
            body_size=len(body),
            connection=id(request.transport),
            fault=fault.kind if fault else None,
            status=status,
        )
        with self._lock:
            self._log.append(entry)

    # --- server plumbing ---

    def start(self) -> None:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(ready))
            except BaseException as exc:  # reported to the starting thread
                errors.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="s3-fault-proxy", daemon=True)
        self._thread.start()
        ready.wait(_START_TIMEOUT_S)
        if errors or not self._port:
            raise RuntimeError(f"fault proxy did not start: {errors[0] if errors else 'timeout'}")

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def _serve(self, ready: threading.Event) -> None:
        self._stopped = asyncio.Event()
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(runner.addresses[0][1])
        async with ClientSession(timeout=ClientTimeout(total=120), auto_decompress=False) as session:
            self._session = session
            ready.set()
            await self._stopped.wait()
            await runner.cleanup()

    async def _handle(self, request: Any) -> Any:
        body = await request.read()
        fault = self._take(f"{request.method} {request.path_qs}")
        if fault is not None and fault.kind == "status":
            self._record(request, body, fault, fault.status)
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{fault.code}</Code><Message>injected by FaultProxy</Message>"
                f"<RequestId>{uuid.uuid4().hex}</RequestId></Error>"
            )
            return web.Response(status=fault.status, body=xml.encode(), content_type="application/xml")
        if fault is not None and fault.kind == "drop":
            self._record(request, body, fault, None)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # nothing more to say on this connection
        if fault is not None and fault.kind == "delay":
            self._record(request, body, fault, None)
            await asyncio.sleep(fault.seconds)
            # The client has given up by now; the late answer goes nowhere.
            return web.Response(status=503, text="too late")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=body,
            allow_redirects=False,
            skip_auto_headers=("Content-Type", "User-Agent", "Accept-Encoding", "Accept"),
        ) as upstream:
            payload = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP - {"content-length"}}
            self._record(request, body, fault, upstream.status)
            if fault is not None and fault.kind == "lose":
                if request.transport is not None:
                    request.transport.abort()
                raise asyncio.CancelledError  # the server acted; the client never hears of it
            if request.method == "HEAD":
                return web.Response(status=upstream.status, headers=out)
            if fault is not None and fault.kind == "truncate":
                cut = web.StreamResponse(status=upstream.status, headers=out)  # keeps the full Content-Length
                await cut.prepare(request)
                await cut.write(payload[: fault.after_bytes])
                await asyncio.sleep(0.05)  # let the partial body reach the client before the reset
                if request.transport is not None:
                    request.transport.abort()
                return cut
            out.pop("Content-Length", None)
            return web.Response(status=upstream.status, headers=out, body=payload)


@pytest.fixture(scope="session")
def s3_fault_proxy_server(s3_server: str) -> Iterator[FaultProxy]:
    """One fault proxy in front of the session's S3 server."""
    proxy = FaultProxy(upstream=s3_server)
    try:
        proxy.start()
    except RuntimeError as exc:
        unavailable(str(exc))
    try:
        yield proxy
    finally:
        with contextlib.suppress(Exception):
            proxy.stop()


@pytest.fixture
def s3_fault_proxy(s3_fault_proxy_server: FaultProxy) -> Iterator[FaultProxy]:
    """The fault proxy with no queued faults and an empty request log; cleared again after the test."""
    s3_fault_proxy_server.reset()
    yield s3_fault_proxy_server
    s3_fault_proxy_server.reset()
