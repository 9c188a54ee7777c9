"""Loopback fakes of Yandex Cloud for the invoker tests.

``FakeYandexCloud`` is one gRPC server (TLS with a throwaway CA-less self-signed certificate, or plain) that hosts
the SDK's own generated servicers: ``ApiEndpointService`` (endpoint discovery), ``IamTokenService`` (checks the
service-account JWT and issues expiring tokens) and ``FunctionService`` (``Get``/``GetVersionByTag``, demanding a
valid bearer token). ``FunctionsEmulator`` is the HTTPS invoke endpoint in miniature: it checks the bearer token and
``?integration=async``, answers 202 and runs the real ``index.handler`` in a subprocess, or answers scripted
failures (429/503/502 with ``X-Function-Error``) so retry rules meet real HTTP.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import grpc
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.protobuf.timestamp_pb2 import Timestamp
from yandex.cloud.endpoint.api_endpoint_pb2 import ApiEndpoint
from yandex.cloud.endpoint.api_endpoint_service_pb2 import ListApiEndpointsResponse
from yandex.cloud.endpoint.api_endpoint_service_pb2_grpc import (
    ApiEndpointServiceServicer,
    add_ApiEndpointServiceServicer_to_server,
)
from yandex.cloud.iam.v1.iam_token_service_pb2 import CreateIamTokenResponse
from yandex.cloud.iam.v1.iam_token_service_pb2_grpc import (
    IamTokenServiceServicer,
    add_IamTokenServiceServicer_to_server,
)
from yandex.cloud.serverless.functions.v1.function_pb2 import Function, Version
from yandex.cloud.serverless.functions.v1.function_service_pb2_grpc import (
    FunctionServiceServicer,
    add_FunctionServiceServicer_to_server,
)

if TYPE_CHECKING:
    from plastinka_api.invokers import InvocationRecorder, YandexFunction, YandexFunctionInvoker

LOOPBACK = "127.0.0.1"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def service_account_key(service_account_id: str = "ajefakeserviceacct") -> dict[str, str]:
    """An authorized key in the shape ``yc iam key create`` writes, with a fresh RSA key pair."""
    key = _rsa_key()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "id": f"ajekey{uuid.uuid4().hex[:14]}",
        "service_account_id": service_account_id,
        "created_at": datetime.now(UTC).isoformat(),
        "key_algorithm": "RSA_2048",
        "public_key": public.decode(),
        "private_key": _pem(key),
    }


def loopback_certificate() -> tuple[bytes, bytes]:
    """A self-signed certificate for 127.0.0.1 (PEM cert, PEM key): the client trusts it as its root."""
    key = _rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plastinka-fake-yandex-cloud")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _pem(key).encode()


@dataclass
class FakeFunction:
    function_id: str
    http_invoke_url: str
    tags: dict[str, str] = field(default_factory=lambda: {"$latest": f"ver-{uuid.uuid4().hex[:12]}"})
    status: Any = Function.Status.ACTIVE


class _Endpoints(ApiEndpointServiceServicer):  # type: ignore[misc, unused-ignore]
    def __init__(self, cloud: FakeYandexCloud) -> None:
        self._cloud = cloud

    def List(self, request: Any, context: grpc.ServicerContext) -> ListApiEndpointsResponse:
        self._cloud.calls.append("ApiEndpointService.List")
        if self._cloud.discovery_stall_s:
            time.sleep(self._cloud.discovery_stall_s)  # a server that accepts the call and does not answer
        address = self._cloud.address
        return ListApiEndpointsResponse(
            endpoints=[ApiEndpoint(id=name, address=address) for name in ("iam", "serverless-functions", "endpoint")]
        )


class _IamTokens(IamTokenServiceServicer):  # type: ignore[misc, unused-ignore]
    def __init__(self, cloud: FakeYandexCloud) -> None:
        self._cloud = cloud

    def Create(self, request: Any, context: grpc.ServicerContext) -> CreateIamTokenResponse:
        self._cloud.calls.append("IamTokenService.Create")
        cloud = self._cloud
        try:
            header = jwt.get_unverified_header(request.jwt)
            key = cloud.keys[header["kid"]]
            claims = jwt.decode(request.jwt, key["public_key"], algorithms=["PS256"], audience=cloud.expected_audience)
        except (KeyError, jwt.PyJWTError) as exc:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, f"bad JWT: {exc}")
        if claims.get("iss") != key["service_account_id"]:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "JWT issuer is not the key's service account")
        token = f"t1.fake.{uuid.uuid4().hex}"
        expires = datetime.now(UTC) + cloud.token_ttl
        cloud.tokens[token] = expires
        stamp = Timestamp()
        stamp.FromDatetime(expires)
        return CreateIamTokenResponse(iam_token=token, expires_at=stamp)


class _Functions(FunctionServiceServicer):  # type: ignore[misc, unused-ignore]
    def __init__(self, cloud: FakeYandexCloud) -> None:
        self._cloud = cloud

    def _authorize(self, method: str, context: grpc.ServicerContext) -> None:
        self._cloud.calls.append(f"FunctionService.{method}")
        failure = self._cloud.pop_failure(method)
        if failure is not None:
            context.abort(failure, f"injected {failure.name}")
        metadata = dict(context.invocation_metadata())
        token = metadata.get("authorization", "").removeprefix("Bearer ")
        if self._cloud.require_auth and not self._cloud.token_valid(token):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or expired IAM token")

    def _function(self, function_id: str, context: grpc.ServicerContext) -> FakeFunction:
        function = self._cloud.functions.get(function_id)
        if function is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Function {function_id} not found")
            raise AssertionError("abort raises")
        return function

    def Get(self, request: Any, context: grpc.ServicerContext) -> Function:
        self._authorize("Get", context)
        function = self._function(request.function_id, context)
        return Function(
            id=function.function_id,
            folder_id="b1gfakefolder",
            name=function.function_id,
            http_invoke_url=function.http_invoke_url,
            status=function.status,
        )

    def GetVersionByTag(self, request: Any, context: grpc.ServicerContext) -> Version:
        self._authorize("GetVersionByTag", context)
        function = self._function(request.function_id, context)
        version_id = function.tags.get(request.tag)
        if version_id is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no version tagged {request.tag}")
            raise AssertionError("abort raises")
        return Version(
            id=version_id,
            function_id=function.function_id,
            runtime="python312",
            entrypoint="index.handler",
            status=Version.Status.ACTIVE,
            tags=[tag for tag, ver in function.tags.items() if ver == version_id],
        )


class FakeYandexCloud:
    """The three gRPC services on one loopback port; ``api_endpoint`` is what ``yandexcloud.SDK`` is pointed at."""

    def __init__(self, *, tls: bool = True, token_ttl: timedelta = timedelta(hours=12)) -> None:
        self.tls = tls
        self.token_ttl = token_ttl
        self.keys: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, datetime] = {}
        self.functions: dict[str, FakeFunction] = {}
        self.calls: list[str] = []
        self.require_auth = True
        self.discovery_stall_s = 0.0
        self._failures: dict[str, deque[grpc.StatusCode]] = {}
        self._lock = threading.Lock()
        self.root_certificates: bytes | None = None
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        # The generated stubs declare every RPC abstract; the fakes implement the few the invoker uses.
        add_ApiEndpointServiceServicer_to_server(_Endpoints(self), self._server)  # type: ignore[abstract, unused-ignore]
        add_IamTokenServiceServicer_to_server(_IamTokens(self), self._server)  # type: ignore[abstract, unused-ignore]
        add_FunctionServiceServicer_to_server(_Functions(self), self._server)  # type: ignore[abstract, unused-ignore]
        if tls:
            cert, key = loopback_certificate()
            self.root_certificates = cert
            credentials = grpc.ssl_server_credentials([(key, cert)])
            self.port = self._server.add_secure_port(f"{LOOPBACK}:0", credentials)
        else:
            self.port = self._server.add_insecure_port(f"{LOOPBACK}:0")

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def expected_audience(self) -> str:
        # The SDK signs for https://iam.<api endpoint>/iam/v1/tokens.
        return f"https://iam.{self.address}/iam/v1/tokens"

    def start(self) -> FakeYandexCloud:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None).wait()

    def new_service_account_key(self) -> dict[str, str]:
        key = service_account_key()
        self.keys[key["id"]] = key
        return key

    def accept_token(self, token: str, ttl: timedelta | None = None) -> None:
        self.tokens[token] = datetime.now(UTC) + (ttl or self.token_ttl)

    def token_valid(self, token: str) -> bool:
        expires = self.tokens.get(token)
        return expires is not None and expires > datetime.now(UTC)

    def invoker(
        self,
        functions: dict[str, YandexFunction],
        recorder: InvocationRecorder | None = None,
        *,
        key: dict[str, str] | None = None,
        **overrides: Any,
    ) -> YandexFunctionInvoker:
        """An invoker of ``functions`` that reaches this cloud with a service-account key (a new one unless
        ``key``) and retries fast; ``overrides`` are other ``YandexInvokerSettings`` fields."""
        from plastinka_api.invokers import (  # noqa: PLC0415 - the fakes load without the API
            CloudCredentials,
            RetryPolicy,
            YandexFunctionInvoker,
            YandexInvokerSettings,
        )

        settings = YandexInvokerSettings(
            functions=functions,
            credentials=CloudCredentials(service_account_key=key or self.new_service_account_key()),
            api_endpoint=self.address,
            root_certificates=self.root_certificates,
            retry=overrides.pop("retry", RetryPolicy(initial_s=0.01, max_backoff_s=0.05, total_s=10)),
            **overrides,
        )
        return YandexFunctionInvoker(settings, recorder=recorder)

    def add_function(self, function_id: str, http_invoke_url: str, tags: dict[str, str] | None = None) -> FakeFunction:
        function = FakeFunction(function_id, http_invoke_url)
        if tags is not None:
            function.tags = dict(tags)
        self.functions[function_id] = function
        return function

    def fail_next(self, method: str, *codes: grpc.StatusCode) -> None:
        with self._lock:
            self._failures.setdefault(method, deque()).extend(codes)

    def pop_failure(self, method: str) -> grpc.StatusCode | None:
        with self._lock:
            queue = self._failures.get(method)
            return queue.popleft() if queue else None


@dataclass(frozen=True)
class Scripted:
    """A canned answer instead of running the function."""

    status: int
    function_error: bool = False
    retry_after: str | None = None
    body: str = ""


@dataclass
class EmulatedRequest:
    function_id: str
    query: dict[str, list[str]]
    authorization: str | None
    body: bytes
    status: int
    request_id: str | None = None


@dataclass
class EmulatedRun:
    request_id: str
    function_id: str
    process: subprocess.Popen[bytes]
    result_path: Path
    stdout: bytes = b""
    stderr: bytes = b""

    def outcome(self) -> Any:
        return json.loads(self.result_path.read_text("utf-8")) if self.result_path.exists() else None


class FunctionsEmulator:
    """``POST /<function_id>?integration=async`` as the functions endpoint answers it, on loopback HTTP."""

    def __init__(
        self,
        token_valid: Callable[[str], bool],
        *,
        python: str = sys.executable,
        env: dict[str, str] | None = None,
        timeout_s: float = 120.0,
        memory_mb: int = 2048,
    ) -> None:
        self.token_valid = token_valid
        self.python = python
        self.env = env
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.handlers: dict[str, Path] = {}
        self.requests: list[EmulatedRequest] = []
        self.runs: list[EmulatedRun] = []
        self._script: dict[str, deque[Scripted]] = {}
        self._lock = threading.Lock()
        self._scratch = tempfile.TemporaryDirectory(prefix="plastinka-emulator-")
        self._server = ThreadingHTTPServer((LOOPBACK, 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="functions-emulator", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def url_for(self, function_id: str) -> str:
        return f"{self.base_url}/{function_id}"

    def register(self, function_id: str, function_dir: Path) -> str:
        self.handlers[function_id] = function_dir
        return self.url_for(function_id)

    def script(self, function_id: str, *answers: Scripted) -> None:
        with self._lock:
            self._script.setdefault(function_id, deque()).extend(answers)

    def start(self) -> FunctionsEmulator:
        self._thread.start()
        return self

    def wait(self, timeout: float = 120.0) -> list[EmulatedRun]:
        """Wait for every started handler process; their output is collected on the run."""
        deadline = time.monotonic() + timeout
        scratch = Path(self._scratch.name)
        for run in list(self.runs):
            run.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            run.stdout = (scratch / f"{run.request_id}.out").read_bytes()
            run.stderr = (scratch / f"{run.request_id}.err").read_bytes()
        return list(self.runs)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        for run in self.runs:
            if run.process.poll() is None:
                run.process.kill()
            run.process.wait()
        self._scratch.cleanup()

    def _next_script(self, function_id: str) -> Scripted | None:
        with self._lock:
            queue = self._script.get(function_id)
            return queue.popleft() if queue else None

    def _launch(self, function_id: str, body: bytes, request_id: str) -> None:
        # Lazy: plastinka-testing does not depend on the API; only the invoker tests launch handlers.
        from plastinka_api.invokers.local import RUNNER_PATH, LocalFunction, runner_spec  # noqa: PLC0415

        result_path = Path(self._scratch.name) / f"{request_id}.json"
        spec = runner_spec(
            LocalFunction(path=self.handlers[function_id], timeout_s=self.timeout_s, memory_mb=self.memory_mb),
            name=function_id,
            event=body.decode("utf-8", errors="surrogateescape"),
            request_id=request_id,
            deadline_ms=int((time.time() + self.timeout_s) * 1000),
            result_path=result_path,
        )
        scratch = Path(self._scratch.name)
        (scratch / f"{request_id}.in").write_bytes(spec)
        with (
            (scratch / f"{request_id}.in").open("rb") as stdin,
            (scratch / f"{request_id}.out").open("wb") as stdout,
            (scratch / f"{request_id}.err").open("wb") as stderr,
        ):
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and runner script
                [self.python, str(RUNNER_PATH)], stdin=stdin, stdout=stdout, stderr=stderr, env=self.env
            )
        self.runs.append(EmulatedRun(request_id, function_id, process, result_path))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
                data = body.encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                function_id = url.path.strip("/")
                query = parse_qs(url.query)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                authorization = self.headers.get("Authorization")
                record = EmulatedRequest(function_id, query, authorization, body, status=0)
                emulator.requests.append(record)
                token = (authorization or "").removeprefix("Bearer ")
                if not emulator.token_valid(token):
                    record.status = 401
                    return self._answer(401, '{"errorMessage":"Unauthorized"}')
                if function_id not in emulator.handlers:
                    record.status = 404
                    return self._answer(404, '{"errorMessage":"function not found"}')
                if query.get("integration") != ["async"]:
                    record.status = 400
                    return self._answer(400, '{"errorMessage":"only ?integration=async is emulated"}')
                scripted = emulator._next_script(function_id)
                request_id = str(uuid.uuid4())
                record.request_id = request_id
                if scripted is not None:
                    headers = {"X-Request-Id": request_id}
                    if scripted.function_error:
                        headers["X-Function-Error"] = "true"
                    if scripted.retry_after is not None:
                        headers["Retry-After"] = scripted.retry_after
                    record.status = scripted.status
                    return self._answer(scripted.status, scripted.body, headers)
                emulator._launch(function_id, body, request_id)
                record.status = 202
                return self._answer(202, "", {"X-Request-Id": request_id})

        return Handler


class CallbackSink:
    """The API's callback endpoint in miniature: records every job event POSTed to it, answers 200.

    ``answers`` scripts other statuses (e.g. 503 then 200) for the reporter's retry rules; a 3xx answer
    redirects to ``/redirected``. ``requests`` keeps the path, headers and body of every POST, whatever it was
    answered.
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.answers: deque[int] = deque()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = sink.answers.popleft() if sink.answers else 200
                if status == 200:
                    sink.events.append(json.loads(body))
                    sink.authorizations.append(self.headers.get("Authorization"))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/redirected")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="callback-sink", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}/internal/jobs/events"

    def types(self) -> list[str]:
        return [event["type"] for event in self.events]

    def start(self) -> CallbackSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def callback_sink() -> Iterator[CallbackSink]:
    """A loopback HTTP server that receives the job events a function handler sends."""
    sink = CallbackSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def yandex_cloud() -> Iterator[FakeYandexCloud]:
    """The gRPC fake (TLS on loopback) of endpoint discovery, IAM tokens and FunctionService."""
    cloud = FakeYandexCloud(tls=True).start()
    try:
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture
def functions_emulator(yandex_cloud: FakeYandexCloud) -> Iterator[FunctionsEmulator]:
    """The HTTP invoke endpoint, accepting the tokens ``yandex_cloud`` issued."""
    emulator = FunctionsEmulator(yandex_cloud.token_valid).start()
    try:
        yield emulator
    finally:
        with contextlib.suppress(Exception):
            emulator.stop()
