"""From bytes to one table of cells: sniff the content (not only the name), apply the size guards."""

from __future__ import annotations

from ._csv import read_csv
from ._errors import DataError
from ._limits import IngestLimits
from ._parquet import read_parquet
from ._table import RawTable
from ._xlsx import read_workbook

ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_tables(data: bytes, file: str, role: str, limits: IngestLimits) -> list[RawTable]:
    """Sniff the content (not only the extension) and read it: one table, or one per sheet of a workbook that
    holds several. Every refusal is a :class:`DataError`."""
    if not data:
        raise DataError("the file is empty", file=file)
    if len(data) > limits.max_file_bytes:
        raise DataError(f"{len(data)} bytes is more than the limit of {limits.max_file_bytes}", file=file)
    suffix = file.rsplit(".", 1)[-1].casefold() if "." in file else ""
    if data.startswith(ZIP_MAGIC):
        return read_workbook(data, file, role, limits)
    if data.startswith(PARQUET_MAGIC):
        return [read_parquet(data, file, role, limits)]
    if data.startswith(OLE_MAGIC):
        return read_workbook(data, file, role, limits, legacy=True)
    if suffix in {"xlsx", "xlsm", "xls", "parquet"}:
        raise DataError(f"the content is not a .{suffix} file (wrong extension or damaged file)", file=file)
    return [read_csv(data, file, role, limits)]
