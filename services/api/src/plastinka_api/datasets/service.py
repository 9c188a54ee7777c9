"""Datasets' rules. Uploads: spooled with a size cap while hashed, validated by the forecasting ingestion in a child
process with a memory cap, then stored content-addressed (``datasets/<sha256>/<name>``) and recorded. An identical
upload returns the existing dataset.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from fastapi import UploadFile
from sqlmodel import Session

from plastinka_api.context import AppContext
from plastinka_api.datasets import repository
from plastinka_api.datasets.items import INDEX_FIELD, index_bytes, index_key, store_index
from plastinka_api.errors import BadRequest, PayloadTooLarge, UnprocessableUpload
from plastinka_api.pagination import Pagination
from plastinka_forecasting.ingest import DataError, IngestLimits, MemoryLimitError, NamedFile, check_upload
from plastinka_schemas import DatasetPublic, DatasetReport
from plastinka_storage.checksums import file_sha256
from plastinka_storage.keys import dataset_key
from plastinka_store.ids import new_id
from plastinka_store.tables import Dataset

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


@dataclass(frozen=True)
class Validated:
    """What ingestion made of an upload: the report, and the item index (JSON bytes) kept next to it."""

    report: DatasetReport
    index: bytes


@functools.cache
def _parsing_slots(parsers: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(parsers)


def validate(
    sales: Spooled,
    stock: Spooled | None,
    limits: IngestLimits | None = None,
    *,
    memory_bytes: int = 512 * 1024 * 1024,
    parsers: int = 1,
    timeout_s: float | None = None,
) -> Validated:
    """Run the forecasting ingestion in a child process held under ``memory_bytes``, at most ``parsers`` at once:
    a file it cannot use (or that takes longer than ``timeout_s``) is a 422 naming file, row and column; one that
    needs more memory is a 413."""
    limits = limits or IngestLimits()
    with _parsing_slots(parsers):
        try:
            checked = check_upload(
                NamedFile(sales.path, sales.filename),
                NamedFile(stock.path, stock.filename) if stock else None,
                memory_bytes=memory_bytes,
                limits=limits,
                max_issues=MAX_REPORTED_ISSUES,
                timeout_s=timeout_s,
            )
        except MemoryLimitError as exc:
            message = (
                f"{exc.file}: reading it needs more than the upload memory limit of {exc.limit_bytes} bytes "
                "(PLASTINKA_UPLOAD_MEMORY_BYTES)"
            )
            raise PayloadTooLarge(message, details=[{"file": exc.file, "limit_bytes": exc.limit_bytes}]) from None
        except DataError as exc:
            raise UnprocessableUpload(
                str(exc), details=[{"file": exc.file, "row": exc.row, "column": exc.column, "reason": exc.reason}]
            ) from None
    return Validated(checked.report, index_bytes(checked.item_ids, checked.aliases))


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
    settings = ctx.settings
    limits = IngestLimits(
        max_rows=settings.max_upload_rows,
        max_cell_bytes=settings.max_upload_cell_bytes,
        # the text of a file may fill half the parsing memory: the rest is its copies while rows are mapped
        max_decoded_bytes=settings.upload_memory_bytes // 2,
    )
    validated = await ctx.db.call(
        validate,
        sales,
        stock,
        limits,
        memory_bytes=settings.upload_memory_bytes,
        parsers=settings.upload_parsers,
        timeout_s=settings.upload_timeout_s,
    )
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
