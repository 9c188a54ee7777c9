"""``/api/v1/results/{job_id}``: a succeeded job's results as JSON or files, a signed download URL, plots,
and the accuracy of a stored forecast against newer actuals."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Query, Request, Response

from plastinka_api.auth import Viewer
from plastinka_api.context import AppContext, get_context
from plastinka_api.errors import BadRequest, NotFound, error_responses
from plastinka_api.keys.service import Principal
from plastinka_api.pagination import Paginated100
from plastinka_api.results import exports, orders, series, service
from plastinka_api.results.plots import fan_chart_png, history_panel
from plastinka_api.results.schemas import DownloadLink, OrderList, RecordsPage
from plastinka_api.results.service import artifact, forecast_frame, forecast_rows, succeeded_job, training_summary
from plastinka_schemas import Artifact, ForecastPage, Frequency, TrainingResult
from plastinka_store.tables import PredictionJob, TrainingJob

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
    lang: Annotated[exports.Lang, Query(description=LANG_HELP)] = "en",
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
                lang,
            )
        return TrainingResult(job_id=job.id, model_id=job.model_id or "", metrics=metrics, backtest=backtest)
    assert isinstance(job, PredictionJob)
    frame = await forecast_frame(ctx, job)
    if item_id is not None:
        item_id = await service.record_id(ctx, principal.owner, job, item_id)
        frame = frame.filter(pl.col("item_id") == item_id)
    if format in ("csv", "xlsx"):
        frame = orders.with_order_columns(frame, await orders.order_frame(ctx, job))
    if format != "json":
        return _file(frame, format, f"{job_id}-forecast", lang)
    rows = frame.slice(page.offset, page.limit)
    return ForecastPage(
        job_id=job.id, total=frame.height, offset=page.offset, limit=page.limit, rows=forecast_rows(rows)
    )


LANG_HELP = "Headers and CSV dialect: `en` (column names, plain CSV) or `ru` (Russian headers, Excel-ready CSV)."


def _file(frame: pl.DataFrame, fmt: str, stem: str, lang: exports.Lang = "en", sheet: str = "forecast") -> Response:
    body = exports.export(frame, fmt, lang, sheet=sheet)  # type: ignore[arg-type]
    return Response(
        body,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )


@router.get(
    "/{job_id}/download",
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
    ref = artifact(job, Artifact.FORECAST if isinstance(job, PredictionJob) else Artifact.MODEL)
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


@router.get(
    "/{job_id}/records",
    summary="The per-record table of a prediction: forecast per period, likely range and suggested order",
    description=(
        "One row per record with its barcode, artist, album, stock, expected sales per period, the likely range "
        "and the order list's columns. `q` searches barcode, artist and album (case-insensitive substring); "
        "`sort` names a column, `-` first for descending."
    ),
)
async def prediction_records(
    job_id: str,
    request: Request,
    principal: Viewer,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    q: Annotated[str | None, Query(max_length=200, description="Substring of barcode, artist or album")] = None,
    sort: Annotated[orders.SortKey, Query(description="Column; `-` prefix = descending")] = "-suggested_order",
) -> RecordsPage:
    ctx = get_context(request)
    job = await _prediction(ctx, principal, job_id, "the per-record table")
    table = await orders.records(ctx, job)
    selected = await ctx.db.call(orders.select, table, q, sort)
    return RecordsPage(
        **table.page_head(job.id, selected.len(), offset, limit),
        periods=table.periods,
        low_level=table.low_level,
        high_level=table.high_level,
        rows=orders.page_rows(table, selected, offset, limit),
    )


@router.get(
    "/{job_id}/orders",
    response_model=OrderList,
    summary="The order list of a prediction as JSON, CSV or XLSX (`lang=ru` for a Russian Excel)",
    description=(
        "Per record: copies in stock, expected demand over `cover_months`, the demand covered with probability "
        "`service_level`, and the copies to order, largest orders first."
    ),
    responses={200: {"content": {m: {} for m in exports.MEDIA_TYPES.values() if m != exports.MEDIA_TYPES["parquet"]}}},
)
async def prediction_orders(
    job_id: str,
    request: Request,
    principal: Viewer,
    page: Paginated100,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
    lang: Annotated[exports.Lang, Query(description=LANG_HELP)] = "en",
) -> Any:
    ctx = get_context(request)
    job = await _prediction(ctx, principal, job_id, "the order list")
    table = await orders.records(ctx, job)
    frame = await ctx.db.call(orders.order_download, table)
    if format != "json":
        return _file(frame, format, f"{job_id}-orders", lang, "orders")
    return OrderList(
        **table.page_head(job.id, frame.height, page.offset, page.limit),
        rows=frame.slice(page.offset, page.limit).to_dicts(),
    )


async def _prediction(ctx: AppContext, principal: Principal, job_id: str, what: str) -> PredictionJob:
    job = await ctx.db.call(succeeded_job, ctx, principal, job_id)
    if not isinstance(job, PredictionJob):
        raise BadRequest(f"{what} is made for prediction jobs")
    return job


@router.get(
    "/{job_id}/series",
    summary="Chart data of a prediction: a record's (or the shop's) history, median and likely range",
    description=(
        "The numbers behind a fan chart: the sales history and, per forecast period, the mean, the median and the "
        "likely range, with a title `Исполнитель — Альбом` (or the shop's total when `item_id` is omitted). "
        "Any key of the job's owner may read it; a training job answers 400."
    ),
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
