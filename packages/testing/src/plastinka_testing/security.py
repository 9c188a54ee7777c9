"""The security suite's kit: an API process with no function invoker (nothing the tests submit starts function
work), direct handles on its database and storage directory, and the means to play the function's part from
outside: claim jobs in the same database, write attempt artifacts into the same storage directory and post
events signed with the server's secret."""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from plastinka_testing.servers import ADMIN_KEY, API, SECRET, ApiServer, api_server

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_ROWS",
    "TABLES",
    "MemoryPeak",
    "SecureServer",
    "assert_clear_4xx",
    "event",
    "forecast_parquet",
    "job_token",
    "make_keys",
    "memory_peak",
    "predict",
    "secure_server",
    "train",
    "training_manifest",
    "unchanged",
]

#: Caps of the suite's server, low enough to pass quickly (the defaults are 50 MiB and 5 000 000 rows).
MAX_UPLOAD_BYTES = 1024 * 1024
MAX_UPLOAD_ROWS = 5_000
#: Every table the API writes; "changes nothing" compares their row counts.
TABLES = (
    "datasets",
    "training_jobs",
    "prediction_jobs",
    "models",
    "job_events",
    "api_keys",
    "cloud_function_logs",
    "webhook_outbox",
    "webhook_secrets",
)


@dataclass
class SecureServer(ApiServer):
    """An API process on SQLite, with its database and storage directory at hand."""

    @property
    def engine(self) -> sa.Engine:
        if not hasattr(self, "_engine"):
            self._engine = sa.create_engine(f"sqlite:///{self.data_dir / 'plastinka.db'}")
        return self._engine

    # --- "changes nothing" ---

    def rows(self) -> dict[str, int]:
        inspector = sa.inspect(self.engine)
        tables = sorted(set(inspector.get_table_names()) & set(TABLES))
        with self.engine.connect() as conn:
            return {t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables}  # noqa: S608 - table names from TABLES

    def objects(self) -> list[str]:
        """Every file under the storage directory (objects and their sidecars), relative."""
        if not self.storage_dir.exists():
            return []
        return sorted(str(p.relative_to(self.storage_dir)) for p in self.storage_dir.rglob("*") if p.is_file())

    def snapshot(self) -> tuple[dict[str, int], list[str]]:
        return self.rows(), self.objects()

    # --- playing the function's part ---

    def claim(self) -> list[str]:
        """Be the dispatcher: every due job becomes dispatched (attempt + 1)."""
        from plastinka_store.repository import JobRepository  # noqa: PLC0415

        return [job.id for job in JobRepository(self.engine).claim_due(50)]

    def put_artifact(self, job_id: str, attempt: int, name: str, data: bytes) -> dict[str, Any]:
        from plastinka_storage.keys import job_artifact_key  # noqa: PLC0415
        from plastinka_storage.local import LocalObjectStore  # noqa: PLC0415

        store = LocalObjectStore(self.storage_dir)
        ref = asyncio.run(store.put_bytes(job_artifact_key(job_id, attempt, name), data))
        return ref.model_dump(mode="json")

    def post_event(self, body: dict[str, Any], token: str | None = None) -> httpx.Response:
        secret = token if token is not None else job_token(body["job_id"], body["attempt"])
        with self.client(None) as client:
            return client.post(
                f"{API}/internal/jobs/{body['job_id']}/events", json=body, headers={"Authorization": f"Bearer {secret}"}
            )


