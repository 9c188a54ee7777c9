"""The contract every FunctionInvoker keeps, run against the local runtime and the Yandex path (loopback fakes)."""

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from plastinka_api.invokers import (
    FunctionInvoker,
    LocalFunction,
    LocalFunctionInvoker,
    MemoryRecorder,
    UnknownFunctionError,
    YandexFunction,
)

ECHO = Path(__file__).parent / "functions" / "echo"


@dataclass
class Harness:
    invoker: FunctionInvoker
    recorder: MemoryRecorder
    finish: Callable[[], Awaitable[None]]
    function_name_seen: str


@pytest.fixture(params=["local", "yandex"])
async def harness(request, tmp_path) -> AsyncIterator[Harness]:
    recorder = MemoryRecorder()
    if request.param == "local":
        local = LocalFunctionInvoker({"echo": LocalFunction(path=ECHO, timeout_s=60, memory_mb=256)}, recorder=recorder)

        async def finish_local() -> None:
            await local.drain(limit_s=60)

        yield Harness(local, recorder, finish_local, "echo")
        await local.aclose()
        return
    cloud = request.getfixturevalue("yandex_cloud")
    emulator = request.getfixturevalue("functions_emulator")
    cloud.add_function("d4eecho", emulator.register("d4eecho", ECHO))
    invoker = cloud.invoker({"echo": YandexFunction("d4eecho")}, recorder)

    async def finish_yandex() -> None:
        emulator.wait(timeout=60)

    yield Harness(invoker, recorder, finish_yandex, "d4eecho")
    await invoker.aclose()


async def test_invoke_returns_an_accepted_invocation_and_the_handler_sees_the_payload(harness, tmp_path):
    out = tmp_path / "seen.json"
    payload = {"job_id": "job-42", "attempt": 1, "out": str(out), "text": "Пластинка"}

    result = await harness.invoker.invoke("echo", payload)
    await harness.finish()

    assert result.http_status == 202
    assert result.attempts == 1
    assert result.invocation_id
    seen = json.loads(out.read_text())
    assert seen["payload"] == payload
    assert seen["event_type"] == "str"  # the raw async body, as the cloud delivers it
    assert seen["request_id"] == result.invocation_id
    assert seen["function_name"] == harness.function_name_seen
    assert seen["remaining_ms"] > 0
    assert Path(seen["cwd"]).resolve() == ECHO.resolve()


async def test_every_attempt_is_recorded_with_its_job(harness, tmp_path):
    result = await harness.invoker.invoke("echo", {"job_id": "job-7", "out": str(tmp_path / "o.json")})
    await harness.finish()

    assert [entry.job_id for entry in harness.recorder.entries] == ["job-7"]
    entry = harness.recorder.entries[0]
    assert entry.function == "echo"
    assert entry.request_id == result.invocation_id
    assert entry.error is None
    assert entry.finished >= entry.started


async def test_bytes_payload_and_explicit_job_id(harness, tmp_path):
    out = tmp_path / "b.json"
    body = json.dumps({"out": str(out), "n": 3}).encode()

    await harness.invoker.invoke("echo", body, job_id="job-b")
    await harness.finish()

    assert json.loads(out.read_text())["payload"] == {"out": str(out), "n": 3}
    assert harness.recorder.entries[0].job_id == "job-b"


async def test_unknown_function_is_refused(harness):
    with pytest.raises(UnknownFunctionError):
        await harness.invoker.invoke("nope", {"job_id": "x"})


class BrokenRecorder:
    async def record(self, entry):
        raise RuntimeError("database is locked")


async def test_a_failing_recorder_does_not_fail_an_accepted_invocation(harness, tmp_path):
    harness.invoker._recorder = BrokenRecorder()  # the API's recorder writes to a database that may hiccup
    out = tmp_path / "o.json"

    result = await harness.invoker.invoke("echo", {"out": str(out)})
    await harness.finish()

    assert result.http_status == 202
    assert out.exists()
