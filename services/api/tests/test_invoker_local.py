"""LocalFunctionInvoker specifics: fire-and-forget, the timeout that kills, the concurrency limit, captured logs."""

import asyncio
import json
import os
from pathlib import Path

import pytest

import plastinka_api.invokers as invokers
from plastinka_api.invokers import LocalFunction, LocalFunctionInvoker, MemoryRecorder

ECHO = Path(__file__).parent / "functions" / "echo"


def make(recorder, **function_overrides):
    concurrency = function_overrides.pop("max_concurrency", 2)
    spec = LocalFunction(path=ECHO, **{"timeout_s": 60, **function_overrides})
    return LocalFunctionInvoker({"echo": spec}, recorder=recorder, max_concurrency=concurrency)


async def test_invoke_returns_while_the_handler_still_runs(tmp_path):
    gate = tmp_path / "gate"
    invoker = make(MemoryRecorder())
    try:
        result = await invoker.invoke("echo", {"out": str(tmp_path / "o.json"), "wait_for": str(gate)})
        assert invoker.runs[result.invocation_id].finished is None
        gate.touch()
        run = await invoker.wait(result.invocation_id)
    finally:
        await invoker.aclose()
    assert run.returncode == 0
    assert run.outcome == {"ok": True, "n": None}


async def test_a_handler_past_its_timeout_is_killed_with_its_children(tmp_path):
    recorder = MemoryRecorder()
    pid_file = tmp_path / "child.pid"
    invoker = make(recorder, timeout_s=4)  # ample for the child to be spawned, even on a loaded CI machine
    try:
        result = await invoker.invoke("echo", {"out": str(tmp_path / "o.json"), "spawn": str(pid_file), "sleep": 120})
        run = await invoker.wait(result.invocation_id)
    finally:
        await invoker.aclose()
    assert run.timed_out
    assert run.status == 504
    [entry] = recorder.entries
    assert entry.status == 504
    assert "timeout" in entry.error
    grandchild = int(pid_file.read_text())
    for _ in range(100):  # the kill is delivered; reaping by init may take a moment
        if not _alive(grandchild):
            break
        await asyncio.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


async def test_a_raising_handler_is_recorded_as_a_function_error_with_its_logs(tmp_path):
    recorder = MemoryRecorder()
    invoker = make(recorder)
    try:
        result = await invoker.invoke("echo", {"job_id": "j9", "out": str(tmp_path / "o.json"), "raise": "bad data"})
        run = await invoker.wait(result.invocation_id)
    finally:
        await invoker.aclose()
    assert run.status == 502
    assert run.outcome["errorType"] == "ValueError"
    assert run.outcome["errorMessage"] == "bad data"
    [entry] = recorder.entries
    assert entry.error == "ValueError: bad data"
    assert f"echo stdout {result.invocation_id}" in entry.logs
    assert f"echo stderr {result.invocation_id}" in entry.logs
    assert "Traceback" in entry.logs


async def test_the_concurrency_limit_runs_handlers_one_at_a_time(tmp_path):
    journal = tmp_path / "journal"
    invoker = make(MemoryRecorder(), max_concurrency=1)
    try:
        for n in range(3):
            await invoker.invoke("echo", {"out": str(tmp_path / f"{n}.json"), "journal": str(journal), "n": n})
        runs = await invoker.drain(limit_s=60)
    finally:
        await invoker.aclose()
    assert all(run.returncode == 0 for run in runs)
    events = journal.read_text().splitlines()
    assert len(events) == 6
    for start, end in zip(events[0::2], events[1::2], strict=True):
        assert start.startswith("start") and end == start.replace("start", "end")


async def test_close_kills_running_handlers(tmp_path):
    invoker = make(MemoryRecorder())
    started = tmp_path / "started"
    payload = {"out": str(tmp_path / "o.json"), "started": str(started), "wait_for": str(tmp_path / "never")}
    result = await invoker.invoke("echo", payload)
    while not started.exists():  # noqa: ASYNC110 - another process writes it
        await asyncio.sleep(0.02)
    await invoker.aclose()
    run = invoker.runs[result.invocation_id]
    assert run.returncode is not None and run.returncode < 0


async def test_the_context_carries_the_configured_memory_limit(tmp_path):
    out = tmp_path / "o.json"
    invoker = make(MemoryRecorder(), memory_mb=512)
    try:
        await invoker.invoke("echo", {"out": str(out)})
        await invoker.drain(limit_s=60)
    finally:
        await invoker.aclose()
    assert json.loads(out.read_text())["memory_limit_in_mb"] == 512


def test_public_names_resolve_once():
    assert len(invokers.__all__) == len(set(invokers.__all__))
    for name in invokers.__all__:
        assert hasattr(invokers, name), name
    assert isinstance(LocalFunctionInvoker({}), invokers.FunctionInvoker)


def test_unknown_function_lists_nothing_started():
    invoker = LocalFunctionInvoker({})
    with pytest.raises(invokers.UnknownFunctionError):
        asyncio.run(invoker.invoke("missing", {}))
    assert invoker.runs == {}


async def test_finished_runs_are_forgotten_beyond_keep_runs(tmp_path):
    invoker = LocalFunctionInvoker(
        {"echo": LocalFunction(path=ECHO, timeout_s=60)}, recorder=MemoryRecorder(), keep_runs=2
    )
    try:
        ids = []
        for n in range(4):
            ids.append((await invoker.invoke("echo", {"out": str(tmp_path / f"{n}.json"), "n": n})).invocation_id)
        await invoker.drain(limit_s=60)
        await asyncio.sleep(0)  # let the done callbacks run
    finally:
        await invoker.aclose()
    assert list(invoker.runs) == ids[-2:]
    assert (await invoker.wait(ids[-1])).returncode == 0
