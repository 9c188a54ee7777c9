"""``/api/v1/results/{job_id}``: a succeeded job's results as JSON or files, a signed download URL, plots,
and the accuracy of a stored forecast against newer actuals."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Query, Request, Response

from plastinka_api import artifacts
from plastinka_api.auth import Viewer
from plastinka_api.context import get_context
from plastinka_api.errors import BadRequest, NotFound, error_responses
from plastinka_api.pagination import Paginated100
from plastinka_api.results import exports, service
from plastinka_api.results.plots import fan_chart_png, history_panel
from plastinka_api.results.schemas import DownloadLink
from plastinka_api.results.service import artifact, forecast_frame, forecast_rows, succeeded_job, training_summary
from plastinka_jobs.tables import PredictionJob, TrainingJob
from plastinka_schemas import ForecastPage, Frequency, TrainingResult

router = APIRouter(prefix="/results", tags=["results"], responses=error_responses(400, 401, 403, 404, 409, 422))


@router.get(
    "/{job_id}",
    response_model=TrainingResult | ForecastPage,
    summary="Results: training -> model, metrics, backtest; prediction -> paged forecast rows (or a file)",
    description=(
        "The result of a succeeded job of the key's owner. A training job answers its model id, "
        "metrics and backtest table; a prediction job answers a page of forecast rows (one per record "
        "and period: mean and quantiles), or the whole forecast as a csv, xlsx or parquet file with "
        "`format`. A job that has not succeeded answers 409. Any role may call it."
    ),
    responses={200: {"content": {m: {} for m in exports.MEDIA_TYPES.values()}}},
)
async def get_results(
    job_id: str,
    request: Request,
    principal: Viewer,
    page: Paginated100,
    format: Annotated[Literal["json", "csv", "xlsx", "parquet"], Query()] = "json",
    item_id: Annotated[str | None, Query(max_length=200, description="Only this item's rows")] = None,
) -> Any:
    ctx = get_context(request)
    job = await ctx.db.call(succeeded_job, ctx, principal, job_id)
    if isinstance(job, TrainingJob):
        metrics, backtest = training_summary(job)
        if format != "json":
            return _file(
                pl.DataFrame(backtest) if backtest else pl.DataFrame({"note": ["no backtest table"]}),
                format,
                f"{job_id}-backtest",
            )
        return TrainingResult(job_id=job.id, model_id=job.model_id or "", metrics=metrics, backtest=backtest)
    assert isinstance(job, PredictionJob)
    frame = await forecast_frame(ctx, job)
    if item_id is not None:
        item_id = await service.record_id(ctx, principal.owner, job, item_id)
        frame = frame.filter(pl.col("item_id") == item_id)
    if format != "json":
        return _file(frame, format, f"{job_id}-forecast")
    rows = frame.slice(page.offset, page.limit)
    return ForecastPage(
        job_id=job.id, total=frame.height, offset=page.offset, limit=page.limit, rows=forecast_rows(rows)
    )


def _file(frame: pl.DataFrame, fmt: str, stem: str) -> Response:
    body = exports.export(frame, fmt)  # type: ignore[arg-type]
    return Response(
        body,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )


@router.get(
    "/{job_id}/download",
    response_model=DownloadLink,
    summary="A short-lived signed URL of the result file (forecast parquet, or the model)",
    description=(
        "A signed URL, valid for a few minutes and usable without a key, of a succeeded job's result "
        "file: the forecast (parquet) of a prediction, or the model archive of a training. Answers "
        "the URL with its expiry, size and sha256. Any role may call it."
    ),
)
async def download(job_id: str, request: Request, principal: Viewer) -> DownloadLink:
    ctx = get_context(request)
    job = await ctx.db.call(succeeded_job, ctx, principal, job_id)
    ref = artifact(job, artifacts.FORECAST if isinstance(job, PredictionJob) else artifacts.MODEL)
    signed = await ctx.store.presign_get(ref.key, expires_in=ctx.settings.signed_url_ttl_s)
    return DownloadLink(url=signed.url, expires_at=signed.expires_at.isoformat(), sha256=ref.sha256, size=ref.size)


@router.get(
    "/{job_id}/plot",
    response_class=Response,
    summary="PNG fan chart of an item (or of the total)",
    description=(
        "Draws a prediction's fan chart as a PNG: the record's sales history, the forecast mean and "
        "its quantile bands, for one record (`item_id`) or for the shop's total when it is omitted. "
        "Only prediction jobs have charts; a training job answers 400. Any role may call it."
    ),
    responses={200: {"content": {"image/png": {}}}},
)
async def plot(
    job_id: str,
    request: Request,
    principal: Viewer,
    item_id: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    ctx = get_context(request)
    job = await ctx.db.call(succeeded_job, ctx, principal, job_id)
    if not isinstance(job, PredictionJob):
        raise BadRequest("plots are drawn for prediction jobs")
    frame = await forecast_frame(ctx, job)
    if item_id is not None:
        asked, item_id = item_id, await service.record_id(ctx, principal.owner, job, item_id)
        if frame.filter(pl.col("item_id") == item_id).is_empty():
            raise NotFound("item", asked)
    dataset, model = await ctx.db.call(service.history_inputs, ctx, principal.owner, job)
    history = await history_panel(ctx, dataset, Frequency(model.frequency))
    png = await ctx.db.call(fan_chart_png, history, frame, item_id)
    return Response(png, media_type="image/png")


@router.get(
    "/{job_id}/accuracy",
    summary="Score a stored forecast against a newer dataset's actuals",
    description=(
        "Scores a succeeded prediction against the sales a newer dataset of the owner (`dataset_id`) "
        "recorded for the forecast periods, with the forecasting package's metrics, and answers them. "
        "A training job answers 400. Any role may call it."
    ),
)
async def accuracy(
    job_id: str,
    request: Request,
    principal: Viewer,
    dataset_id: Annotated[str, Query(min_length=1, max_length=100)],
) -> dict[str, Any]:
    return await service.accuracy(get_context(request), principal, job_id, dataset_id)
