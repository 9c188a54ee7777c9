"""Datasets' rules. Uploads: spooled with a size cap while hashed, validated by the forecasting ingestion, then stored
content-addressed (``datasets/<sha256>/<name>``) and recorded. An identical upload returns the existing dataset.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from fastapi import UploadFile
from sqlmodel import Session

from plastinka_api.context import AppContext
from plastinka_api.datasets import repository
from plastinka_api.datasets.items import INDEX_FIELD, index_bytes, index_key, store_index
from plastinka_api.errors import BadRequest, PayloadTooLarge, UnprocessableUpload
from plastinka_api.pagination import Pagination
from plastinka_forecasting.ingest import DataError, IngestLimits, dataset_report, load_sales_bytes
from plastinka_jobs.ids import new_id
from plastinka_jobs.tables import Dataset
from plastinka_schemas import DatasetPublic, DatasetReport
from plastinka_storage.checksums import file_sha256
from plastinka_storage.keys import dataset_key

_CHUNK = 1024 * 1024
#: Issues listed in the stored report (``issues_total``, ``issue_counts`` and ``truncated`` stay exact).
MAX_REPORTED_ISSUES = 500


@dataclass(frozen=True)
class Spooled:
    """An upload on local disk with its digest."""

    path: Path
    filename: str
    sha256: str
    size: int


async def spool(upload: UploadFile, directory: Path, field: str, limit: int) -> Spooled:
    """Copy an upload to ``directory`` chunk by chunk, hashing it, refusing it past ``limit`` bytes."""
    filename = (upload.filename or field).strip() or field
    if len(filename) > 300:
        raise BadRequest(f"{field}: file name longer than 300 characters")
    digest = hashlib.sha256()
    size = 0
    path = directory / field
    with path.open("wb") as out:
        while chunk := await upload.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(
                    f"{field} ({filename}) is larger than the limit of {limit} bytes",
                    details=[{"file": filename, "limit_bytes": limit}],
                )
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise UnprocessableUpload(
            f"{field} ({filename}) is empty",
            details=[{"file": filename, "row": None, "column": None, "reason": "empty file"}],
        )
    return Spooled(path, filename, digest.hexdigest(), size)


def check_parquet_rows(spooled: Spooled, limit: int) -> None:
    """Refuse a parquet file over the row cap from the count in its footer, before a row is decoded: a few
    hundred KiB of parquet can decode to gigabytes, and the ingestion counts rows only after reading them."""
    with spooled.path.open("rb") as handle:
        if handle.read(4) != b"PAR1":
            return
    try:
        rows = int(pl.scan_parquet(spooled.path).select(pl.len()).collect().item())
    except Exception:  # a damaged footer: the ingestion reports it in its own words
        return
    if rows > limit:
        reason = f"{rows} rows is more than the limit of {limit}"
        raise UnprocessableUpload(
            f"{spooled.filename}: {reason}",
            details=[{"file": spooled.filename, "row": None, "column": None, "reason": reason}],
        )


@dataclass(frozen=True)
class Validated:
    """What ingestion made of an upload: the report, and the item index (JSON bytes) kept next to it."""

    report: DatasetReport
    index: bytes


def validate(sales: Spooled, stock: Spooled | None, limits: IngestLimits | None = None) -> Validated:
    """Run the forecasting ingestion; a file it cannot use at all is a 422 naming file, row and column."""
    limits = limits or IngestLimits()
    for spooled in (sales, stock):
        if spooled is not None:
            check_parquet_rows(spooled, limits.max_rows)
    try:
        data = load_sales_bytes(
            sales.path.read_bytes(),
            sales.filename,
            stock.path.read_bytes() if stock else None,
            stock.filename if stock else None,
            limits=limits,
        )
    except DataError as exc:
        raise UnprocessableUpload(
            str(exc), details=[{"file": exc.file, "row": exc.row, "column": exc.column, "reason": exc.reason}]
        ) from None
    item_ids = data.attributes.get_column("item_id").to_list()
    return Validated(dataset_report(data, max_issues=MAX_REPORTED_ISSUES), index_bytes(item_ids, data.report.aliases))


def _existing(session: Session, owner: str, sales: Spooled, stock: Spooled | None) -> Dataset | None:
    return repository.identical(session, owner, sales.sha256, stock.sha256 if stock else None)


def spooled_path(path: Path) -> Spooled:
    """A file already on disk (the sample dataset), hashed like an upload."""
    sha256, size = file_sha256(path)
    return Spooled(path, path.name, sha256, size)


async def ingest(ctx: AppContext, owner: str, file: UploadFile, stock_file: UploadFile | None) -> tuple[Dataset, bool]:
    """An upload: spool, then :func:`register`. Returns ``(dataset, created)``."""
    limit = ctx.settings.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="plastinka-upload-") as tmp:
        directory = Path(tmp)
        sales = await spool(file, directory, "file", limit)
        stock = await spool(stock_file, directory, "stock_file", limit) if stock_file is not None else None
        return await register(ctx, owner, sales, stock)


async def register(ctx: AppContext, owner: str, sales: Spooled, stock: Spooled | None) -> tuple[Dataset, bool]:
    """Validate, store content-addressed and record; an identical dataset of ``owner`` is returned as is."""

    def find() -> Dataset | None:
        with ctx.db.session() as session:
            return _existing(session, owner, sales, stock)

    found = await ctx.db.call(find)
    if found is not None:
        return found, False
    limits = IngestLimits(max_rows=ctx.settings.max_upload_rows)
    validated = await ctx.db.call(validate, sales, stock, limits)
    report = validated.report
    ctx.metrics.rows.labels("ingest").inc(report.sales_rows + (report.stock_rows or 0))
    sales_key = dataset_key(sales.sha256, sales.filename)
    stock_key = dataset_key(stock.sha256, stock.filename) if stock else None
    await _store(ctx, sales_key, sales)
    if stock and stock_key:
        await _store(ctx, stock_key, stock)
    index_ref = await store_index(ctx, index_key(sales.sha256, stock.sha256 if stock else None), validated.index)
    row = Dataset(
        id=new_id("ds"),
        owner=owner,
        filename=sales.filename,
        sha256=sales.sha256,
        size_bytes=sales.size,
        object_key=sales_key,
        stock_filename=stock.filename if stock else None,
        stock_sha256=stock.sha256 if stock else None,
        stock_size_bytes=stock.size if stock else None,
        stock_key=stock_key,
        report=report.model_dump(mode="json") | {INDEX_FIELD: index_ref},
    )

    def insert() -> tuple[Dataset, bool]:
        with ctx.db.write_session() as session:
            # A concurrent identical upload may have won: answer with its row, keep one record.
            again = _existing(session, owner, sales, stock)
            if again is not None:
                return again, False
            return repository.add(session, row), True

    return await ctx.db.call(insert)


async def _store(ctx: AppContext, key: str, spooled: Spooled) -> None:
    """Content-addressed: bytes already stored under this key (any owner's upload) are not written again."""
    if await ctx.store.exists(key):
        info = await ctx.store.head(key)
        if info.sha256 == spooled.sha256:
            return
    await ctx.store.put_file(key, spooled.path)


def listing(ctx: AppContext, owner: str, pagination: Pagination) -> tuple[int, list[Dataset]]:
    with ctx.db.session() as session:
        return repository.page(session, owner, pagination)


def get(ctx: AppContext, owner: str, dataset_id: str) -> Dataset:
    with ctx.db.session() as session:
        return repository.get_or_404(session, owner, dataset_id)


def has_any(ctx: AppContext, owner: str) -> bool:
    with ctx.db.session() as session:
        return repository.has_any(session, owner)


def dataset_view(row: Dataset) -> DatasetPublic:
    return DatasetPublic.model_validate(row)
