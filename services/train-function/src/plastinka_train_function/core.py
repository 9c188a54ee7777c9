"""Dataset in storage -> trained model archive, metadata and metrics under the attempt's prefix."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from plastinka_function_runtime import Attempt, FunctionContext, Outcome, pack_directory, run_attempt
from plastinka_schemas import (
    Artifact,
    BacktestReport,
    BacktestSummary,
    ModelInfo,
    RunSummary,
    TrainingMetrics,
    TrainingWindow,
    TrainRequest,
    ValidationCounts,
)
from plastinka_train_function.backtesting import run_backtest

# Kept back from the time left for saving, uploading and reporting the model.
TIME_RESERVE_S = 30.0
MIN_TUNING_S = 10.0


class DeadlineError(RuntimeError):
    """Too little time is left to train: a deterministic failure (the same deadline would fail again)."""


def handle(event: object, context: FunctionContext) -> dict[str, Any]:
    return run_attempt(event, context, TrainRequest, train_job)


def plan_time(remaining_s: float, request: TrainRequest) -> tuple[bool, float]:
    """Whether to tune and the tuning budget: the request's budget, cut to what the deadline leaves."""
    if remaining_s <= TIME_RESERVE_S:
        raise DeadlineError(f"only {remaining_s:.0f}s left before the deadline: not enough to train")
    available = remaining_s - TIME_RESERVE_S - 0.1 * remaining_s
    budget = min(float(request.time_budget_s), available)
    return request.tune and budget >= MIN_TUNING_S, budget


def train_job(attempt: Attempt) -> Outcome:
    # Heavy imports (polars, lightgbm) happen here, not when the platform imports index.py.
    from plastinka_forecasting.api import train  # noqa: PLC0415
    from plastinka_forecasting.artifacts import META_FILE, save_model  # noqa: PLC0415
    from plastinka_forecasting.ingest import load_sales_bytes  # noqa: PLC0415

    request = attempt.request
    assert isinstance(request, TrainRequest)
    attempt.progress(0.0, "reading the dataset")
    sales = load_sales_bytes(*attempt.read_inputs(request.dataset, request.stock))
    attempt.progress(0.05, f"{sales.report.rows_used} rows loaded")
    tune, budget = plan_time(attempt.remaining_s(), request)
    model = train(
        sales,
        frequency=request.frequency,
        horizon=request.horizon,
        quantiles=request.quantiles,
        tune=tune,
        time_budget_s=max(budget, 1.0),
        params=request.params,
        progress=lambda fraction, message: attempt.progress(0.05 + 0.65 * fraction, message),
    )
    attempt.progress(0.7, "backtesting against the baselines")
    backtest = run_backtest(
        sales,
        model,
        time_left=lambda: attempt.remaining_s() - TIME_RESERVE_S,
        progress=lambda fraction, message: attempt.progress(0.7 + 0.2 * fraction, message),
    )
    attempt.progress(0.9, "storing the model")
    with tempfile.TemporaryDirectory(prefix="plastinka-model-") as scratch:
        directory = Path(scratch)
        save_model(model, directory)
        archive = pack_directory(directory)
        meta_bytes = (directory / META_FILE).read_bytes()
    meta = json.loads(meta_bytes)
    report = BacktestReport.model_validate(backtest)
    window = TrainingWindow.model_validate(meta.get("training_window") or {})
    metrics = TrainingMetrics(
        metrics=ModelInfo.model_validate(meta.get("metrics") or {}),
        training_window=window,
        validation=ValidationCounts(
            rows_read=sales.report.rows_read,
            rows_used=sales.report.rows_used,
            dropped=sales.report.dropped,
            issues=len(sales.report.issues),
        ),
        tuned=tune,
        tune_requested=request.tune,
        time_budget_s=round(budget, 1),
        backtest_summary=BacktestSummary(
            windows=report.windows,
            windows_requested=report.windows_requested,
            cutoffs=report.cutoffs,
            note=report.note,
        ),
        order_stockouts=report.order_stockouts,
    )
    artifacts = {
        Artifact.MODEL: attempt.write_artifact(Artifact.MODEL, archive),
        Artifact.MODEL_META: attempt.write_artifact(Artifact.MODEL_META, meta_bytes),
        Artifact.METRICS: attempt.write_artifact(Artifact.METRICS, metrics.model_dump_json().encode()),
        Artifact.BACKTEST: attempt.write_artifact(Artifact.BACKTEST, report.model_dump_json().encode()),
    }
    summary = RunSummary(
        frequency=meta.get("frequency"),
        horizon=meta.get("horizon"),
        quantiles=meta.get("quantiles"),
        items=window.items,
        rows_used=sales.report.rows_used,
        tuned=tune,
        backtest_windows=report.windows,
    )
    return Outcome(artifacts=artifacts, summary=summary)
