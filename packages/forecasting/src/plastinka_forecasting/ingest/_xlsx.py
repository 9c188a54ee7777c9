"""Reading Excel workbooks: the sheet whose first rows hold the headers, with zip-bomb guards first."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from typing import Any

import fastexcel
import polars as pl

from ._errors import DataError, reraise_interrupt
from ._limits import IngestLimits
from ._table import RawTable, check_rows, no_header_error, other_role_hint, pick_header

_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_RELATIONSHIP_TAG = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_FIRST_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"[A-Z]+(\d+)\"[^>]*?(?<!/)>\s*<(?:\w+:)?(?:v|is|f)\b")


def _attribute(tag: bytes, name: bytes) -> bytes | None:
    found = re.search(rb"\b" + re.escape(name) + rb"=\"([^\"]*)\"", tag)
    return found.group(1) if found else None


def _what_archive(names: list[str]) -> str:
    if "word/document.xml" in names:
        return "a Word document (docx)"
    if any(name.startswith("ppt/") for name in names):
        return "a PowerPoint presentation (pptx)"
    if "content.xml" in names and "mimetype" in names:
        return "an OpenDocument file (ods/odt): save the sheet as xlsx or csv"
    return f"a zip archive ({len(names)} file{'' if len(names) == 1 else 's'})"


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
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > limits.ratio_grace_bytes and ratio > limits.max_entry_ratio:
            raise DataError(
                f"the workbook part {member.filename} inflates {ratio:.0f} times ({member.compress_size} bytes to "
                f"{member.file_size}), more than the limit of {limits.max_entry_ratio} times",
                file=file,
            )
    if "xl/workbook.xml" not in archive.namelist():
        raise DataError(f"{_what_archive(archive.namelist())}, not an xlsx workbook", file=file)
    try:
        # Reads every member with its declared size as the bound and checks CRCs: a lying header fails here.
        broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as error:
        raise DataError("not a valid xlsx file (damaged zip archive)", file=file) from error
    except (NotImplementedError, RuntimeError) as error:  # unknown compression method, encrypted member
        raise DataError(f"not a readable xlsx file ({error})", file=file) from error
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


def _load_sheet(reader: Any, index: int, name: str, file: str) -> pl.DataFrame:
    try:
        frame: pl.DataFrame = reader.load_sheet(index, header_row=None, dtypes="string").to_polars()
    except BaseException as error:  # fastexcel raises its own hierarchy for damaged sheets, or panics
        reraise_interrupt(error)
        raise DataError(f"sheet '{name}' cannot be read ({type(error).__name__})", file=file) from error
    return frame.cast(pl.Utf8)


def read_workbook(data: bytes, file: str, role: str, limits: IngestLimits, *, legacy: bool = False) -> list[RawTable]:
    """Every sheet whose first rows hold a header for ``role``: a workbook split into sheets (one per year,
    say) is one dataset, and ignoring a sheet would lose its rows silently."""
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
    except BaseException as error:  # fastexcel raises its own hierarchy for damaged workbooks, or panics
        reraise_interrupt(error)
        raise DataError(f"the workbook cannot be read ({type(error).__name__})", file=file) from error
    chosen = []
    for index, preview in enumerate(previews):
        found = pick_header(list(enumerate(preview.rows())), role)
        if found:
            chosen.append((index, *found))
    if not chosen:
        hints = (other_role_hint(list(enumerate(p.rows())), role) for p in previews)
        where = "any sheet (" + ", ".join(names) + ")"
        seen = [row for preview in previews for row in enumerate(preview.rows())]
        raise no_header_error(file, role, where, next(filter(None, hints), ""), limits, found=seen)
    tables, rows = [], 0
    for sheet_index, header_index, header in chosen:
        frame = _load_sheet(reader, sheet_index, names[sheet_index], file).slice(header_index + 1)
        rows += frame.height
        check_rows(file, rows, limits)
        offset = first_rows[sheet_index] if sheet_index < len(first_rows) else 1
        tables.append(
            RawTable(
                file=f"{file} [{names[sheet_index]}]" if len(chosen) > 1 else file,
                frame=frame.rename({name: f"c{i}" for i, name in enumerate(frame.columns)}),
                header=header,
                header_row=offset + header_index,
                first_row=offset + header_index + 1,
                sheet=names[sheet_index],
            )
        )
    return tables
