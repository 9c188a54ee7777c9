"""A function process that crashes mid-run, and one that outlives its timeout, through the real local
runtime: the attempt is retried at once (no waiting for the lease) and the job still ends ``succeeded``."""

from __future__ import annotations

from pathlib import Path

import pytest

from plastinka_testing.servers import ADMIN_KEY, api_server, upload, wait_for
from plastinka_testing.stand_ins import STAND_IN_FUNCTIONS

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ({"PLASTINKA_TEST_CRASH_ATTEMPT": "1"}, "FunctionCrashed"),
        ({"PLASTINKA_TEST_WORK_S": "60", "PLASTINKA_FUNCTION_TIMEOUT_S": "10"}, "FunctionTimedOut"),
    ],
    ids=["crash", "timeout"],
)
def test_faulty_attempt_is_retried(
    tmp_path: Path, shop: tuple[Path, Path], fault: dict[str, str], error_type: str
) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {
        "PLASTINKA_FUNCTIONS_DIR": str(STAND_IN_FUNCTIONS),
        "PLASTINKA_TEST_LEDGER": str(ledger),
        "PLASTINKA_RETRY_BASE_S": "0.5",
        "PLASTINKA_MAX_ATTEMPTS": "2",
        **fault,
    }
    with api_server(tmp_path / "var", env) as server, server.client(ADMIN_KEY) as client:
        dataset = upload(client, *shop)
        job = client.post("/api/v1/training", json={"dataset_id": dataset["id"]}).json()["job_id"]
        status = wait_for(client, job, timeout_s=120)
        if error_type == "FunctionTimedOut":
            # Every attempt outlives the timeout: two tries, then the dead-letter queue with the reason.
            assert status["status"] == "dead_letter", (status, server.log_tail())
            assert status["attempt"] == 2 and status["error_type"] == error_type
        else:
            assert status["status"] == "succeeded", (status, server.log_tail())
            assert status["attempt"] == 2
            retry = [e for e in status["events"] if e["kind"] == "retry_wait"]
            assert retry and error_type in (retry[0]["message"] or "")
    assert [line.split()[1] for line in ledger.read_text().splitlines()] == ["1", "2"]
