"""Reading Excel workbooks: the sheet whose first rows hold the headers, with zip-bomb guards first."""

from __future__ import annotations

import io
import re
import zipfile

import fastexcel
import polars as pl

from ._errors import DataError
from ._limits import IngestLimits
from ._table import RawTable, check_rows, no_header_error, other_role_hint, pick_header

_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_RELATIONSHIP_TAG = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_FIRST_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"[A-Z]+(\d+)\"[^>]*?(?<!/)>\s*<(?:\w+:)?(?:v|is|f)\b")


def _attribute(tag: bytes, name: bytes) -> bytes | None:
    found = re.search(rb"\b" + re.escape(name) + rb"=\"([^\"]*)\"", tag)
    return found.group(1) if found else None


def _check_archive(data: bytes, file: str, limits: IngestLimits) -> zipfile.ZipFile:
    """Refuse archives that are not workbooks or that would inflate beyond the caps, before any parsing."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DataError("not a valid xlsx file (damaged zip archive)", file=file) from error
    if len(members) > limits.max_zip_entries:
        raise DataError(
            f"the workbook has {len(members)} parts, more than the limit of {limits.max_zip_entries}", file=file
        )
    inflated = sum(member.file_size for member in members)
    if inflated > limits.max_uncompressed_bytes:
        raise DataError(
            f"the workbook decompresses to {inflated} bytes, more than the limit of {limits.max_uncompressed_bytes}",
            file=file,
        )
    if "xl/workbook.xml" not in archive.namelist():
        raise DataError("a zip archive but not an xlsx workbook", file=file)
    try:
        # Reads every member with its declared size as the bound and checks CRCs: a lying header fails here.
        broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise DataError("not a valid xlsx file (damaged zip archive)", file=file) from error
    if broken is not None:
        raise DataError(f"not a valid xlsx file (damaged part {broken})", file=file)
    return archive


def _first_used_rows(archive: zipfile.ZipFile) -> list[int]:
    """Per sheet, the 1-based row of the first cell with content: where the reader's row 0 sits in the file."""
    workbook = archive.read("xl/workbook.xml")
    rels = archive.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in archive.namelist() else b""
    targets = {_attribute(tag, b"Id"): _attribute(tag, b"Target") or b"" for tag in _RELATIONSHIP_TAG.findall(rels)}
    rows = []
    for tag in _SHEET_TAG.findall(workbook):
        target = targets.get(_attribute(tag, b"r:id"), b"").decode("utf-8", "replace").lstrip("/")
        path = target if target.startswith("xl/") else f"xl/{target}"
        rows.append(_first_used_row(archive, path))
    return rows


def _first_used_row(archive: zipfile.ZipFile, path: str) -> int:
    if path not in archive.namelist():
        return 1
    with archive.open(path) as stream:
        tail = b""
        while chunk := stream.read(1 << 16):
            window = tail + chunk
            found = _FIRST_CELL.search(window)
            if found:
                return int(found.group(1))
            tail = window[-512:]
    return 1


def read_workbook(data: bytes, file: str, role: str, limits: IngestLimits, *, legacy: bool = False) -> RawTable:
    first_rows: list[int] = []
    if not legacy:
        first_rows = _first_used_rows(_check_archive(data, file, limits))
    try:
        reader = fastexcel.read_excel(data)
        names = reader.sheet_names
        previews = [
            reader.load_sheet(index, header_row=None, n_rows=limits.header_search_rows, dtypes="string").to_polars()
            for index in range(len(names))
        ]
    except Exception as error:  # fastexcel raises its own hierarchy for damaged workbooks
        raise DataError(f"the workbook cannot be read ({type(error).__name__})", file=file) from error
    best = None
    for index, preview in enumerate(previews):
        found = pick_header(list(enumerate(preview.rows())), role)
        if found and (best is None or found[1].looks_like(role) > best[2].looks_like(role)):
            best = (index, found[0], found[1])
    if best is None:
        hints = (other_role_hint(list(enumerate(p.rows())), role) for p in previews)
        where = "any sheet (" + ", ".join(names) + ")"
        raise no_header_error(file, role, where, next(filter(None, hints), ""), limits)
    sheet_index, header_index, header = best
    try:
        sheet = reader.load_sheet(sheet_index, header_row=None, dtypes="string")
        check_rows(file, sheet.total_height, limits)
        frame = sheet.to_polars()
    except DataError:
        raise
    except Exception as error:
        raise DataError(f"sheet '{names[sheet_index]}' cannot be read ({type(error).__name__})", file=file) from error
    frame = frame.slice(header_index + 1)
    frame = frame.rename({name: f"c{index}" for index, name in enumerate(frame.columns)}).cast(pl.Utf8)
    offset = first_rows[sheet_index] if sheet_index < len(first_rows) else 1
    return RawTable(
        file=file,
        frame=frame,
        header=header,
        header_row=offset + header_index,
        first_row=offset + header_index + 1,
        sheet=names[sheet_index],
    )
