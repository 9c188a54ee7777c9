"""Several OS processes on one database: claims are exclusive, a killed process loses nothing committed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from plastinka_schemas import JobKind, JobStatus
from plastinka_store import JobRepository

WORKERS = Path(__file__).with_name("workers.py")


def _spawn(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKERS), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )


@pytest.mark.slow
def test_two_processes_of_eight_threads_claim_each_job_exactly_once(
    repo: JobRepository, seed: Any, db_url: str, tmp_path: Path
) -> None:
    dataset = seed.dataset("alice")
    ids = {repo.create_training_job(owner="alice", dataset_id=dataset)[0].id for _ in range(200)}
    go = tmp_path / "go"
    procs = [_spawn("claim", db_url, "8", str(go)) for _ in range(2)]
    for proc in procs:  # both processes are up and connected before the race starts
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
    go.touch()
    claims: list[list[str]] = []
    logs: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        claims.append(json.loads(out))
        logs.append(err.strip())

    everything = [job_id for claim in claims for job_id in claim]
    assert len(everything) == 200, "a job was claimed twice or not at all"
    assert set(everything) == ids
    assert all(claims), f"one process claimed nothing, so there was no race: {logs}"
    total, jobs = repo.list_jobs(JobKind.TRAINING, owner="alice", statuses=[JobStatus.DISPATCHED], limit=500)
    assert total == 200 and {job.attempt for job in jobs} == {1}
    dispatched_events = [e for job_id in ids for e in seed.events(job_id) if e["type"] == "dispatched"]
    assert len(dispatched_events) == 200


@pytest.mark.slow
def test_a_process_killed_mid_transaction_loses_nothing_committed(repo: JobRepository, seed: Any, db_url: str) -> None:
    proc = _spawn("crash", db_url, "20", stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(seed.dataset("alice") + "\n")
    proc.stdin.flush()
    committed = json.loads(proc.stdout.readline())
    assert proc.stdout.readline().strip() == "READY"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    target = committed["target"]
    total, jobs = repo.list_jobs(JobKind.TRAINING, owner="alice", limit=100)
    assert total == 20 and {job.id for job in jobs} == set(committed["ids"])
    by_status = {job.id: job.status for job in jobs}
    assert {job_id for job_id, status in by_status.items() if status is JobStatus.DISPATCHED} == set(
        committed["claimed"]
    ) - {target}
    assert by_status[target] is JobStatus.RUNNING  # the uncommitted succeeded UPDATE is gone
    assert [e["type"] for e in seed.events(target)] == ["created", "dispatched", "running"]

    # The database is usable at once: the lock the dead process held is gone and the transition now applies.
    assert repo.succeed(target, 1, manifest={"artifacts": {}})
    # The child stamped its jobs with the real time; claim with a real clock.
    real_clock = JobRepository(repo.engine, repo.policy)
    assert len(real_clock.claim_due(limit=100, kinds=[JobKind.TRAINING])) == 10
    if db_url.startswith("sqlite"):
        with repo.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
