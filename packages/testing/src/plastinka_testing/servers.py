"""The API as a real process, driven over HTTP as a user, a second instance or an operator would."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from plastinka_testing.api_process import free_port, log_tail, serve_api

__all__ = [
    "ADMIN_KEY",
    "API",
    "SECRET",
    "TERMINAL",
    "ApiServer",
    "api_server",
    "assert_each_ran_once",
    "post_dataset",
    "shop_files",
    "submit_trainings",
    "upload",
    "wait_for",
    "wait_status",
]

#: The bootstrap admin key and the master secret of every test server.
ADMIN_KEY = "pk_test_admin_L7mfj_CQrJB_NKPiY49ly0b7qjV4yvtjkCX8BCdo8Jg"
SECRET = "plastinka-test-secret-" + "s" * 30
API = "/api/v1"
TERMINAL = frozenset({"succeeded", "failed", "cancelled", "dead_letter"})


@dataclass
class ApiServer:
    """A running API process: its URL, data directory, process and log."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    def client(self, key: str | None = ADMIN_KEY, timeout: float = 60.0, **headers: str) -> httpx.Client:
        """A client sending ``key`` as a bearer token (no key at all with ``None``)."""
        if key is not None:
            headers = {"Authorization": f"Bearer {key}", **headers}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def log_tail(self, lines: int = 60) -> str:
        return log_tail(self.log, lines)


@contextmanager
def api_server(
    data_dir: Path, env: Mapping[str, str] | None = None, name: str = "api", port: int | None = None
) -> Iterator[ApiServer]:
    """One API process on ``port`` (a free loopback one by default); extra ``PLASTINKA_*`` settings in ``env``."""
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
        yield ApiServer(url, data_dir, process, log)


def shop_files(
    directory: Path, *, items: int = 30, months: int = 30, seed: int = 5, start: date = date(2021, 1, 1)
) -> tuple[Path, Path]:
    """A small generated shop export (sales, stock) in the shop's own csv format."""
    from plastinka_forecasting.synthetic import generate_shop, write_shop  # noqa: PLC0415 - polars, only here

    shop = generate_shop(items=items, months=months, seed=seed, start=start)
    files = write_shop(shop, directory, fmt="csv")
    return files.sales, files.stock


def post_dataset(
    client: httpx.Client, sales: bytes | Path, name: str | None = None, stock: bytes | Path | None = None
) -> httpx.Response:
    """``POST /datasets`` with the sales file (and the stock file), as bytes or paths; the raw response."""

    def part(data: bytes | Path, default: str) -> tuple[str, bytes, str]:
        if isinstance(data, Path):
            return (data.name, data.read_bytes(), "text/csv")
        return (default, data, "text/csv")

    files: dict[str, Any] = {"file": part(sales, name or "sales.csv")}
    if stock is not None:
        files["stock_file"] = part(stock, "stock.csv")
    return client.post(f"{API}/datasets", files=files)


def upload(client: httpx.Client, sales: Path, stock: Path | None = None) -> dict[str, Any]:
    """An upload that must be accepted; the dataset as the API describes it."""
    response = post_dataset(client, sales, stock=stock)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def wait_for(client: httpx.Client, job_id: str, timeout_s: float = 300.0) -> dict[str, Any]:
    """Long-poll ``/status/{id}`` until the job ends; its final status."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(f"{API}/status/{job_id}", params={"wait": 5})
        response.raise_for_status()
        status: dict[str, Any] = response.json()
        if status["status"] in TERMINAL:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"{job_id} still {status['status']} after {timeout_s} s: {status}")


def wait_status(client: httpx.Client, job_id: str, wanted: str, timeout_s: float = 60) -> None:
    """Poll until the job is in ``wanted`` (a state it may pass through quickly)."""
    deadline = time.monotonic() + timeout_s
    while client.get(f"{API}/status/{job_id}").json()["status"] != wanted:
        assert time.monotonic() < deadline, f"{job_id} never reached {wanted}"
        time.sleep(0.05)


def submit_trainings(clients: list[httpx.Client], dataset_id: str, count: int) -> list[str]:
    """``count`` training jobs submitted concurrently (8 threads), round-robin over ``clients``."""

    def submit(i: int) -> str:
        body = {"dataset_id": dataset_id, "horizon": 1 + i % 12}
        response = clients[i % len(clients)].post(f"{API}/training", json=body, headers={"Idempotency-Key": f"job-{i}"})
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
