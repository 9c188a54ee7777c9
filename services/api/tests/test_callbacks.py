"""The functions' callbacks (``POST /api/v1/internal/jobs/{id}/events``, applied by ``jobs.events``): signed
tokens, duplicates and late events, manifest verification, failures, retries, dead letters and requeue."""

from __future__ import annotations

from plastinka_testing.app import (
    Api,
    claim,
    event,
    post_event,
    run_training,
    token,
    training_manifest,
)


async def test_callbacks_need_the_jobs_own_token(api: Api, dataset_id: str) -> None:
    job_a = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    job_b = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, "horizon": 2})).json()["job_id"]
    await claim(api.ctx)
    running = event(job_a, 1, "running")
    async with api.client(None) as anonymous:
        missing = await anonymous.post(f"/api/v1/internal/jobs/{job_a}/events", json=running)
    assert missing.status_code == 401
    forged = token(api.ctx, job_a, 1)[:-4] + "AAAA"
    assert (await post_event(api.analyst, api.ctx, running, auth=forged)).status_code == 401
    # A genuine token of another job, or of another attempt, or expired, is refused too.
    assert (await post_event(api.analyst, api.ctx, running, auth=token(api.ctx, job_b, 1))).status_code == 401
    assert (await post_event(api.analyst, api.ctx, running, auth=token(api.ctx, job_a, 2))).status_code == 401
    expired = token(api.ctx, job_a, 1, expires_in=-5)
    assert (await post_event(api.analyst, api.ctx, running, auth=expired)).status_code == 401
    # An API key is not a callback token.
    assert (await post_event(api.analyst, api.ctx, running, auth=api.keys["admin"])).status_code == 401  # type: ignore[attr-defined]
    status = (await api.viewer.get(f"/api/v1/status/{job_a}")).json()
    assert status["status"] == "dispatched"
    ok = await post_event(api.analyst, api.ctx, running)
    assert ok.status_code == 200 and ok.json()["applied"] is True
    assert (await api.viewer.get(f"/api/v1/status/{job_a}")).json()["status"] == "running"


async def test_event_for_another_job_path_is_refused(api: Api, dataset_id: str) -> None:
    job = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    await claim(api.ctx)
    body = event(job, 1, "running")
    response = await api.analyst.post(
        "/api/v1/internal/jobs/tj_someoneelse/events",
        json=body,
        headers={"Authorization": f"Bearer {token(api.ctx, job, 1)}"},
    )
    assert response.status_code == 400
    bad = await post_event(api.analyst, api.ctx, {**body, "type": "exploded"})
    assert bad.status_code == 400


async def test_duplicate_and_late_events_change_nothing(api: Api, dataset_id: str) -> None:
    job_id, model_id = await run_training(api, dataset_id)
    manifest = await training_manifest(api.ctx, job_id, 1)
    again = await post_event(api.analyst, api.ctx, event(job_id, 1, "succeeded", manifest=manifest))
    assert again.status_code == 200 and again.json()["applied"] is False
    late = await post_event(api.analyst, api.ctx, event(job_id, 1, "failed", error_type="Boom", message="late"))
    assert late.status_code == 200 and late.json()["applied"] is False
    progress = await post_event(api.analyst, api.ctx, event(job_id, 1, "progress", progress=0.5))
    assert progress.json()["applied"] is False
    status = (await api.viewer.get(f"/api/v1/status/{job_id}")).json()
    assert status["status"] == "succeeded" and status["error"] is None
    assert (await api.viewer.get("/api/v1/models")).json()["total"] == 1
    assert (await api.viewer.get(f"/api/v1/training/{job_id}")).json()["model_id"] == model_id


async def test_a_succeeded_event_with_a_corrupt_artifact_is_not_accepted(api: Api, dataset_id: str) -> None:
    job_id = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    await claim(api.ctx)
    manifest = await training_manifest(api.ctx, job_id, 1)
    manifest["artifacts"]["model"]["sha256"] = "0" * 64
    response = await post_event(api.analyst, api.ctx, event(job_id, 1, "succeeded", manifest=manifest))
    assert response.status_code == 200 and response.json()["status"] == "retry_wait"
    status = (await api.viewer.get(f"/api/v1/status/{job_id}")).json()
    assert status["status"] == "retry_wait" and status["error_type"] == "ChecksumMismatch"
    assert (await api.viewer.get("/api/v1/models")).json()["total"] == 0


