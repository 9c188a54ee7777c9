"""YandexFunctionInvoker against the loopback fakes: SDK auth, resolution, and the retry rules over real HTTP."""

import contextlib
import json
import socket
from datetime import timedelta
from pathlib import Path

import grpc
import pytest

from plastinka_api.invokers import (
    CloudCredentials,
    InvocationRejectedError,
    InvocationUnavailableError,
    MemoryRecorder,
    RetryPolicy,
    UnknownFunctionError,
    YandexFunction,
    YandexFunctionInvoker,
    YandexInvokerSettings,
)
from plastinka_testing.yandex import FakeYandexCloud, Scripted, service_account_key

ECHO = Path(__file__).parent / "functions" / "echo"
FAST = RetryPolicy(max_attempts=4, initial_s=0.01, max_backoff_s=0.05, total_s=10)


def make_invoker(cloud, recorder=None, *, key=None, tag="$latest", function_id="d4eecho", **overrides):
    functions = {"echo": YandexFunction(function_id, tag)}
    return cloud.invoker(functions, recorder, key=key, retry=overrides.pop("retry", FAST), **overrides)


@pytest.fixture
def echo(yandex_cloud, functions_emulator):
    url = functions_emulator.register("d4eecho", ECHO)
    return yandex_cloud.add_function("d4eecho", url, {"$latest": "v1", "prod": "v0"})


async def test_sa_key_becomes_the_bearer_token_of_the_invoke_call(yandex_cloud, functions_emulator, echo, tmp_path):
    async with contextlib.aclosing(make_invoker(yandex_cloud, tag="prod")) as invoker:
        result = await invoker.invoke("echo", {"job_id": "j1", "out": str(tmp_path / "o.json")})
    functions_emulator.wait()

    assert result.version_id == "v0"
    assert yandex_cloud.calls.count("IamTokenService.Create") == 1
    assert {"FunctionService.Get", "FunctionService.GetVersionByTag"} <= set(yandex_cloud.calls)
    [request] = functions_emulator.requests
    token = request.authorization.removeprefix("Bearer ")
    assert token in yandex_cloud.tokens  # issued by the IAM fake after it verified the signed JWT
    assert request.query == {"integration": ["async"], "tag": ["prod"]}
    assert json.loads(request.body) == {"job_id": "j1", "out": str(tmp_path / "o.json")}


async def test_token_and_resolution_are_cached_between_invocations(yandex_cloud, functions_emulator, echo, tmp_path):
    async with contextlib.aclosing(make_invoker(yandex_cloud)) as invoker:
        for n in range(3):
            await invoker.invoke("echo", {"out": str(tmp_path / f"{n}.json")})
    functions_emulator.wait()

    assert yandex_cloud.calls.count("IamTokenService.Create") == 1
    assert yandex_cloud.calls.count("FunctionService.Get") == 1
    assert len({r.authorization for r in functions_emulator.requests}) == 1


async def test_a_token_close_to_expiry_is_replaced(yandex_cloud, functions_emulator, echo, tmp_path):
    yandex_cloud.token_ttl = timedelta(minutes=5)  # inside the 10-minute refresh margin
    async with contextlib.aclosing(make_invoker(yandex_cloud)) as invoker:
        await invoker.invoke("echo", {"out": str(tmp_path / "a.json")})
        await invoker.invoke("echo", {"out": str(tmp_path / "b.json")})
    functions_emulator.wait()

    assert yandex_cloud.calls.count("IamTokenService.Create") == 2
    first, second = (r.authorization for r in functions_emulator.requests)
    assert first != second


async def test_429_and_503_are_retried_then_accepted(yandex_cloud, functions_emulator, echo, tmp_path):
    functions_emulator.script("d4eecho", Scripted(429, retry_after="0"), Scripted(503))
    recorder = MemoryRecorder()
    async with contextlib.aclosing(make_invoker(yandex_cloud, recorder)) as invoker:
        result = await invoker.invoke("echo", {"job_id": "j2", "out": str(tmp_path / "o.json")})
    runs = functions_emulator.wait()

    assert result.attempts == 3
    assert [e.status for e in recorder.entries] == [429, 503, 202]
    assert [e.attempt for e in recorder.entries] == [1, 2, 3]
    assert all(e.job_id == "j2" for e in recorder.entries)
    assert recorder.entries[0].error.startswith("HTTP 429")
    assert len(runs) == 1 and runs[0].process.returncode == 0
    assert result.invocation_id == runs[0].request_id


