"""From bytes to one table of cells: sniff the content (not only the name), apply the size guards."""

from __future__ import annotations

from ._cells import check_cells
from ._csv import read_csv
from ._errors import DataError
from ._limits import IngestLimits
from ._parquet import read_parquet
from ._table import RawTable
from ._xlsx import read_workbook

ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


#: Leading bytes of files a shop might upload by mistake, and what to call them.
_NOT_TABLES = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"\x7fELF", "a program (ELF)"),
    (b"MZ", "a Windows program"),
    (b"{\\rtf", "an RTF document"),
)


def looks_like(data: bytes) -> str | None:
    """What a non-tabular file looks like, from its first bytes; None when it may be a table."""
    binary = b"\x00" in data[:64]
    for magic, what in _NOT_TABLES:
        # two-byte signatures could begin a text line: they count only on binary content
        if data.startswith(magic) and (len(magic) > 2 or binary):
            return what
    if data[8:12] == b"WEBP" and data.startswith(b"RIFF"):
        return "a WebP image"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if head.startswith(b"<?xml"):
        return "an XML document (an 'XML spreadsheet' export: save it as xlsx or csv)"
    return None


def read_tables(data: bytes, file: str, role: str, limits: IngestLimits) -> list[RawTable]:
    """Sniff the content (not only the extension) and read it: one table, or one per sheet of a workbook that
    holds several, its cells within the caps. Every refusal is a :class:`DataError`."""
    tables = _read(data, file, role, limits)
    check_cells(tables, limits)
    return tables


def _read(data: bytes, file: str, role: str, limits: IngestLimits) -> list[RawTable]:
    if not data:
        raise DataError("the file is empty", file=file)
    if len(data) > limits.max_file_bytes:
        raise DataError(f"{len(data)} bytes is more than the limit of {limits.max_file_bytes}", file=file)
    suffix = file.rsplit(".", 1)[-1].casefold() if "." in file else ""
    what = looks_like(data)
    if what is not None:
        raise DataError(
            f"the file looks like {what}, not a table: upload the export as xlsx, xls, csv or parquet", file=file
        )
    if data.startswith(ZIP_MAGIC):
        return read_workbook(data, file, role, limits)
    if data.startswith(PARQUET_MAGIC):
        return [read_parquet(data, file, role, limits)]
    if data.startswith(OLE_MAGIC):
        return read_workbook(data, file, role, limits, legacy=True)
    if suffix in {"xlsx", "xlsm", "xls", "parquet"}:
        raise DataError(f"the content is not a .{suffix} file (wrong extension or damaged file)", file=file)
    return [read_csv(data, file, role, limits)]
