"""Driving fault cases: fast engine settings for the stand-in functions, and the end-state checks every case
shares."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from plastinka_testing.servers import API, wait_for
from plastinka_testing.stand_ins import STAND_IN_FUNCTIONS

__all__ = ["FAST_ENGINE", "env_for", "ledger", "local_objects", "render_matrix", "settle", "summary", "train"]

#: Engine timings for tests: retries, sweeps and reconciliation in about a second instead of minutes.
FAST_ENGINE = {
    "PLASTINKA_FUNCTIONS_DIR": str(STAND_IN_FUNCTIONS),
    "PLASTINKA_DISPATCH_INTERVAL_S": "0.2",
    "PLASTINKA_SWEEP_INTERVAL_S": "0.3",
    "PLASTINKA_RECONCILE_AFTER_S": "1",
    "PLASTINKA_RETRY_BASE_S": "0.3",
    "PLASTINKA_RETRY_MAX_S": "1",
    "PLASTINKA_LEASE_S": "30",
    "PLASTINKA_MAX_ATTEMPTS": "3",
    "PLASTINKA_WEBHOOK_RETRY_BASE_S": "0.2",
    "PLASTINKA_WEBHOOK_INTERVAL_S": "0.2",
}


def env_for(backend: dict[str, str], tmp_path: Path, **faults: str) -> dict[str, str]:
    """The API's settings for one case: fast engine, the backend's database, a ledger and the stand-ins'
    ``PLASTINKA_TEST_*`` switches (see :mod:`plastinka_testing.stand_ins`)."""
    return {
        **FAST_ENGINE,
        **{k: v for k, v in backend.items() if k != "name"},
        "PLASTINKA_TEST_LEDGER": str(tmp_path / "ledger.txt"),
        **faults,
    }


def train(client: httpx.Client, dataset_id: str, **extra: Any) -> str:
    response = client.post(f"{API}/training", json={"dataset_id": dataset_id, **extra})
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


def settle(
    client: httpx.Client,
    jobs: list[str],
    has_object: Callable[[str, str], bool] | None = None,
    timeout_s: float = 90,
) -> dict[str, dict[str, Any]]:
    """Every job ends succeeded, failed (with a reason) or dead_letter, and no half-written model is visible."""
    final = {job: wait_for(client, job, timeout_s=timeout_s) for job in jobs}
    models = client.get(f"{API}/models", params={"limit": 1000}).json()["items"]
    by_job = {m["training_job_id"]: m for m in models}
    for job, status in final.items():
        assert status["status"] in ("succeeded", "failed", "dead_letter"), status
        if status["status"] != "succeeded":
            assert status["error_type"] and status["error"], status
            assert job not in by_job, f"{job} {status['status']} but a model is recorded"
            continue
        if status["kind"] == "training":
            detail = client.get(f"{API}/training/{job}").json()
            model = by_job[job]
            assert detail["model_id"] == model["id"]
            if has_object is not None:
                prefix = f"jobs/{job}/attempt-{status['attempt']}/"
                assert has_object(prefix, model["artifact_sha256"]), f"{job}: model bytes not as recorded"
        else:
            assert client.get(f"{API}/results/{job}").status_code == 200
    return final


def local_objects(data_dir: Path) -> Callable[[str, str], bool]:
    """Whether an object under ``prefix`` in the local store has the given sha256."""
    root = data_dir / "storage"

    def has(prefix: str, sha256: str) -> bool:
        return any(
            hashlib.sha256(path.read_bytes()).hexdigest() == sha256
            for path in (root / prefix).rglob("*")
            if path.is_file()
        )

    return has


def ledger(tmp_path: Path) -> list[tuple[str, int]]:
    """The stand-ins' runs, ``(job_id, attempt)`` in order."""
    path = tmp_path / "ledger.txt"
    if not path.exists():
        return []
    return [(line.split()[0], int(line.split()[1])) for line in path.read_text().splitlines()]


def summary(final: dict[str, dict[str, Any]]) -> str:
    """``succeeded@1, dead_letter@2 (FunctionTimedOut)`` for the matrix."""
    parts = []
    for status in final.values():
        text = f"{status['status']}@{status['attempt']}"
        if status["status"] != "succeeded" or status["attempt"] > 1:
            retried = [e["message"] for e in status["events"] if e["kind"] == "retry_wait" and e["message"]]
            reason = status["error_type"] or (retried[0].split(":")[0][:40] if retried else "")
            if reason:
                text += f" ({reason})"
        parts.append(text)
    return ", ".join(parts)


def render_matrix(rows: list[dict[str, Any]]) -> str:
    """The fault matrix as a fixed-width table: case, backend, pass/FAIL, and what happened to the jobs."""
    lines = [f"{'case':<38} {'backend':<10} {'result':<6} outcome", "-" * 110]
    for row in sorted(rows, key=lambda r: (str(r.get("case")), str(r.get("backend")))):
        result = "pass" if row.get("passed") else "FAIL"
        lines.append(
            f"{row.get('case', row['test']):<38} {row.get('backend', '-'):<10} {result:<6} {row.get('outcome', '')}"
        )
    return "\n".join(lines)