async def test_a_function_error_502_is_never_retried(yandex_cloud, functions_emulator, echo):
    functions_emulator.script("d4eecho", Scripted(502, function_error=True, body='{"errorMessage":"boom"}'))
    recorder = MemoryRecorder()
    async with contextlib.aclosing(make_invoker(yandex_cloud, recorder)) as invoker:
        with pytest.raises(InvocationRejectedError) as caught:
            await invoker.invoke("echo", {"job_id": "j3"})

    assert caught.value.status == 502
    assert "function error" in str(caught.value)
    assert [e.status for e in recorder.entries] == [502]
    assert functions_emulator.runs == []


async def test_a_gateway_502_without_function_error_is_retried(yandex_cloud, functions_emulator, echo, tmp_path):
    functions_emulator.script("d4eecho", Scripted(502))
    recorder = MemoryRecorder()
    async with contextlib.aclosing(make_invoker(yandex_cloud, recorder)) as invoker:
        result = await invoker.invoke("echo", {"out": str(tmp_path / "o.json")})
    functions_emulator.wait()
    assert result.attempts == 2
    assert [e.status for e in recorder.entries] == [502, 202]


@pytest.mark.parametrize("status", [400, 403, 404, 413])
async def test_client_errors_are_final(yandex_cloud, functions_emulator, echo, status):
    functions_emulator.script("d4eecho", Scripted(status))
    recorder = MemoryRecorder()
    async with contextlib.aclosing(make_invoker(yandex_cloud, recorder)) as invoker:
        with pytest.raises(InvocationRejectedError) as caught:
            await invoker.invoke("echo", {"job_id": "j4"})
    assert caught.value.status == status
    assert len(recorder.entries) == 1


async def test_persistent_504_exhausts_the_attempts(yandex_cloud, functions_emulator, echo):
    functions_emulator.script("d4eecho", *[Scripted(504)] * 10)
    recorder = MemoryRecorder()
    async with contextlib.aclosing(make_invoker(yandex_cloud, recorder)) as invoker:
        with pytest.raises(InvocationUnavailableError) as caught:
            await invoker.invoke("echo", {"job_id": "j5"})
    assert caught.value.retryable
    assert caught.value.attempts == FAST.max_attempts
    assert [e.status for e in recorder.entries] == [504] * FAST.max_attempts


async def test_connection_errors_are_retried_and_recorded_without_a_status(yandex_cloud):
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{sock.getsockname()[1]}/d4edead"
    yandex_cloud.add_function("d4edead", dead_url)
    recorder = MemoryRecorder()
    async with contextlib.aclosing(make_invoker(yandex_cloud, recorder, function_id="d4edead")) as invoker:
        with pytest.raises(InvocationUnavailableError):
            await invoker.invoke("echo", {"job_id": "j6"})
    assert [e.status for e in recorder.entries] == [None] * FAST.max_attempts
    assert all("ConnectError" in e.error for e in recorder.entries)


async def test_a_transient_grpc_failure_while_resolving_is_retried(yandex_cloud, functions_emulator, echo, tmp_path):
    yandex_cloud.fail_next("Get", grpc.StatusCode.UNAVAILABLE)
    async with contextlib.aclosing(make_invoker(yandex_cloud)) as invoker:
        result = await invoker.invoke("echo", {"out": str(tmp_path / "o.json")})
    functions_emulator.wait()
    assert result.attempts == 2
    assert yandex_cloud.calls.count("FunctionService.Get") == 2


async def test_missing_function_or_tag_is_an_unknown_function(yandex_cloud, functions_emulator, echo):
    for invoker in (make_invoker(yandex_cloud, function_id="d4emissing"), make_invoker(yandex_cloud, tag="canary")):
        try:
            with pytest.raises(UnknownFunctionError):
                await invoker.invoke("echo", {"job_id": "j7"})
        finally:
            await invoker.aclose()
    assert functions_emulator.requests == []


