"""Models: a succeeded training job records and activates its model; activation and deletion."""

from __future__ import annotations

from plastinka_testing.app import (
    Api,
    run_training,
)


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


async def test_model_delete_refuses_models_in_use(api: Api, dataset_id: str) -> None:
    _, model_id = await run_training(api, dataset_id)
    _, spare = await run_training(api, dataset_id, activate=False)
    await api.analyst.post("/api/v1/prediction", json={"model_id": model_id})
    assert (await api.analyst.delete(f"/api/v1/models/{model_id}")).status_code == 409
    assert (await api.viewer.delete(f"/api/v1/models/{spare}")).status_code == 403
    assert (await api.other.delete(f"/api/v1/models/{spare}")).status_code == 404
    assert (await api.analyst.delete(f"/api/v1/models/{spare}")).status_code == 204
    assert (await api.viewer.get(f"/api/v1/models/{spare}")).status_code == 404
