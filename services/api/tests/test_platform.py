"""Health, readiness, metrics, errors and the auth matrix basics."""

from __future__ import annotations

from plastinka_testing.app import Api


async def test_health_needs_no_key(api: Api) -> None:
    async with api.client(None) as anonymous:
        assert (await anonymous.get("/health")).json() == {"status": "ok"}
        ready = await anonymous.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "storage": "ok"}


async def test_metrics_count_requests_per_route_template(api: Api) -> None:
    await api.viewer.get("/api/v1/status/tj_nonexistent")
    await api.viewer.get("/api/v1/status/tj_other")
    async with api.client(None) as anonymous:
        assert (await anonymous.get("/metrics")).status_code == 401
    assert (await api.viewer.get("/metrics")).status_code == 403
    text = (await api.admin.get("/metrics")).text
    assert 'plastinka_http_requests_total{method="GET",route="/api/v1/status/{job_id}",status="404"} 2.0' in text
    assert "plastinka_db_query_seconds_count" in text


async def test_every_api_route_but_health_needs_a_key(api: Api) -> None:
    async with api.client(None) as anonymous, api.client("pk_wrong") as wrong:
        for path in ("/api/v1/datasets", "/api/v1/models", "/api/v1/keys", "/api/v1/status", "/api/v1/training"):
            for client in (anonymous, wrong):
                response = await client.get(path)
                assert response.status_code == 401, path
                assert response.json()["error"] == "unauthorized"
                assert response.headers["www-authenticate"] == "Bearer"


async def test_x_api_key_header_works_too(api: Api) -> None:
    async with api.client(None) as client:
        response = await client.get("/api/v1/models", headers={"X-API-Key": api.keys["viewer"]})  # type: ignore[attr-defined]
    assert response.status_code == 200


async def test_roles_limit_what_a_key_may_do(api: Api) -> None:
    assert (await api.viewer.post("/api/v1/training", json={"dataset_id": "ds_x"})).status_code == 403
    assert (await api.analyst.get("/api/v1/keys")).status_code == 403
    assert (await api.analyst.post("/api/v1/status/tj_x/requeue")).status_code == 403
    assert (await api.admin.get("/api/v1/keys")).status_code == 200


async def test_malformed_json_is_a_4xx_not_a_500(api: Api) -> None:
    response = await api.analyst.post(
        "/api/v1/training", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_unknown_route_is_a_json_404(api: Api) -> None:
    response = await api.viewer.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_openapi_documents_every_route(api: Api) -> None:
    async with api.client(None) as anonymous:
        schema = (await anonymous.get("/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/datasets",
        "/api/v1/training",
        "/api/v1/status/{job_id}",
        "/api/v1/results/{job_id}/plot",
        "/api/v1/models/{model_id}/activate",
        "/api/v1/internal/jobs/{job_id}/events",
        "/api/v1/keys",
    ):
        assert path in paths, path
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}


def test_a_database_password_kept_apart_goes_into_the_url(tmp_path) -> None:
    from plastinka_api.settings import Settings

    settings = Settings(
        _env_file=None, data_dir=tmp_path,
        database_url="postgresql+psycopg://plastinka@c-x.rw.mdb.yandexcloud.net:6432/plastinka?sslmode=require",
        database_password="p@ss:w/rd",
    )  # fmt: skip
    assert settings.resolved_database_url == (
        "postgresql+psycopg://plastinka:p%40ss%3Aw%2Frd@c-x.rw.mdb.yandexcloud.net:6432/plastinka?sslmode=require"
    )
    assert Settings(_env_file=None, database_url="sqlite:///x.db").resolved_database_url == "sqlite:///x.db"
