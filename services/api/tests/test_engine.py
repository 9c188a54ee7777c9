"""The sweeper and the engine's reaction to ended runs: reconciliation from the status object, lease expiry
with backoff and dead letters, a crashed local run retried at once; fair work: the per-owner queue quota's 429
and a cancelled local run killed with its slot reused at once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from plastinka_api.invokers.local import LocalFunctionInvoker, LocalRun
from plastinka_api.invokers.recording import AttemptRecord
from plastinka_schemas import SucceededEvent
from plastinka_storage.keys import job_status_key
from plastinka_testing.api_process import free_port
from plastinka_testing.app import Api, claim, make_settings, running_api, training_manifest, upload
from plastinka_testing.stand_ins import STAND_IN_FUNCTIONS


async def _queued(api: Api, shop_files: tuple[Path, Path], **body: Any) -> str:
    dataset = (await upload(api.analyst, *shop_files)).json()["id"]
    response = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset, **body})
    return str(response.json()["job_id"])


@contextlib.asynccontextmanager
async def _claimed(tmp_path: Path, shop_files: tuple[Path, Path], **settings: Any) -> AsyncIterator[tuple[Api, str]]:
    """An API without its engine loops, and one training job the test claimed as the dispatcher would."""
    async with running_api(make_settings(tmp_path, engine_enabled=False, **settings)) as api:
        job = await _queued(api, shop_files)
        await claim(api.ctx)
        yield api, job


async def test_a_lost_callback_is_reconciled_from_the_status_object(
    tmp_path: Path, shop_files: tuple[Path, Path]
) -> None:
    async with _claimed(tmp_path, shop_files, reconcile_after_s=0) as (api, job):
        assert (
            await api.app.state.engine.reconcile(await api.ctx.db.call(api.ctx.repo.get, job, owner="shop")) is False
        )  # nothing stored yet
        manifest = await training_manifest(api.ctx, job, 1)
        final = SucceededEvent(job_id=job, attempt=1, at=datetime.now(UTC), manifest=manifest)
        await api.ctx.store.put_bytes(job_status_key(job, 1), final.model_dump_json().encode())
        await api.app.state.engine.sweep_once()
        status = (await api.viewer.get(f"/api/v1/status/{job}")).json()
        assert status["status"] == "succeeded"
        assert (await api.viewer.get(f"/api/v1/training/{job}")).json()["model_id"] is not None
        assert 'plastinka_sweeper_actions_total{action="reconciled"} 1.0' in (await api.admin.get("/metrics")).text


async def test_expired_leases_retry_with_backoff_then_dead_letter(
    tmp_path: Path, shop_files: tuple[Path, Path]
) -> None:
    settings = make_settings(tmp_path, lease_s=0.05, retry_base_s=0, max_attempts=2, engine_enabled=False)
    async with running_api(settings) as api:
        job = await _queued(api, shop_files)
        engine = api.app.state.engine
        for expected in ("retry_wait", "dead_letter"):
            assert len(await claim(api.ctx)) == 1
            await asyncio.sleep(0.2)
            await engine.sweep_once()
            status = (await api.viewer.get(f"/api/v1/status/{job}")).json()
            assert status["status"] == expected
            assert status["error_type"] == "LeaseExpired"
        assert status["attempt"] == 2
        dead = (await api.viewer.get("/api/v1/status", params={"status": "dead_letter"})).json()
        assert dead["total"] == 1


async def test_a_crashed_run_is_retried_without_waiting_for_the_lease(
    tmp_path: Path, shop_files: tuple[Path, Path]
) -> None:
    async with _claimed(tmp_path, shop_files, retry_base_s=0) as (api, job):
        now = datetime.now(UTC)
        crash = AttemptRecord("train", job, 1, "req-1", now, now, 502, error="MemoryError: killed")
        await api.app.state.engine.attempt_finished(crash)
        status = (await api.viewer.get(f"/api/v1/status/{job}")).json()
        assert status["status"] == "retry_wait" and status["error_type"] == "FunctionCrashed"
        assert "MemoryError" in status["error"]
        # The same report again (or for an attempt that already moved on) changes nothing.
        await api.app.state.engine.attempt_finished(crash)
        assert (await api.viewer.get(f"/api/v1/status/{job}")).json()["attempt"] == 1
        assert [j.id for j in await claim(api.ctx)] == [job]


@pytest.mark.parametrize("status", [200, 202])
async def test_a_run_that_returned_normally_is_left_to_its_events(
    tmp_path: Path, shop_files: tuple[Path, Path], status: int
) -> None:
    async with _claimed(tmp_path, shop_files) as (api, job):
        now = datetime.now(UTC)
        await api.app.state.engine.attempt_finished(AttemptRecord("train", job, 1, "r", now, now, status))
        assert (await api.viewer.get(f"/api/v1/status/{job}")).json()["status"] == "dispatched"


async def test_the_engine_tick_route_exists_only_where_enabled_and_runs_the_passes(
    tmp_path: Path, shop_files: tuple[Path, Path]
) -> None:
    """The timer-driven host: no background loops; each tick runs sweeper and dispatcher passes for a while."""
    async with running_api(make_settings(tmp_path / "public", engine_enabled=False)) as api:
        assert (await api.admin.post("/api/v1/internal/engine/tick")).status_code == 404
    settings = make_settings(
        tmp_path / "engine", engine_enabled=False, engine_tick_enabled=True, engine_tick_s=0.5,
        dispatch_interval_s=0.1, sweep_interval_s=0.2,
    )  # fmt: skip
    async with running_api(settings) as api:
        await _queued(api, shop_files)
        swept = []
        real_sweep = api.app.state.engine.sweep_once

        async def sweep() -> bool:
            swept.append(1)
            return await real_sweep()

        api.app.state.engine.sweep_once = sweep
        response = await api.client(None).post("/api/v1/internal/engine/tick")
        assert response.status_code == 200, response.text
        passes = response.json()["passes"]
        assert passes["dispatch"] >= 3 and passes["sweep"] == len(swept) >= 2 and passes["webhooks"] >= 3


# --- fair work (issue 16): the queue quota, stopping cancelled runs -----------------------------------


async def test_a_full_queue_answers_429_with_retry_after_and_writes_nothing(
    tmp_path: Path, shop_files: tuple[Path, Path]
) -> None:
    settings = make_settings(tmp_path, engine_enabled=False, max_queued_jobs_per_owner=3, queue_full_retry_after_s=7)
    async with running_api(settings) as api:
        dataset = (await upload(api.analyst, *shop_files)).json()["id"]
        accepted = [await api.analyst.post("/api/v1/training", json={"dataset_id": dataset}) for _ in range(3)]
        assert [r.status_code for r in accepted] == [202] * 3
        refused = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset})
        assert refused.status_code == 429, refused.text
        assert refused.headers["Retry-After"] == "7"
        body = refused.json()
        assert body["error"] == "queue_full" and body["details"] == {
            "waiting": 3,
            "limit": 3,
            "setting": "PLASTINKA_MAX_QUEUED_JOBS_PER_OWNER",
        }
        listed = (await api.viewer.get("/api/v1/training")).json()
        assert listed["total"] == 3  # the refused submission wrote nothing
        metrics = (await api.admin.get("/metrics")).text
        assert 'plastinka_jobs_refused_total{kind="training",reason="queue_full"} 1.0' in metrics
        # Another owner's queue is its own.
        rival = (await upload(api.other, *shop_files)).json()["id"]
        assert (await api.other.post("/api/v1/training", json={"dataset_id": rival})).status_code == 202
        # A cancelled job leaves the queue, and its place can be taken again.
        first = accepted[0].json()["job_id"]
        assert (await api.analyst.post(f"/api/v1/training/{first}/cancel")).status_code == 200
        assert (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset})).status_code == 202


async def _run_of(invoker: LocalFunctionInvoker, job: str, timeout_s: float = 60) -> LocalRun:
    """The job's local run once its process exists."""
    async with asyncio.timeout(timeout_s):
        while True:
            runs = [run for run in invoker.runs.values() if run.job_id == job and run.pid is not None]
            if runs:
                return runs[0]
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def _one_slot_local_api(
    tmp_path: Path, dispatch_interval_s: float
) -> AsyncIterator[tuple[Api, LocalFunctionInvoker]]:
    """An API running the stand-in functions as local processes, one at a time; its callbacks go nowhere."""
    settings = make_settings(
        tmp_path, invoker="local", functions_dir=STAND_IN_FUNCTIONS, function_concurrency=1,
        dispatch_interval_s=dispatch_interval_s, public_url=f"http://127.0.0.1:{free_port()}",
    )  # fmt: skip
    async with running_api(settings) as api:
        invoker = api.ctx.invoker
        assert isinstance(invoker, LocalFunctionInvoker)
        yield api, invoker