async def test_a_key_the_cloud_does_not_know_is_refused(yandex_cloud, functions_emulator, echo):
    unknown = service_account_key()  # never registered with the IAM fake
    async with contextlib.aclosing(make_invoker(yandex_cloud, key=unknown)) as invoker:
        with pytest.raises(InvocationRejectedError, match="UNAUTHENTICATED"):
            await invoker.invoke("echo", {"job_id": "j8"})
    assert "FunctionService.Get" not in yandex_cloud.calls


async def test_a_static_iam_token_with_an_insecure_functions_endpoint_override(functions_emulator, tmp_path):
    cloud = FakeYandexCloud(tls=False).start()
    try:
        cloud.require_auth = False  # a plain channel carries no call credentials
        cloud.add_function("d4eecho", functions_emulator.register("d4eecho", ECHO))
        functions_emulator.token_valid = lambda token: token == "t1.static"
        invoker = YandexFunctionInvoker(
            YandexInvokerSettings(
                functions={"echo": YandexFunction("d4eecho")},
                credentials=CloudCredentials(iam_token="t1.static"),
                functions_endpoint=cloud.address,
                insecure=True,
                retry=FAST,
            )
        )
        try:
            result = await invoker.invoke("echo", {"out": str(tmp_path / "o.json")})
        finally:
            await invoker.aclose()
        functions_emulator.wait()
    finally:
        cloud.stop()
    assert result.http_status == 202
    assert "ApiEndpointService.List" not in cloud.calls
    assert (tmp_path / "o.json").exists()


def test_credentials_need_exactly_one_source():
    with pytest.raises(ValueError, match="exactly one"):
        CloudCredentials()
    with pytest.raises(ValueError, match="exactly one"):
        CloudCredentials(service_account_key={"id": "x"}, iam_token="t")


async def test_a_stalled_endpoint_discovery_is_bounded_and_retried(yandex_cloud, functions_emulator, echo):
    """The SDK's endpoint lookup takes no timeout; the invoker bounds it and treats the overrun as transient."""
    yandex_cloud.discovery_stall_s = 2.0
    retry = RetryPolicy(max_attempts=2, initial_s=0.01, total_s=5)
    async with contextlib.aclosing(make_invoker(yandex_cloud, rpc_timeout_s=0.3, retry=retry)) as invoker:
        with pytest.raises(InvocationUnavailableError, match=r"endpoint-discovery took over 0\.3s"):
            await invoker.invoke("echo", {"job_id": "j9"})
    assert yandex_cloud.calls.count("ApiEndpointService.List") == 2
    assert "IamTokenService.Create" not in yandex_cloud.calls


def test_no_module_uses_a_private_sdk_name():
    repo = Path(__file__).resolve().parents[3]
    sources = [*repo.glob("packages/*/src/**/*.py"), *repo.glob("services/*/src/**/*.py")]
    assert len(sources) > 50
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert "yandexcloud._" not in text and "._channels" not in text, source


async def test_metadata_service_credentials_mint_the_bearer_token(yandex_cloud, functions_emulator, echo, tmp_path):
    """The serverless container's own account: the token comes from the metadata service, no key file."""
    import http.server
    import threading

    yandex_cloud.accept_token("t1.from-metadata")
    asked = []

    class Metadata(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append((self.path, self.headers.get("Metadata-Flavor")))
            body = json.dumps({"access_token": "t1.from-metadata", "expires_in": 3600, "token_type": "Bearer"})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/computeMetadata/v1/instance/service-accounts/default/token"
    settings = YandexInvokerSettings(
        functions={"echo": YandexFunction("d4eecho")},
        credentials=CloudCredentials(metadata_url=url),
        api_endpoint=yandex_cloud.address,
        root_certificates=yandex_cloud.root_certificates,
        retry=FAST,
    )
    invoker = YandexFunctionInvoker(settings)
    try:
        result = await invoker.invoke("echo", {"out": str(tmp_path / "o.json")})
    finally:
        await invoker.aclose()
        server.shutdown()
    functions_emulator.wait()
    assert result.http_status == 202
    assert asked == [("/computeMetadata/v1/instance/service-accounts/default/token", "Google")]
    assert "IamTokenService.Create" not in yandex_cloud.calls
    assert functions_emulator.requests[0].authorization == "Bearer t1.from-metadata"
