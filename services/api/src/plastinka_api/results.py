"""Reading a succeeded job's results back from storage (verified), with a small cache of parsed forecasts."""

from __future__ import annotations

import io
import math
from collections import OrderedDict
from typing import Any

import polars as pl

from plastinka_api import artifacts
from plastinka_api.context import AppContext
from plastinka_api.errors import Conflict, NotFound
from plastinka_api.keys.service import Principal
from plastinka_jobs.tables import JobRow, PredictionJob, TrainingJob
from plastinka_schemas import ArtifactManifest, ArtifactRef, ForecastRow, JobStatus

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


def artifact(job: JobRow, name: str) -> ArtifactRef:
    manifest = ArtifactManifest.model_validate(job.manifest or {"artifacts": {}})
    try:
        return manifest.get(name)
    except KeyError:
        raise NotFound("artifact", f"{job.id}/{name}") from None


async def forecast_frame(ctx: AppContext, job: PredictionJob) -> pl.DataFrame:
    ref = artifact(job, artifacts.FORECAST)
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
    """(metrics, backtest table rows).

    The train function's backtest report (``result["backtest"]``: ``rows`` plus its windows and note) gives the
    table; what describes it (windows, cut-offs, units, why windows were skipped) goes under ``metrics.backtest``.
    Older results carried the table as a list under ``metrics.backtest``.
    """
    result = job.result or {}
    metrics = dict(result.get("metrics") or {})
    backtest = result.get("backtest")
    if isinstance(backtest, dict):
        rows = backtest.get("rows")
        metrics["backtest"] = {k: v for k, v in backtest.items() if k != "rows"}
    else:
        rows = metrics.pop("backtest", None) or backtest
    return metrics, [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
