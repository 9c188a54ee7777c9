"""Starting API servers as processes and driving them over HTTP, as a user or a second instance would."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from plastinka_testing.api_process import free_port, log_tail, serve_api

from plastinka_forecasting.synthetic import generate_shop, write_shop

ADMIN_KEY = "pk_e2e_admin_" + "k" * 32
SECRET = "e2e-shared-secret-" + "z" * 30
TERMINAL = {"succeeded", "failed", "cancelled", "dead_letter"}
FAST_FUNCTIONS = Path(__file__).parent / "fast_functions"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, key: str = ADMIN_KEY, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout)

    def log_tail(self, lines: int = 60) -> str:
        return log_tail(self.log, lines)


@contextmanager
def api_server(
    data_dir: Path, env: Mapping[str, str] | None = None, name: str = "api", port: int | None = None
) -> Iterator[Server]:
    """One API process on ``port`` (a free one by default); extra ``PLASTINKA_*`` settings in ``env``."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "PLASTINKA_DATA_DIR": str(data_dir),
        "PLASTINKA_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "PLASTINKA_SECRET_KEY": SECRET,
        "PLASTINKA_SAMPLE_DATASET": "false",
        **(env or {}),
    }
    log = data_dir / f"{name}-{port}.log"
    with serve_api(settings, log, port=port) as (url, process):
        yield Server(url, process, log)


def wait_for(client: httpx.Client, job_id: str, timeout_s: float = 300.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(f"/api/v1/status/{job_id}", params={"wait": 5})
        response.raise_for_status()
        status: dict[str, Any] = response.json()
        if status["status"] in TERMINAL:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"{job_id} still {status['status']} after {timeout_s} s: {status}")


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small shop export (sales + stock) in the shop's own csv format."""
    generated = generate_shop(items=30, months=30, seed=5, start=date(2021, 1, 1))
    files = write_shop(generated, tmp_path_factory.mktemp("e2e-shop"), fmt="csv")
    return files.sales, files.stock


def upload(client: httpx.Client, sales: Path, stock: Path | None = None) -> dict[str, Any]:
    files: dict[str, Any] = {"file": (sales.name, sales.read_bytes(), "text/csv")}
    if stock is not None:
        files["stock_file"] = (stock.name, stock.read_bytes(), "text/csv")
    response = client.post("/api/v1/datasets", files=files)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def submit_trainings(clients: list[httpx.Client], dataset_id: str, count: int) -> list[str]:
    """``count`` training jobs submitted concurrently (8 threads), round-robin over ``clients``."""

    def submit(i: int) -> str:
        body = {"dataset_id": dataset_id, "horizon": 1 + i % 12}
        response = clients[i % len(clients)].post(
            "/api/v1/training", json=body, headers={"Idempotency-Key": f"job-{i}"}
        )
        assert response.status_code == 202, response.text
        return str(response.json()["job_id"])

    with ThreadPoolExecutor(8) as pool:
        jobs = list(pool.map(submit, range(count)))
    assert len(set(jobs)) == count
    return jobs


def assert_each_ran_once(finals: list[dict[str, Any]], jobs: list[str], ledger: Path) -> None:
    """Every job succeeded on its first attempt, and the stand-in handlers' ledger shows one run per job."""
    assert [f["status"] for f in finals] == ["succeeded"] * len(jobs), [
        (f["job_id"], f["status"], f["error"]) for f in finals if f["status"] != "succeeded"
    ]
    assert all(f["attempt"] == 1 for f in finals)
    runs = Counter(line.split()[0] for line in ledger.read_text().splitlines())
    assert set(runs) == set(jobs)
    assert max(runs.values()) == 1, [job for job, n in runs.items() if n > 1]
