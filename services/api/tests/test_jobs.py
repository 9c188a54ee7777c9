"""Training and prediction jobs through the HTTP API: submission, idempotency, listing, cancel, webhooks."""

from __future__ import annotations

import asyncio
import json

from plastinka_testing.app import (
    Api,
    claim,
    event,
    post_event,
    training_manifest,
)


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


async def test_cancel_then_late_events_are_ignored(api: Api, dataset_id: str) -> None:
    job = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    assert (await api.viewer.post(f"/api/v1/training/{job}/cancel")).status_code == 403
    assert (await api.other.post(f"/api/v1/training/{job}/cancel")).status_code == 404
    cancelled = await api.analyst.post(f"/api/v1/training/{job}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await api.analyst.post(f"/api/v1/training/{job}/cancel")).status_code == 409
    assert await claim(api.ctx) == []


async def test_webhook_is_signed_and_retried(api: Api, dataset_id: str) -> None:
    from plastinka_api.egress import EgressPolicy
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
        # A loopback receiver is reachable only because the operator trusts it (PLASTINKA_WEBHOOK_ALLOWED_HOSTS).
        api.ctx.webhooks.policy = EgressPolicy.parse("127.0.0.1")
        made = await api.analyst.post("/api/v1/keys/webhook-secret")  # the owner's own secret signs its webhooks
        assert made.status_code == 201, made.text
        owner_secret = made.json()["secret"].encode()
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
    timestamp, signature = int(headers[TIMESTAMP_HEADER.lower()]), headers[SIGNATURE_HEADER.lower()]
    assert verify(owner_secret, timestamp, body, signature)
    assert not verify(api.ctx.keys.webhooks, timestamp, body, signature)
    assert not verify(b"another-secret-xxxxxxxx", timestamp, body, signature)
    payload = json.loads(body)
    assert payload["job_id"] == job and payload["status"] == "succeeded"