async def test_cancelling_a_running_local_job_kills_its_process_and_frees_the_slot(
    tmp_path: Path, shop_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLASTINKA_TEST_WORK_S", "120")  # the stand-in would run for two minutes
    async with _one_slot_local_api(tmp_path, dispatch_interval_s=5) as (api, invoker):
        job = await _queued(api, shop_files)
        run = await _run_of(invoker, job)
        assert run.pid is not None
        assert invoker.free_slots == 0
        waiting = await _queued(api, shop_files)
        started = time.monotonic()
        cancelled = await api.analyst.post(f"/api/v1/training/{job}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert time.monotonic() - started < 5
        # The process (and its group) is gone, the run is recorded as stopped, the slot is free ...
        assert run.stopped and run.returncode == -signal.SIGKILL and run.status == 499
        with pytest.raises(ProcessLookupError):
            os.kill(run.pid, 0)
        logged = await api.ctx.db.call(api.ctx.repo.invocations, job)
        assert [(entry.http_status, entry.error) for entry in logged] == [(499, "stopped: the job was cancelled")]
        # ... and taken by the waiting job at once, long before the 5 s dispatch interval.
        second = await _run_of(invoker, waiting, timeout_s=3)
        assert run.finished is not None and (second.started - run.finished).total_seconds() < 1
        assert (await api.viewer.get(f"/api/v1/status/{job}")).json()["status"] == "cancelled"


async def test_a_run_cancelled_through_another_instance_is_killed_at_the_next_dispatch_pass(
    tmp_path: Path, shop_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLASTINKA_TEST_WORK_S", "120")
    async with _one_slot_local_api(tmp_path, dispatch_interval_s=0.3) as (api, invoker):
        job = await _queued(api, shop_files)
        run = await _run_of(invoker, job)
        # Another instance cancels: the database changes, this process is not told.
        assert await api.ctx.db.call(api.ctx.repo.cancel, job, owner="shop")
        async with asyncio.timeout(3):  # ten dispatch passes
            ended = await invoker.wait(run.request_id)
        assert ended.stopped and ended.returncode == -signal.SIGKILL
        assert invoker.free_slots == 1
