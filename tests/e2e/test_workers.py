"""``PLASTINKA_WORKERS=2``: two server processes, each with its own job engine, on the default SQLite file.

Status reads reach 1,000/s only with two workers (benchmarks/load.py), so this is a supported way to run the
service; what must hold is what holds for two instances: every job is executed exactly once. The handlers are
the fast stand-ins of ``fast_functions/`` (see test_two_instances.py).
"""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from e2ekit import ADMIN_KEY, FAST_FUNCTIONS, api_server, upload, wait_for

pytestmark = [pytest.mark.slow]

JOBS = 24


def test_two_worker_processes_on_sqlite_run_each_job_once(tmp_path: Path, shop: tuple[Path, Path]) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {
        "PLASTINKA_WORKERS": "2",
        "PLASTINKA_FUNCTIONS_DIR": str(FAST_FUNCTIONS),
        "PLASTINKA_TEST_LEDGER": str(ledger),
        "PLASTINKA_FUNCTION_CONCURRENCY": "3",
        "PLASTINKA_DISPATCH_BATCH": "4",
        "PLASTINKA_SWEEP_INTERVAL_S": "1",
    }
    with api_server(tmp_path / "api", env) as server, server.client(ADMIN_KEY) as client:
        dataset = upload(client, *shop)

        def submit(i: int) -> str:
            body = {"dataset_id": dataset["id"], "horizon": 1 + i % 12}
            response = client.post("/api/v1/training", json=body, headers={"Idempotency-Key": f"job-{i}"})
            assert response.status_code == 202, response.text
            return str(response.json()["job_id"])

        with ThreadPoolExecutor(8) as pool:
            jobs = list(pool.map(submit, range(JOBS)))
        assert len(set(jobs)) == JOBS
        finals = [wait_for(client, job, timeout_s=240) for job in jobs]
        assert [f["status"] for f in finals] == ["succeeded"] * JOBS, [
            (f["job_id"], f["status"], f["error"]) for f in finals if f["status"] != "succeeded"
        ]
        assert all(f["attempt"] == 1 for f in finals)
        runs = Counter(line.split()[0] for line in ledger.read_text().splitlines())
        assert set(runs) == set(jobs)
        assert max(runs.values()) == 1, [job for job, n in runs.items() if n > 1]
        models = client.get("/api/v1/models", params={"limit": 100}).json()
        assert models["total"] == JOBS
        assert sum(1 for m in models["items"] if m["active"]) == 1
    # Two processes really served: uvicorn logs each worker's start.
    workers = set(re.findall(r"Started server process \[(\d+)\]", server.log.read_text()))
    assert len(workers) == 2, server.log.read_text()[-2000:]
