"""Jobs through the HTTP API: submission, idempotency, callbacks with signed tokens, duplicates and late
events, manifest verification, models, results, long-poll, dead letters and requeue."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import polars as pl
import pytest
from apikit import (
    Api,
    claim,
    event,
    forecast_frame,
    post_event,
    prediction_manifest,
    run_training,
    token,
    training_manifest,
    upload,
)


@pytest.fixture
async def dataset_id(api: Api, shop_files: tuple[Path, Path]) -> str:
    response = await upload(api.analyst, *shop_files)
    assert response.status_code == 201
    return str(response.json()["id"])


async def test_training_is_queued_and_listed(api: Api, dataset_id: str) -> None:
    response = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, "horizon": 6})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["kind"] == "training"
    assert response.headers["location"] == f"/api/v1/status/{body['job_id']}"
    detail = (await api.viewer.get(f"/api/v1/training/{body['job_id']}")).json()
    assert detail["parameters"]["horizon"] == 6 and detail["dataset_id"] == dataset_id
    assert detail["events"][0]["kind"] == "created"
    listing = (await api.viewer.get("/api/v1/training")).json()
    assert [j["job_id"] for j in listing["items"]] == [body["job_id"]]
    assert (await api.other.get(f"/api/v1/training/{body['job_id']}")).status_code == 404
    assert (await api.other.get(f"/api/v1/status/{body['job_id']}")).status_code == 404
    assert (await api.viewer.get(f"/api/v1/prediction/{body['job_id']}")).status_code == 404


async def test_bad_training_bodies_are_422_with_where(api: Api, dataset_id: str) -> None:
    response = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, "horizon": 13})
    assert response.status_code == 422
    assert "horizon" in response.json()["message"]
    response = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, "quantiles": [0.9, 0.1]})
    assert response.status_code == 422
    assert response.json()["details"][0]["where"].startswith("body.quantiles")


async def test_idempotency_key_returns_the_first_job(api: Api, dataset_id: str) -> None:
    headers = {"Idempotency-Key": "nightly-2024-05-01"}
    first = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id}, headers=headers)
    again = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id}, headers=headers)
    assert first.status_code == 202 and again.status_code == 200
    assert first.json()["job_id"] == again.json()["job_id"]
    other = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, "horizon": 5}, headers=headers)
    assert other.status_code == 409
    assert other.json()["details"]["job_id"] == first.json()["job_id"]
    assert (await api.viewer.get("/api/v1/training")).json()["total"] == 1


async def test_training_success_records_and_activates_the_model(api: Api, dataset_id: str) -> None:
    job_id, model_id = await run_training(api, dataset_id)
    assert model_id.startswith("mdl_")
    model = (await api.viewer.get(f"/api/v1/models/{model_id}")).json()
    assert model["active"] is True and model["dataset_id"] == dataset_id and model["training_job_id"] == job_id
    assert model["metrics"]["mae"] == 0.42
    result = (await api.viewer.get(f"/api/v1/results/{job_id}")).json()
    assert result["model_id"] == model_id
    assert [row["model"] for row in result["backtest"]] == ["lightgbm", "naive"]
    # A second model activates and the first steps down; activate: false leaves the active one alone.
    _, second = await run_training(api, dataset_id, horizon=4)
    _, third = await run_training(api, dataset_id, horizon=2, activate=False)
    active = (await api.viewer.get("/api/v1/models", params={"active": True})).json()["items"]
    assert [m["id"] for m in active] == [second]
    assert (await api.analyst.post(f"/api/v1/models/{third}/activate")).json()["active"] is True
    assert (await api.viewer.get(f"/api/v1/models/{second}")).json()["active"] is False
    assert (await api.other.get(f"/api/v1/models/{third}")).status_code == 404


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

    from plastinka_jobs.tables import TrainingJob

    table = TrainingJob.__table__  # type: ignore[attr-defined]
    with api.ctx.db.engine.begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.id == job_id, table.c.next_attempt_at.is_not(None))
            .values(next_attempt_at=sa.func.datetime("now", "-1 hour"))
        )


async def test_cancel_then_late_events_are_ignored(api: Api, dataset_id: str) -> None:
    job = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    assert (await api.viewer.post(f"/api/v1/training/{job}/cancel")).status_code == 403
    assert (await api.other.post(f"/api/v1/training/{job}/cancel")).status_code == 404
    cancelled = await api.analyst.post(f"/api/v1/training/{job}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await api.analyst.post(f"/api/v1/training/{job}/cancel")).status_code == 409
    assert await claim(api.ctx) == []


async def test_a_function_starting_a_cancelled_attempt_is_told_to_stop(api: Api, dataset_id: str) -> None:
    job = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    await claim(api.ctx)
    assert (await api.analyst.post(f"/api/v1/training/{job}/cancel")).json()["status"] == "cancelled"
    running = await post_event(api.analyst, api.ctx, event(job, 1, "running"))
    assert running.status_code == 409  # the runtime's JobReporter raises CallbackRejected and does no work
    late = await post_event(api.analyst, api.ctx, event(job, 1, "progress", progress=0.5))
    assert late.status_code == 200 and late.json()["applied"] is False
    assert (await api.viewer.get(f"/api/v1/status/{job}")).json()["status"] == "cancelled"


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


async def test_prediction_results_pages_files_download_and_plot(api: Api, dataset_id: str) -> None:
    _, model_id = await run_training(api, dataset_id)
    no_model = await api.other.post("/api/v1/prediction", json={})
    assert no_model.status_code == 409
    too_far = await api.analyst.post("/api/v1/prediction", json={"horizon": 9})
    assert too_far.status_code == 400
    response = await api.analyst.post("/api/v1/prediction", json={})  # the active model
    assert response.status_code == 202
    job = response.json()["job_id"]
    assert (await api.viewer.get(f"/api/v1/prediction/{job}")).json()["model_id"] == model_id
    assert (await api.viewer.get(f"/api/v1/results/{job}")).status_code == 409
    await claim(api.ctx)
    items = [f"item-{i}" for i in range(5)] + ['=HYPERLINK("http://evil")', "@SUM(1)"]
    manifest = await prediction_manifest(api.ctx, job, 1, forecast_frame(items))
    done = await post_event(
        api.analyst, api.ctx, event(job, 1, "succeeded", manifest=manifest, summary={"rows": len(items) * 3})
    )
    assert done.json()["status"] == "succeeded"

    page = (await api.viewer.get(f"/api/v1/results/{job}", params={"limit": 4, "offset": 2})).json()
    assert page["total"] == len(items) * 3 and len(page["rows"]) == 4 and page["offset"] == 2
    assert set(page["rows"][0]["quantiles"]) == {"q_0.05", "q_0.25", "q_0.5", "q_0.75", "q_0.95"}
    one = (await api.viewer.get(f"/api/v1/results/{job}", params={"item_id": "item-3"})).json()
    assert one["total"] == 3 and {r["item_id"] for r in one["rows"]} == {"item-3"}

    csv = await api.viewer.get(f"/api/v1/results/{job}", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert "'=HYPERLINK" in csv.text and "'@SUM(1)" in csv.text
    assert "\n=HYPERLINK" not in csv.text
    xlsx = await api.viewer.get(f"/api/v1/results/{job}", params={"format": "xlsx"})
    cells = pl.read_excel(io.BytesIO(xlsx.content), engine="calamine").get_column("item_id").to_list()
    assert '\'=HYPERLINK("http://evil")' in cells and not any(str(c).startswith("=") for c in cells)
    parquet = await api.viewer.get(f"/api/v1/results/{job}", params={"format": "parquet"})
    assert pl.read_parquet(io.BytesIO(parquet.content)).height == len(items) * 3
    assert (await api.viewer.get(f"/api/v1/results/{job}", params={"format": "exe"})).status_code == 422

    link = (await api.viewer.get(f"/api/v1/results/{job}/download")).json()
    assert link["url"].startswith(api.ctx.settings.resolved_public_url + "/files/")
    path = link["url"].split("://", 1)[1].split("/", 1)[1]
    fetched = await api.viewer.get("/" + path)
    assert fetched.status_code == 200 and len(fetched.content) == link["size"]
    tampered = await api.viewer.get("/" + path.replace("signature=", "signature=0"))
    assert tampered.status_code == 403
    assert (await api.other.get(f"/api/v1/results/{job}/download")).status_code == 404

    total = await api.viewer.get(f"/api/v1/results/{job}/plot")
    assert total.status_code == 200 and total.content.startswith(b"\x89PNG")
    single = await api.viewer.get(f"/api/v1/results/{job}/plot", params={"item_id": "item-1"})
    assert single.status_code == 200 and single.headers["content-type"] == "image/png"
    assert (await api.viewer.get(f"/api/v1/results/{job}/plot", params={"item_id": "nope"})).status_code == 404


async def test_webhook_is_signed_and_retried(api: Api, dataset_id: str) -> None:
    from plastinka_api.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

    received: list[tuple[dict[str, str], bytes]] = []
    answers = [503, 200]

    async def receiver(scope, receive, send):  # type: ignore[no-untyped-def]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        received.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": answers.pop(0), "headers": []})
        await send({"type": "http.response.body", "body": b""})

    import uvicorn

    config = uvicorn.Config(receiver, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        job = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, "callback_url": url})).json()[
            "job_id"
        ]
        await claim(api.ctx)
        manifest = await training_manifest(api.ctx, job, 1)
        await post_event(api.analyst, api.ctx, event(job, 1, "succeeded", manifest=manifest))
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.1)
    finally:
        server.should_exit = True
        await serving
    assert len(received) == 2
    headers, body = received[-1]
    assert verify(api.ctx.secret, int(headers[TIMESTAMP_HEADER.lower()]), body, headers[SIGNATURE_HEADER.lower()])
    assert not verify(
        b"another-secret-xxxxxxxx", int(headers[TIMESTAMP_HEADER.lower()]), body, headers[SIGNATURE_HEADER.lower()]
    )
    payload = json.loads(body)
    assert payload["job_id"] == job and payload["status"] == "succeeded"


async def test_model_delete_refuses_models_in_use(api: Api, dataset_id: str) -> None:
    _, model_id = await run_training(api, dataset_id)
    _, spare = await run_training(api, dataset_id, activate=False)
    await api.analyst.post("/api/v1/prediction", json={"model_id": model_id})
    assert (await api.analyst.delete(f"/api/v1/models/{model_id}")).status_code == 409
    assert (await api.viewer.delete(f"/api/v1/models/{spare}")).status_code == 403
    assert (await api.other.delete(f"/api/v1/models/{spare}")).status_code == 404
    assert (await api.analyst.delete(f"/api/v1/models/{spare}")).status_code == 204
    assert (await api.viewer.get(f"/api/v1/models/{spare}")).status_code == 404
