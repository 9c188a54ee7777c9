"""Fault matrix, dependencies: the database locked (SQLite) or its connections killed (PostgreSQL) for a
moment; object storage answering 503, dropping connections or slow (a fault proxy in front of the S3
server); the functions' invoke endpoint answering 429, 503, and 502 with ``X-Function-Error``."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from plastinka_testing.faults import env_for, ledger, local_objects, settle, summary, train
from plastinka_testing.s3 import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY
from plastinka_testing.servers import ADMIN_KEY, api_server, upload, wait_status
from plastinka_testing.stand_ins import STAND_IN_FUNCTIONS
from plastinka_testing.yandex import Scripted

pytestmark = pytest.mark.slow


def _hold_sqlite_lock(path: Path, seconds: float) -> threading.Thread:
    """Another process-like writer takes the database's write lock and keeps it for ``seconds``."""

    def hold() -> None:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def _kill_backends(url: str) -> int:
    """pg_terminate_backend on every other connection to the test database: a restart, as clients see it."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def test_database_locked_or_restarted(
    tmp_path: Path, shop: tuple[Path, Path], backend: dict[str, str], matrix: dict[str, Any]
) -> None:
    sqlite = backend["name"] == "sqlite"
    matrix.update(case="database locked / restarted", backend=backend["name"])
    data = tmp_path / "var"
    env = env_for(backend, tmp_path, PLASTINKA_TEST_WORK_S="2")
    with api_server(data, env) as server, server.client(ADMIN_KEY) as client:
        dataset = upload(client, *shop)["id"]
        jobs = [train(client, dataset) for _ in range(2)]
        wait_status(client, jobs[0], "running")
        if sqlite:
            holder = _hold_sqlite_lock(data / "plastinka.db", 3.0)
            time.sleep(0.3)
            jobs.append(train(client, dataset))  # waits out the lock (busy timeout), then commits
            holder.join()
            what = "write lock held 3 s"
        else:
            killed = sum(_kill_backends(backend["PLASTINKA_DATABASE_URL"]) for _ in range(2))
            jobs.append(train(client, dataset))
            time.sleep(1.0)
            killed += _kill_backends(backend["PLASTINKA_DATABASE_URL"])
            what = f"{killed} backends terminated"
        final = settle(client, jobs, local_objects(data))
        assert all(s["status"] == "succeeded" for s in final.values()), (final, server.log_tail())
        assert client.get("/ready").status_code == 200
    assert sorted(ledger(tmp_path)) == sorted((job, 1) for job in jobs)
    matrix["outcome"] = f"{summary(final)}; {what}"


@pytest.mark.s3
@pytest.mark.parametrize("fault", ["503", "timeout", "slow"])
def test_storage_unwell_for_a_while(
    tmp_path: Path,
    shop: tuple[Path, Path],
    s3_bucket: str,
    s3_fault_proxy: Any,
    fault: str,
    matrix: dict[str, Any],
) -> None:
    matrix.update(case=f"storage {fault}", backend="sqlite+s3")
    env = env_for(
        {"name": "sqlite"},
        tmp_path,
        PLASTINKA_STORAGE_BACKEND="s3",
        PLASTINKA_S3_BUCKET=s3_bucket,
        PLASTINKA_S3_ENDPOINT_URL=s3_fault_proxy.endpoint_url,
        PLASTINKA_S3_REGION=S3_REGION,
        PLASTINKA_S3_ACCESS_KEY_ID=S3_ACCESS_KEY,
        PLASTINKA_S3_SECRET_ACCESS_KEY=S3_SECRET_KEY,
    )
    with api_server(tmp_path / "var", env) as server, server.client(ADMIN_KEY) as client:
        dataset = upload(client, *shop)["id"]
        before = s3_fault_proxy.count()
        if fault == "503":
            s3_fault_proxy.fail_next(8, status=503)
        elif fault == "timeout":
            s3_fault_proxy.drop_next(4)
        else:
            s3_fault_proxy.delay_next(12, 0.5)
        jobs = [train(client, dataset) for _ in range(2)]
        final = settle(client, jobs)
        assert all(s["status"] in ("succeeded", "failed", "dead_letter") for s in final.values())
        faulted = sum(1 for r in s3_fault_proxy.requests[before:] if r.fault is not None)
        assert faulted > 0, "the fault never hit a request"
        assert any(s["status"] == "succeeded" for s in final.values()), (final, server.log_tail())
    matrix["outcome"] = f"{summary(final)}; {faulted} storage requests faulted"


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([Scripted(429, retry_after="0")] * 3, "succeeded"),
        ([Scripted(503)] * 3, "succeeded"),
        ([Scripted(502, function_error=True, body='{"errorMessage":"boom"}')], "failed"),
    ],
    ids=["429", "503", "502-function-error"],
)
def test_invoke_endpoint_throttles_or_fails(
    tmp_path: Path,
    shop: tuple[Path, Path],
    yandex_cloud: Any,
    functions_emulator: Any,
    answers: list[Any],
    expected: str,
    matrix: dict[str, Any],
) -> None:
    code = answers[0].status
    matrix.update(case=f"invoke endpoint {code}" + (" X-Function-Error" if code == 502 else ""), backend="sqlite")
    data = tmp_path / "var"
    env = env_for({"name": "sqlite"}, tmp_path)
    storage = {"PLASTINKA_STORAGE_BACKEND": "local", "PLASTINKA_STORAGE_DIR": str(data / "storage")}
    functions_emulator.env = {**os.environ, **env, **storage}
    url = functions_emulator.register("d4etrain", STAND_IN_FUNCTIONS / "train-function")
    yandex_cloud.add_function("d4etrain", url, {"$latest": "v1"})
    key_file = tmp_path / "sa-key.json"
    key_file.write_text(json.dumps(yandex_cloud.new_service_account_key()))
    roots = tmp_path / "roots.pem"
    roots.write_bytes(yandex_cloud.root_certificates)
    env |= {
        "PLASTINKA_INVOKER": "yandex",
        "PLASTINKA_YANDEX_TRAIN_FUNCTION_ID": "d4etrain",
        "PLASTINKA_YANDEX_PREDICT_FUNCTION_ID": "d4etrain",
        "PLASTINKA_YANDEX_SA_KEY_FILE": str(key_file),
        "PLASTINKA_YANDEX_API_ENDPOINT": yandex_cloud.address,
        "PLASTINKA_YANDEX_ROOT_CERTIFICATES_FILE": str(roots),
    }
    functions_emulator.script("d4etrain", *answers)
    with api_server(data, env) as server, server.client(ADMIN_KEY) as client:
        dataset = upload(client, *shop)["id"]
        job = train(client, dataset)
        final = settle(client, [job], local_objects(data))
        assert final[job]["status"] == expected, (final, server.log_tail())
    calls = [r.status for r in functions_emulator.requests]
    if expected == "failed":
        assert calls == [502], calls  # a function error is never retried
    else:
        # Retried inside the one invocation: the job's attempt 1 started once, its function ran once.
        assert calls == [code] * len(answers) + [202], calls
        assert final[job]["attempt"] == 1 and ledger(tmp_path) == [(job, 1)], final
    matrix["outcome"] = f"{summary(final)}; invoke answers {calls}"
