"""Results rules: reading a succeeded job's results back from storage (verified), with a small cache of parsed
forecasts; the inputs of its plots and accuracy scores."""

from __future__ import annotations

import io
import math
from collections import OrderedDict
from typing import Any

import polars as pl

from plastinka_api.context import AppContext
from plastinka_api.datasets import repository as datasets
from plastinka_api.datasets.items import forecast_item
from plastinka_api.errors import BadRequest, Conflict, NotFound
from plastinka_api.keys.service import Principal
from plastinka_api.models import repository as models
from plastinka_api.results.accuracy import score
from plastinka_schemas import Artifact, ArtifactManifest, ArtifactRef, ForecastRow, Frequency, JobStatus, TrainingReport
from plastinka_store.tables import Dataset, JobRow, Model, PredictionJob, TrainingJob

_CACHE_SIZE = 16
_frames: OrderedDict[str, pl.DataFrame] = OrderedDict()


def succeeded_job(ctx: AppContext, principal: Principal, job_id: str) -> JobRow:
    job = ctx.repo.get(job_id, owner=principal.owner)
    if job is None:
        raise NotFound("job", job_id)
    if job.status is not JobStatus.SUCCEEDED:
        raise Conflict(
            f"job {job_id} is {job.status.value}: results exist once it has succeeded",
            details={"status": job.status.value},
        )
    return job


def artifact(job: JobRow, name: Artifact) -> ArtifactRef:
    manifest = ArtifactManifest.model_validate(job.manifest or {"artifacts": {}})
    try:
        return manifest.get(name)
    except KeyError:
        raise NotFound("artifact", f"{job.id}/{name}") from None


async def forecast_frame(ctx: AppContext, job: PredictionJob) -> pl.DataFrame:
    ref = artifact(job, Artifact.FORECAST)
    cached = _frames.get(ref.sha256)
    if cached is not None:
        _frames.move_to_end(ref.sha256)
        return cached
    data = await ctx.store.get_artifact(ref)
    frame = await ctx.db.call(pl.read_parquet, io.BytesIO(data))
    _frames[ref.sha256] = frame
    while len(_frames) > _CACHE_SIZE:
        _frames.popitem(last=False)
    return frame


def quantile_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("q_")]


def forecast_rows(frame: pl.DataFrame) -> list[ForecastRow]:
    qcols = quantile_columns(frame)
    return [
        ForecastRow(
            item_id=str(row["item_id"]),
            period=row["period"],
            mean=_num(row["mean"]),
            quantiles={q: _num(row[q]) for q in qcols},
        )
        for row in frame.iter_rows(named=True)
    ]


def _num(value: Any) -> float:
    number = float(value) if value is not None else 0.0
    return 0.0 if math.isnan(number) else number


def training_summary(job: TrainingJob) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(metrics, backtest table rows) of the public result, from the stored :class:`TrainingReport` of any version.

    The backtest report gives the table; what describes it (windows, cut-offs, units, why windows were skipped)
    goes under ``metrics.backtest``.
    """
    report = TrainingReport.model_validate(job.result or {})
    metrics = report.metrics.public()
    if report.backtest is None:
        return metrics, []
    described = report.backtest.description()
    if described:
        metrics["backtest"] = described
    return metrics, [row.public() for row in report.backtest.rows]


async def dataset_files(ctx: AppContext, dataset: Dataset) -> tuple[bytes, bytes | None]:
    """The dataset's sales file and its stock file (None without one), checked against their SHA-256."""
    sales = await ctx.store.get_bytes(dataset.object_key, expected_sha256=dataset.sha256)
    if not dataset.stock_key:
        return sales, None
    return sales, await ctx.store.get_bytes(dataset.stock_key, expected_sha256=dataset.stock_sha256)


def history_inputs(ctx: AppContext, owner: str, job: PredictionJob) -> tuple[Dataset, Model]:
    """The dataset a prediction job forecast from (its own, else its model's) and the model."""
    with ctx.db.session() as session:
        model = models.get_or_404(session, owner, job.model_id)
        return datasets.get_or_404(session, owner, job.dataset_id or model.dataset_id), model


async def record_id(ctx: AppContext, owner: str, job: PredictionJob, item_id: str) -> str:
    """The id ``job``'s forecast names the record by, from any of the record's spellings."""
    dataset, _ = await ctx.db.call(history_inputs, ctx, owner, job)
    return await forecast_item(ctx, dataset, item_id)


async def accuracy(ctx: AppContext, principal: Principal, job_id: str, dataset_id: str) -> dict[str, Any]:
    """Score a prediction job's stored forecast against the actuals of the owner's dataset ``dataset_id``."""
    job = await ctx.db.call(succeeded_job, ctx, principal, job_id)
    if not isinstance(job, PredictionJob):
        raise BadRequest("accuracy is measured for prediction jobs")

    def lookup() -> tuple[Dataset, Model]:
        with ctx.db.session() as session:
            return datasets.get_or_404(session, principal.owner, dataset_id), models.get_or_404(
                session, principal.owner, job.model_id
            )

    dataset, model = await ctx.db.call(lookup)
    frame = await forecast_frame(ctx, job)
    sales, stock = await dataset_files(ctx, dataset)
    result = await ctx.db.call(
        score,
        frame,
        sales,
        dataset.filename,
        stock,
        dataset.stock_filename,
        Frequency(model.frequency),
        list(model.quantiles),
    )
    for name, value in result["overall"].items():
        if isinstance(value, int | float):
            ctx.metrics.model_quality.labels(name, "accuracy").set(value)
    return {"job_id": job_id, "dataset_id": dataset_id, "model_id": model.id, **result}
