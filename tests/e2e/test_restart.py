"""The API process killed with SIGKILL while a function runs, then restarted: the function's events reach
the new process (the runtime's reporter retries), and the job ends ``succeeded`` on its first attempt."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from plastinka_testing.api_process import free_port
from plastinka_testing.servers import ADMIN_KEY, api_server, upload, wait_for
from plastinka_testing.stand_ins import STAND_IN_FUNCTIONS

pytestmark = pytest.mark.slow


def test_sigkill_mid_job_then_restart(tmp_path: Path, shop: tuple[Path, Path]) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {
        "PLASTINKA_FUNCTIONS_DIR": str(STAND_IN_FUNCTIONS),
        "PLASTINKA_TEST_LEDGER": str(ledger),
        "PLASTINKA_TEST_WORK_S": "6",
    }
    port = free_port()
    data = tmp_path / "var"
    with api_server(data, env, "first", port=port) as first, first.client(ADMIN_KEY) as client:
        dataset = upload(client, *shop)
        job = client.post("/api/v1/training", json={"dataset_id": dataset["id"]}).json()["job_id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/v1/status/{job}").json()["status"] != "running":
            assert time.monotonic() < deadline, first.log_tail()
            time.sleep(0.1)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
    with api_server(data, env, "second", port=port) as second, second.client(ADMIN_KEY) as client:
        status = wait_for(client, job, timeout_s=120)
        assert status["status"] == "succeeded", (status, second.log_tail())
        assert status["attempt"] == 1
        assert client.get(f"/api/v1/training/{job}").json()["model_id"] is not None
    assert ledger.read_text().split() == [job, "1"]
