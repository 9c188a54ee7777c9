"""Two API instances on one PostgreSQL database: 50 jobs submitted to both, each executed exactly once.

The handlers here are the fast stand-ins of ``plastinka_testing.stand_ins`` (the real attempt lifecycle of
plastinka-function-runtime around trivial work): 50 real LightGBM trainings would take minutes on two cores,
and what is under test is the claim/dispatch/callback path, not the model.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from plastinka_testing.servers import ADMIN_KEY, api_server, assert_each_ran_once, submit_trainings, upload, wait_for
from plastinka_testing.stand_ins import STAND_IN_FUNCTIONS

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

JOBS = 50


def _dispatched(metrics: str) -> float:
    return sum(
        float(m)
        for m in re.findall(r'^plastinka_store_dispatched_total\{kind="\w+"\} ([0-9.]+)$', metrics, re.MULTILINE)
    )


def test_each_job_runs_exactly_once(tmp_path: Path, postgres_url: str, shop: tuple[Path, Path]) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {
        "PLASTINKA_DATABASE_URL": postgres_url,
        "PLASTINKA_STORAGE_DIR": str(tmp_path / "shared-storage"),
        "PLASTINKA_FUNCTIONS_DIR": str(STAND_IN_FUNCTIONS),
        "PLASTINKA_TEST_LEDGER": str(ledger),
        "PLASTINKA_FUNCTION_CONCURRENCY": "3",
        "PLASTINKA_DISPATCH_BATCH": "4",
        "PLASTINKA_SWEEP_INTERVAL_S": "1",
    }
    with (
        api_server(tmp_path / "a", env, "a") as a,
        api_server(tmp_path / "b", env, "b") as b,
        a.client(ADMIN_KEY) as ca,
        b.client(ADMIN_KEY) as cb,
    ):
        dataset = upload(ca, *shop)
        assert cb.get(f"/api/v1/datasets/{dataset['id']}").status_code == 200

        jobs = submit_trainings([ca, cb], dataset["id"], JOBS)  # polled on the other instance
        finals = [wait_for(ca if i % 2 else cb, job, timeout_s=240) for i, job in enumerate(jobs)]
        assert_each_ran_once(finals, jobs, ledger)
        assert _dispatched(ca.get("/metrics").text) + _dispatched(cb.get("/metrics").text) == JOBS
        models = ca.get("/api/v1/models", params={"limit": 100}).json()
        assert models["total"] == JOBS
        assert sum(1 for m in models["items"] if m["active"]) == 1
