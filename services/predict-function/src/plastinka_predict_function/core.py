"""Model archive + dataset in storage -> forecast Parquet under the attempt's prefix."""

from __future__ import annotations

import hashlib
import io
import tempfile
from pathlib import Path
from typing import Any

from plastinka_function_runtime import Attempt, FunctionContext, Outcome, run_attempt, unpack_archive
from plastinka_schemas import Artifact, PredictRequest, RunSummary


class ModelMismatchError(ValueError):
    """The model metadata the request names is not the one inside the model archive."""


def handle(event: object, context: FunctionContext) -> dict[str, Any]:
    return run_attempt(event, context, PredictRequest, predict_job)


def predict_job(attempt: Attempt) -> Outcome:
    # Heavy imports (polars, lightgbm) happen here, not when the platform imports index.py.
    from plastinka_forecasting.api import predict  # noqa: PLC0415
    from plastinka_forecasting.artifacts import META_FILE, load_model  # noqa: PLC0415
    from plastinka_forecasting.ingest import load_sales_bytes  # noqa: PLC0415
    from plastinka_forecasting.orders import order_list  # noqa: PLC0415

    request = attempt.request
    assert isinstance(request, PredictRequest)
    attempt.progress(0.0, "loading the model")
    archive = attempt.read(request.model)
    with tempfile.TemporaryDirectory(prefix="plastinka-model-") as scratch:
        directory = Path(scratch)
        unpack_archive(archive, directory)
        inside = hashlib.sha256((directory / META_FILE).read_bytes()).hexdigest()
        if inside != request.model_meta.sha256:
            named = request.model_meta.sha256[:12]
            raise ModelMismatchError(f"{request.model.key} holds metadata {inside[:12]}, the request names {named}")
        model = load_model(directory)  # verifies every file against the metadata's checksums
    attempt.progress(0.3, "reading the dataset")
    sales = load_sales_bytes(*attempt.read_inputs(request.dataset, request.stock))
    attempt.progress(0.5, "forecasting")
    forecast = predict(model, sales, horizon=request.horizon, items=request.items)
    buffer = io.BytesIO()
    forecast.write_parquet(buffer, statistics=False)
    ref = attempt.write_artifact(Artifact.FORECAST, buffer.getvalue())
    cover = request.cover_months or request.horizon or model.horizon
    orders = order_list(forecast, model.totals, service_level=request.service_level, cover=cover)
    buffer = io.BytesIO()
    orders.write_parquet(buffer, statistics=False)
    orders_ref = attempt.write_artifact(Artifact.ORDERS, buffer.getvalue())
    periods = forecast.get_column("period")
    summary = RunSummary(
        rows=forecast.height,
        items=forecast.get_column("item_id").n_unique(),
        horizon=request.horizon or model.horizon,
        first_period=str(periods.min()) if forecast.height else None,
        last_period=str(periods.max()) if forecast.height else None,
        quantiles=list(model.quantiles),
        service_level=request.service_level,
        cover_months=cover,
        total_method=orders.get_column("total_method").first() if orders.height else None,
        suggested_copies=int(orders.get_column("suggested_order").sum()),
    )
    return Outcome(artifacts={Artifact.FORECAST: ref, Artifact.ORDERS: orders_ref}, summary=summary)
