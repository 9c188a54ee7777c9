"""The embedded runtime: each invocation runs ``index.handler`` in its own process, as the cloud would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plastinka_api.invokers.base import (
    InvocationResult,
    Payload,
    UnknownFunctionError,
    encode_payload,
    job_id_of,
)
from plastinka_api.invokers.recording import AttemptRecord, InvocationRecorder, LoggingRecorder, record_safely

RUNNER_PATH = Path(__file__).with_name("_runner.py")
LOG_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class LocalFunction:
    """A function directory (``index.py`` at its root) and the limits its cloud version would have."""

    path: Path
    timeout_s: float = 600.0
    memory_mb: int = 2048
    entrypoint: str = "index.handler"
    python: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class LocalRun:
    """What one local invocation did; ``outcome`` is the handler's return value or the platform-style error."""

    function: str
    request_id: str
    job_id: str | None
    started: datetime
    finished: datetime | None = None
    pid: int | None = None
    returncode: int | None = None
    timed_out: bool = False
    stopped: bool = False
    outcome: Any = None
    stdout: str = ""
    stderr: str = ""

    @property
    def status(self) -> int:
        """The HTTP status the cloud would log for this run."""
        if self.timed_out:
            return 504
        if self.stopped:
            return 499  # ended by us (the job was cancelled), as a proxy logs a request its client gave up
        return 200 if self.returncode == 0 else 502


def runner_spec(
    function: LocalFunction,
    *,
    name: str,
    event: str,
    request_id: str,
    deadline_ms: int,
    result_path: Path,
) -> bytes:
    """The JSON document ``_runner.py`` reads from stdin."""
    spec = {
        "function_dir": str(function.path.resolve()),
        "entrypoint": function.entrypoint,
        "event": event,
        "result_path": str(result_path),
        "context": {
            "request_id": request_id,
            "function_name": name,
            "memory_limit_in_mb": function.memory_mb,
            "deadline_ms": deadline_ms,
        },
    }
    return json.dumps(spec).encode()


def _tail(data: bytes) -> str:
    return data[-LOG_TAIL_BYTES:].decode("utf-8", errors="replace")