@contextmanager
def secure_server(data_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[SecureServer]:
    """An API process with no invoker and no periodic sweeps; extra ``PLASTINKA_*`` settings in ``env``."""
    settings = {"PLASTINKA_INVOKER": "none", "PLASTINKA_SWEEP_INTERVAL_S": "3600", **(env or {})}
    with api_server(data_dir, settings) as running:
        server = SecureServer(running.url, running.data_dir, running.process, running.log)
        try:
            yield server
        finally:
            if hasattr(server, "_engine"):
                server._engine.dispose()


@contextmanager
def unchanged(server: SecureServer) -> Iterator[None]:
    """The block must leave every table's row count and every stored file as they were."""
    before = server.snapshot()
    yield
    assert server.snapshot() == before


def assert_clear_4xx(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """``status`` with an error code, a message, and each of ``words`` in the message or the details."""
    assert response.status_code == status, response.text[:500]
    body: dict[str, Any] = response.json()
    assert body["error"] and body["message"]
    for word in words:
        assert word in body["message"].lower() or word in str(body.get("details", "")).lower(), body
    return body


# --- memory ---

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _family(pid: int) -> list[int]:
    """``pid`` and every process below it (children are listed per thread that started them)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue  # it ended while we looked
    return found


def _resident(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError):
        return 0


def _high_water(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@dataclass
class MemoryPeak:
    """How far a process and its descendants (the upload parsers) grew over their size before, in bytes."""

    growth: int = 0

    @property
    def growth_mib(self) -> int:
        return self.growth // 2**20


@contextmanager
def memory_peak(pid: int, every_s: float = 0.005) -> Iterator[MemoryPeak]:
    """Sample the resident size of ``pid``'s process tree while the block runs; the server's own high-water mark
    (VmHWM) covers a spike between samples. Linux only (reads /proc)."""
    peak = MemoryPeak()
    before = sum(_resident(p) for p in _family(pid))
    own_before, mark_before = _resident(pid), _high_water(pid)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak.growth = max(peak.growth, sum(_resident(p) for p in _family(pid)) - before)
            stop.wait(every_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()
        mark_after = _high_water(pid)
        if mark_after > mark_before:
            peak.growth = max(peak.growth, mark_after - own_before)


def job_token(job_id: str, attempt: int, *, expires_in: float = 3600, secret: str = SECRET) -> str:
    from plastinka_api.secrets_file import CALLBACK_TOKENS, derive  # noqa: PLC0415
    from plastinka_store.tokens import sign_job_token  # noqa: PLC0415

    key = derive(secret.encode(), CALLBACK_TOKENS)  # what the server derives from its master secret
    return sign_job_token(key, job_id, attempt, datetime.now(UTC) + timedelta(seconds=expires_in))


def event(job_id: str, attempt: int, type_: str, **fields: Any) -> dict[str, Any]:
    return {"job_id": job_id, "attempt": attempt, "at": datetime.now(UTC).isoformat(), "type": type_, **fields}


def make_keys(server: ApiServer) -> dict[str, str]:
    """Keys of each role for owner ``shop``, an analyst of owner ``rival``, and a revoked admin of ``shop``."""
    keys = {"admin": ADMIN_KEY}
    with server.client() as admin:
        for name, role, owner in (
            ("analyst", "analyst", "shop"),
            ("viewer", "viewer", "shop"),
            ("other", "analyst", "rival"),
            ("other_admin", "admin", "rival"),
            ("revoked", "admin", "shop"),
        ):
            created = admin.post(f"{API}/keys", json={"name": name, "role": role, "owner": owner})
            assert created.status_code == 201, created.text
            keys[name] = created.json()["key"]
            if name == "revoked":
                assert admin.delete(f"{API}/keys/{created.json()['id']}").status_code == 204
    return keys


def training_manifest(
    server: SecureServer, job_id: str, attempt: int, backtest_model: str = "lightgbm"
) -> dict[str, Any]:
    metrics = {"mae": 0.4, "backtest": [{"model": backtest_model, "mae": 0.4}, {"model": "naive", "mae": 0.6}]}
    return {
        "artifacts": {
            "model": server.put_artifact(job_id, attempt, "model.txt", b"tree\n" * 10),
            "model_meta": server.put_artifact(job_id, attempt, "model_meta.json", b'{"features": []}'),
            "metrics": server.put_artifact(job_id, attempt, "metrics.json", json.dumps(metrics).encode()),
        }
    }


def forecast_parquet(items: list[str], extra: Mapping[str, list[str]] | None = None) -> bytes:
    import polars as pl  # noqa: PLC0415

    rows: dict[str, list[Any]] = {
        "item_id": items,
        "period": [date(2024, 1, 1)] * len(items),
        "mean": [1.5] * len(items),
        "q_0.05": [0.0] * len(items),
        "q_0.5": [1.0] * len(items),
        "q_0.95": [4.0] * len(items),
    }
    rows.update(extra or {})
    buffer = io.BytesIO()
    pl.DataFrame(rows).write_parquet(buffer)
    return buffer.getvalue()


def train(
    server: SecureServer, client: httpx.Client, dataset_id: str, backtest_model: str = "lightgbm"
) -> tuple[str, str]:
    """A training job driven to succeeded through signed callbacks; returns (job_id, model_id)."""
    submitted = client.post(f"{API}/training", json={"dataset_id": dataset_id})
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["job_id"]
    assert job_id in server.claim()
    assert server.post_event(event(job_id, 1, "running")).status_code == 200
    manifest = training_manifest(server, job_id, 1, backtest_model)
    done = server.post_event(event(job_id, 1, "succeeded", manifest=manifest))
    assert done.status_code == 200 and done.json()["applied"], done.text
    return job_id, client.get(f"{API}/training/{job_id}").json()["model_id"]


def predict(server: SecureServer, client: httpx.Client, model_id: str, forecast: bytes) -> str:
    """A prediction job driven to succeeded with ``forecast`` (parquet) as its result."""
    submitted = client.post(f"{API}/prediction", json={"model_id": model_id})
    assert submitted.status_code == 202, submitted.text
    job_id = str(submitted.json()["job_id"])
    assert job_id in server.claim()
    ref = server.put_artifact(job_id, 1, "forecast.parquet", forecast)
    done = server.post_event(event(job_id, 1, "succeeded", manifest={"artifacts": {"forecast": ref}}))
    assert done.status_code == 200 and done.json()["applied"], done.text
    return job_id
