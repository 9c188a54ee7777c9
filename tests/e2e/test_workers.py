"""``PLASTINKA_WORKERS=2``: two server processes, each with its own job engine, on the default SQLite file.

Status reads reach 1,000/s only with two workers (benchmarks/load.py), so this is a supported way to run the
service; what must hold is what holds for two instances: every job is executed exactly once. The handlers are
the fast stand-ins of ``plastinka_testing.stand_ins`` (see test_two_instances.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from plastinka_testing.servers import ADMIN_KEY, api_server, assert_each_ran_once, submit_trainings, upload, wait_for
from plastinka_testing.stand_ins import STAND_IN_FUNCTIONS

pytestmark = [pytest.mark.slow]

JOBS = 24


def test_two_worker_processes_on_sqlite_run_each_job_once(tmp_path: Path, shop: tuple[Path, Path]) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {
        "PLASTINKA_WORKERS": "2",
        "PLASTINKA_FUNCTIONS_DIR": str(STAND_IN_FUNCTIONS),
        "PLASTINKA_TEST_LEDGER": str(ledger),
        "PLASTINKA_FUNCTION_CONCURRENCY": "3",
        "PLASTINKA_DISPATCH_BATCH": "4",
        "PLASTINKA_SWEEP_INTERVAL_S": "1",
    }
    with api_server(tmp_path / "api", env) as server, server.client(ADMIN_KEY) as client:
        dataset = upload(client, *shop)

        jobs = submit_trainings([client], dataset["id"], JOBS)
        assert_each_ran_once([wait_for(client, job, timeout_s=240) for job in jobs], jobs, ledger)
        models = client.get("/api/v1/models", params={"limit": 100}).json()
        assert models["total"] == JOBS
        assert sum(1 for m in models["items"] if m["active"]) == 1
    # Two processes really served: uvicorn logs each worker's start.
    workers = set(re.findall(r"Started server process \[(\d+)\]", server.log.read_text()))
    assert len(workers) == 2, server.log.read_text()[-2000:]