class LocalFunctionInvoker:
    """Fire-and-forget like ``?integration=async``: ``invoke`` returns once the process is started.

    At most ``max_concurrency`` handlers run at once (the rest wait their turn); a handler that outlives its
    timeout is killed with its whole process group, and so is one whose job is stopped (``stop(job_id)``, on
    cancel). ``drain()`` waits for every started run.
    """

    def __init__(
        self,
        functions: Mapping[str, LocalFunction],
        *,
        recorder: InvocationRecorder | None = None,
        max_concurrency: int = 2,
        env: Mapping[str, str] | None = None,
        keep_runs: int = 256,
    ) -> None:
        self._functions = dict(functions)
        self._recorder = recorder or LoggingRecorder()
        self._slots = asyncio.Semaphore(max_concurrency)
        self._max_concurrency = max_concurrency
        self._env = dict(env) if env is not None else None
        self._tasks: dict[str, asyncio.Task[LocalRun]] = {}
        self._keep_runs = keep_runs
        # Every unfinished run plus the latest ``keep_runs`` finished ones: a long-lived API must not grow forever.
        self.runs: OrderedDict[str, LocalRun] = OrderedDict()

    async def invoke(self, function: str, payload: Payload, *, job_id: str | None = None) -> InvocationResult:
        spec = self._functions.get(function)
        if spec is None:
            raise UnknownFunctionError(f"no local function named {function!r}")
        started = datetime.now(UTC)
        request_id = str(uuid.uuid4())
        run = LocalRun(function=function, request_id=request_id, job_id=job_id_of(payload, job_id), started=started)
        self.runs[request_id] = run
        event = encode_payload(payload).decode("utf-8", errors="surrogateescape")
        task = asyncio.create_task(self._run(spec, run, event), name=f"local-fn-{request_id}")
        self._tasks[request_id] = task
        task.add_done_callback(lambda _: self._forget(request_id))
        return InvocationResult(
            function=function,
            invocation_id=request_id,
            http_status=202,
            attempts=1,
            started=started,
            finished=datetime.now(UTC),
            version_id="local",
        )

    @property
    def free_slots(self) -> int:
        """Handlers that could start now without waiting (the dispatcher claims no more than this)."""
        return max(0, self._max_concurrency - len(self._tasks))

    def unfinished_jobs(self) -> set[str]:
        """The jobs with a run waiting for a slot or running."""
        return {run.job_id for rid, run in self.runs.items() if rid in self._tasks and run.job_id is not None}

    async def stop(self, job_id: str) -> int:
        """Stop every unfinished run of ``job_id``: a run still waiting for a slot never starts its process, a
        running one is killed with its process group. Returns how many runs were stopped; their slots are free
        when this returns."""
        tasks = []
        for rid, run in self.runs.items():
            task = self._tasks.get(rid)
            if task is not None and run.job_id == job_id:
                run.stopped = True
                task.cancel()
                tasks.append(task)
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    async def wait(self, invocation_id: str) -> LocalRun:
        """The run, once finished (at once if it already is and is still remembered)."""
        task = self._tasks.get(invocation_id)
        if task is not None:
            return await task
        return self.runs[invocation_id]

    def _forget(self, request_id: str) -> None:
        self._tasks.pop(request_id, None)
        finished = [rid for rid in self.runs if rid not in self._tasks]
        for rid in finished[: max(0, len(finished) - self._keep_runs)]:
            del self.runs[rid]

    async def drain(self, limit_s: float | None = None) -> list[LocalRun]:
        """Wait for every run started so far (tests, graceful shutdown)."""
        tasks = list(self._tasks.values())
        if not tasks:
            return []
        async with asyncio.timeout(limit_s):
            return list(await asyncio.gather(*tasks))

    async def aclose(self) -> None:
        """Kill the handlers still running (their process groups) and wait until they are gone."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, spec: LocalFunction, run: LocalRun, event: str) -> LocalRun:
        try:
            error = await self._run_in_slot(spec, run, event)
        except asyncio.CancelledError:
            if not run.stopped or run.returncode is None:
                raise  # shutting down, or stopped before its process started: nothing ran, nothing to record
            error = "stopped: the job was cancelled"
        run.finished = datetime.now(UTC)
        if error is None and run.returncode != 0 and isinstance(run.outcome, dict):
            error = f"{run.outcome.get('errorType')}: {run.outcome.get('errorMessage')}"
        elif error is None and run.returncode != 0:
            error = f"handler process exited with {run.returncode}"
        await record_safely(
            self._recorder,
            AttemptRecord(
                function=run.function,
                job_id=run.job_id,
                attempt=1,
                request_id=run.request_id,
                started=run.started,
                finished=run.finished,
                status=run.status,
                error=error,
                logs=(run.stdout + run.stderr) or None,
            ),
        )
        return run

    async def _run_in_slot(self, spec: LocalFunction, run: LocalRun, event: str) -> str | None:
        async with self._slots:
            with tempfile.TemporaryDirectory(prefix="plastinka-fn-") as scratch:
                result_path = Path(scratch) / "result.json"
                deadline_ms = int((time.time() + spec.timeout_s) * 1000)
                stdin = runner_spec(
                    spec,
                    name=run.function,
                    event=event,
                    request_id=run.request_id,
                    deadline_ms=deadline_ms,
                    result_path=result_path,
                )
                error = await self._execute(spec, run, stdin)
                if result_path.exists():
                    with contextlib.suppress(ValueError):
                        run.outcome = json.loads(result_path.read_text("utf-8"))
        return error

    async def _execute(self, spec: LocalFunction, run: LocalRun, stdin: bytes) -> str | None:
        env = {**(self._env if self._env is not None else os.environ), **spec.env}
        proc = await asyncio.create_subprocess_exec(
            spec.python or sys.executable,
            str(RUNNER_PATH),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group, so a kill takes its children too
        )
        run.pid = proc.pid
        communicate = asyncio.ensure_future(proc.communicate(stdin))
        try:
            out, err = await asyncio.wait_for(asyncio.shield(communicate), spec.timeout_s)
        except TimeoutError:
            run.timed_out = True
            _kill_group(proc.pid)
            out, err = await communicate
            error: str | None = f"killed after the {spec.timeout_s:g}s timeout"
        except asyncio.CancelledError:
            _kill_group(proc.pid)
            out, err = await communicate
            run.returncode = proc.returncode
            run.stdout, run.stderr = _tail(out), _tail(err)
            raise
        else:
            error = None
        run.returncode = proc.returncode
        run.stdout, run.stderr = _tail(out), _tail(err)
        return error


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