async def test_a_manifest_pointing_outside_its_attempt_fails_the_job(api: Api, dataset_id: str) -> None:
    job_id = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    await claim(api.ctx)
    manifest = await training_manifest(api.ctx, job_id, 1)
    dataset = (await api.viewer.get(f"/api/v1/datasets/{dataset_id}")).json()
    info = await api.ctx.store.head(f"datasets/{dataset['sha256']}/{dataset['filename']}")
    manifest["artifacts"]["model"] = {"key": info.key, "sha256": info.sha256, "size": info.size}
    response = await post_event(api.analyst, api.ctx, event(job_id, 1, "succeeded", manifest=manifest))
    assert response.json()["status"] == "failed"
    assert (await api.viewer.get(f"/api/v1/status/{job_id}")).json()["error_type"] == "InvalidManifest"


async def test_failures_fail_or_retry_and_dead_letter_then_requeue(api: Api, dataset_id: str) -> None:
    job = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    await claim(api.ctx)
    failed = await post_event(
        api.analyst,
        api.ctx,
        event(job, 1, "failed", error_type="DataError", message="no rows", traceback="Traceback..."),
    )
    assert failed.json()["status"] == "failed"
    status = (await api.viewer.get(f"/api/v1/status/{job}")).json()
    assert status["error_type"] == "DataError" and status["error"] == "no rows"

    flaky = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, "horizon": 2})).json()["job_id"]
    for attempt in range(1, 4):
        await api.ctx.db.call(_make_due, api, flaky)
        claimed = await claim(api.ctx)
        assert [j.id for j in claimed] == [flaky]
        retry = await post_event(
            api.analyst, api.ctx, event(flaky, attempt, "failed", error_type="Timeout", message="slow", retryable=True)
        )
        assert retry.json()["status"] == ("dead_letter" if attempt == 3 else "retry_wait")
    dead = (await api.viewer.get("/api/v1/status", params={"status": "dead_letter"})).json()
    assert [j["job_id"] for j in dead["items"]] == [flaky]
    assert dead["items"][0]["attempt"] == 3 and dead["items"][0]["error_type"] == "Timeout"
    assert (await api.analyst.post(f"/api/v1/status/{flaky}/requeue")).status_code == 403
    requeued = await api.admin.post(f"/api/v1/status/{flaky}/requeue")
    assert requeued.status_code == 200 and requeued.json()["status"] == "queued"
    assert requeued.json()["max_attempts"] > 3
    assert (await api.admin.post(f"/api/v1/status/{flaky}/requeue")).status_code == 409


def _make_due(api: Api, job_id: str) -> None:
    import sqlalchemy as sa

    from plastinka_store.tables import TrainingJob

    table = TrainingJob.__table__  # type: ignore[attr-defined]
    with api.ctx.db.engine.begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.id == job_id, table.c.next_attempt_at.is_not(None))
            .values(next_attempt_at=sa.func.datetime("now", "-1 hour"))
        )


async def test_a_function_starting_a_cancelled_attempt_is_told_to_stop(api: Api, dataset_id: str) -> None:
    job = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    await claim(api.ctx)
    assert (await api.analyst.post(f"/api/v1/training/{job}/cancel")).json()["status"] == "cancelled"
    running = await post_event(api.analyst, api.ctx, event(job, 1, "running"))
    assert running.status_code == 409  # the runtime's JobReporter raises CallbackRejected and does no work
    late = await post_event(api.analyst, api.ctx, event(job, 1, "progress", progress=0.5))
    assert late.status_code == 200 and late.json()["applied"] is False
    assert (await api.viewer.get(f"/api/v1/status/{job}")).json()["status"] == "cancelled"
