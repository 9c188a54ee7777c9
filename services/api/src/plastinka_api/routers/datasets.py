"""``/api/v1/datasets``: upload (multipart), list, get."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Response, UploadFile

from plastinka_api.auth import Analyst, Viewer
from plastinka_api.context import get_context
from plastinka_api.errors import ErrorBody, NotFound, error_responses
from plastinka_api.uploads import get_dataset, ingest, list_datasets
from plastinka_api.views import dataset_view
from plastinka_schemas import DatasetPublic, Page

router = APIRouter(prefix="/datasets", tags=["datasets"], responses=error_responses(400, 401, 403, 404, 422))


@router.post(
    "",
    status_code=201,
    response_model=DatasetPublic,
    summary="Upload a sales export (and optionally a stock snapshot)",
    responses={
        200: {"description": "An identical upload already exists: that dataset"},
        413: {"model": ErrorBody, "description": "A file is larger than the limit"},
        422: {"model": ErrorBody, "description": "The file cannot be used: file, row, column and reason"},
    },
)
async def upload(
    request: Request,
    response: Response,
    principal: Analyst,
    file: Annotated[UploadFile, File(description="Sales export: xlsx, xls, csv or parquet")],
    stock_file: Annotated[UploadFile | None, File(description="Optional stock snapshot")] = None,
) -> DatasetPublic:
    ctx = get_context(request)
    row, created = await ingest(ctx, principal.owner, file, stock_file)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/datasets/{row.id}"
    return dataset_view(row)


@router.get("", response_model=Page[DatasetPublic], summary="List datasets, newest first")
async def listing(
    request: Request,
    principal: Viewer,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Page[DatasetPublic]:
    ctx = get_context(request)

    def work() -> Page[DatasetPublic]:
        with ctx.db.session() as session:
            total, rows = list_datasets(session, principal.owner, offset, limit)
        return Page[DatasetPublic](total=total, offset=offset, limit=limit, items=[dataset_view(r) for r in rows])

    return await ctx.db.call(work)


@router.get("/{dataset_id}", response_model=DatasetPublic, summary="One dataset with its validation report")
async def get(dataset_id: str, request: Request, principal: Viewer) -> DatasetPublic:
    ctx = get_context(request)

    def work() -> DatasetPublic:
        with ctx.db.session() as session:
            row = get_dataset(session, principal.owner, dataset_id)
        if row is None:
            raise NotFound("dataset", dataset_id)
        return dataset_view(row)

    return await ctx.db.call(work)
