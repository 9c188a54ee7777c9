"""``/api/v1/datasets``: upload (multipart), list, get."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile

from plastinka_api import examples
from plastinka_api.auth import AnalystScope, ViewerScope
from plastinka_api.datasets import service
from plastinka_api.datasets.service import dataset_view
from plastinka_api.errors import ErrorBody, error_responses
from plastinka_api.pagination import Paginated
from plastinka_schemas import DatasetPublic, Page

router = APIRouter(prefix="/datasets", tags=["datasets"], responses=error_responses(400, 401, 403, 404, 422))


@router.post(
    "",
    status_code=201,
    summary="Upload a sales export (and optionally a stock snapshot)",
    openapi_extra=examples.request_examples("multipart/form-data", examples.UPLOAD),
    description=(
        "Reads the shop's sales export (`file`: xlsx, xls, csv or parquet, with the shop's Russian "
        "headers) and, optionally, a stock snapshot (`stock_file`), checks every row and stores both. "
        "Answers 201 with the dataset and its validation report (records, copies sold, period, what "
        "was repaired or dropped, with counts), or 200 with the existing dataset when the same files "
        "were uploaded before. A file that cannot be used is refused with 422 naming the file, row, "
        "column and reason; nothing is stored then. Needs an analyst or admin key."
    ),
    responses={
        200: {"description": "An identical upload already exists: that dataset"},
        413: {"model": ErrorBody, "description": "A file is larger than the limit"},
        422: {"model": ErrorBody, "description": "The file cannot be used: file, row, column and reason"},
    },
)
async def upload(
    response: Response,
    scope: AnalystScope,
    file: Annotated[UploadFile, File(description="Sales export: xlsx, xls, csv or parquet")],
    stock_file: Annotated[UploadFile | None, File(description="Optional stock snapshot")] = None,
) -> DatasetPublic:
    row, created = await service.ingest(scope.ctx, scope.owner, file, stock_file)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/datasets/{row.id}"
    return dataset_view(row)


@router.get(
    "",
    summary="List datasets, newest first",
    description=(
        "A page of the datasets of the key's owner, newest first, each with its validation report. "
        "Any role may call it."
    ),
)
async def listing(scope: ViewerScope, page: Paginated) -> Page[DatasetPublic]:
    total, rows = await scope.call(service.listing, page)
    return page.page(total, [dataset_view(r) for r in rows])


@router.get(
    "/{dataset_id}",
    summary="One dataset with its validation report",
    description=(
        "The dataset of the key's owner with this id: file names, sizes, checksum and the validation "
        "report of its upload. Another owner's dataset answers 404. Any role may call it."
    ),
)
async def get(dataset_id: str, scope: ViewerScope) -> DatasetPublic:
    return dataset_view(await scope.call(service.get, dataset_id))
