"""Status: the long-poll returns when the job changes."""

from __future__ import annotations

import asyncio

from plastinka_testing.app import (
    Api,
    claim,
    event,
    post_event,
)


async def test_long_poll_returns_when_the_job_changes(api: Api, dataset_id: str) -> None:
    job = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    await claim(api.ctx)

    async def later() -> None:
        await asyncio.sleep(0.3)
        await post_event(api.analyst, api.ctx, event(job, 1, "progress", progress=0.25, message="features"))

    task = asyncio.create_task(later())
    status = (await api.viewer.get(f"/api/v1/status/{job}", params={"wait": 20})).json()
    await task
    assert status["status"] == "running" and status["progress"] == 0.25
    assert status["events"][-1]["message"] == "features"
