"""Ingestion: shop exports or the canonical long format in, validated ``SalesData`` out."""

from ._bounded import MemoryLimitError, NamedFile, UploadCheck, check_upload
from ._errors import DataError
from ._identity import item_name_key, normalize_barcode
from ._index import index_document, resolve_ids
from ._limits import DEFAULT_LIMITS, IngestLimits
from ._load import load_sales, load_sales_bytes, validate_sales
from ._report import dataset_report, format_report

__all__ = [
    "DEFAULT_LIMITS",
    "DataError",
    "IngestLimits",
    "MemoryLimitError",
    "NamedFile",
    "UploadCheck",
    "check_upload",
    "dataset_report",
    "format_report",
    "index_document",
    "item_name_key",
    "load_sales",
    "load_sales_bytes",
    "normalize_barcode",
    "resolve_ids",
    "validate_sales",
]
