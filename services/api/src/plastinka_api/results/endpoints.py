"""``/api/v1/results/{job_id}``: a succeeded job's results as JSON or files, a signed download URL, plots,
and the accuracy of a stored forecast against newer actuals."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Query, Request, Response

from plastinka_api.auth import Viewer
from plastinka_api.context import get_context
from plastinka_api.errors import BadRequest, NotFound, error_responses
from plastinka_api.pagination import Paginated100
from plastinka_api.results import exports, series, service
from plastinka_api.results.plots import fan_chart_png, history_panel
from plastinka_api.results.schemas import DownloadLink
from plastinka_api.results.service import artifact, forecast_frame, forecast_rows, succeeded_job, training_summary
from plastinka_jobs.tables import PredictionJob, TrainingJob
from plastinka_schemas import Artifact, ForecastPage, Frequency, TrainingResult

router = APIRouter(prefix="/results", tags=["results"], responses=error_responses(400, 401, 403, 404, 409, 422))


@router.get(
    "/{job_id}",
    response_model=TrainingResult | ForecastPage,
    summary="Results: training -> model, metrics, backtest; prediction -> paged forecast rows (or a file)",
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
)
async def download(job_id: str, request: Request, principal: Viewer) -> DownloadLink:
    ctx = get_context(request)
    job = await ctx.db.call(succeeded_job, ctx, principal, job_id)
    ref = artifact(job, Artifact.FORECAST if isinstance(job, PredictionJob) else Artifact.MODEL)
    signed = await ctx.store.presign_get(ref.key, expires_in=ctx.settings.signed_url_ttl_s)
    return DownloadLink(url=signed.url, expires_at=signed.expires_at.isoformat(), sha256=ref.sha256, size=ref.size)


@router.get(
    "/{job_id}/plot",
    response_class=Response,
    summary="PNG fan chart of an item (or of the total)",
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


@router.get("/{job_id}/accuracy", summary="Score a stored forecast against a newer dataset's actuals")
async def accuracy(
    job_id: str,
    request: Request,
    principal: Viewer,
    dataset_id: Annotated[str, Query(min_length=1, max_length=100)],
) -> dict[str, Any]:
    return await service.accuracy(get_context(request), principal, job_id, dataset_id)


@router.get(
    "/{job_id}/series",
    response_model=series.ChartSeries,
    summary="Chart data of a prediction: a record's (or the shop's) history, median and likely range",
)
async def chart_series(
    job_id: str,
    request: Request,
    principal: Viewer,
    item_id: Annotated[
        str | None, Query(max_length=200, description="A record's barcode or id; omitted: the shop's total")
    ] = None,
) -> series.ChartSeries:
    return await series.chart(get_context(request), principal, job_id, item_id)
