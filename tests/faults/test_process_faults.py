"""Fault matrix, process faults: the API SIGKILLed mid-job (and mid-webhook) then restarted; a function
process crashing mid-run, and one outliving its timeout. SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from plastinka_testing.api_process import free_port
from plastinka_testing.faults import env_for, ledger, local_objects, settle, summary, train
from plastinka_testing.servers import ADMIN_KEY, api_server, upload, wait_status

pytestmark = pytest.mark.slow


def test_api_sigkilled_mid_job_then_restarted(
    tmp_path: Path, shop: tuple[Path, Path], backend: dict[str, str], callback_sink: Any, matrix: dict[str, Any]
) -> None:
    matrix.update(case="API SIGKILL mid-job + restart", backend=backend["name"])
    callback_sink.answers.extend([503, 503, 503])  # the receiver is down at first: the webhook must outlive us
    # The sink listens on loopback, which webhooks may reach only when the operator allows it.
    env = env_for(backend, tmp_path, PLASTINKA_TEST_WORK_S="3", PLASTINKA_WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    port, data = free_port(), tmp_path / "var"
    with api_server(data, env, "first", port=port) as first, first.client(ADMIN_KEY) as client:
        dataset = upload(client, *shop)["id"]
        jobs = [train(client, dataset, callback_url=callback_sink.url), train(client, dataset)]
        wait_status(client, jobs[0], "running")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
    with api_server(data, env, "second", port=port) as second, second.client(ADMIN_KEY) as client:
        final = settle(client, jobs, local_objects(data))
        assert all(s["status"] == "succeeded" for s in final.values()), second.log_tail()
        deadline = time.monotonic() + 30
        while not callback_sink.events:
            assert time.monotonic() < deadline, "webhook lost across the restart"
            time.sleep(0.1)
    hooks = [e for e in callback_sink.events if e.get("job_id") == jobs[0]]
    assert hooks and hooks[0]["status"] == "succeeded"
    # Each job ran once: the function outlived the API and its events reached the new process.
    assert sorted(ledger(tmp_path)) == sorted((job, 1) for job in jobs)
    matrix["outcome"] = f"{summary(final)}; webhook delivered after restart ({len(hooks)}x)"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"PLASTINKA_TEST_CRASH_ATTEMPT": "1"}, "succeeded"),
        (
            {"PLASTINKA_TEST_WORK_S": "30", "PLASTINKA_FUNCTION_TIMEOUT_S": "2", "PLASTINKA_MAX_ATTEMPTS": "2"},
            "dead_letter",
        ),
    ],
    ids=["crash", "timeout"],
)
def test_function_process_crash_or_timeout(
    tmp_path: Path,
    shop: tuple[Path, Path],
    backend: dict[str, str],
    fault: dict[str, str],
    expected: str,
    matrix: dict[str, Any],
) -> None:
    name = "crash" if "PLASTINKA_TEST_CRASH_ATTEMPT" in fault else "timeout"
    matrix.update(case=f"function {name}", backend=backend["name"])
    data = tmp_path / "var"
    with api_server(data, env_for(backend, tmp_path, **fault)) as server, server.client(ADMIN_KEY) as client:
        dataset = upload(client, *shop)["id"]
        jobs = [train(client, dataset) for _ in range(2)]
        final = settle(client, jobs, local_objects(data))
        assert {s["status"] for s in final.values()} == {expected}, (final, server.log_tail())
        if expected == "dead_letter":
            assert all(s["error_type"] == "FunctionTimedOut" and s["attempt"] == 2 for s in final.values())
        else:
            assert all(s["attempt"] == 2 for s in final.values())
    matrix["outcome"] = summary(final)
