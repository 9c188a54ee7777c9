"""Reading csv exports: utf-8, utf-8-sig, utf-16 (Excel's 'Unicode text') or cp1251; ``;``, ``,`` or tab."""

from __future__ import annotations

import codecs
import csv
import io

import polars as pl

from ._errors import DataError
from ._headers import HeaderMatch
from ._limits import IngestLimits
from ._table import RawTable, check_rows, no_header_error, other_role_hint, pick_header

_SEPARATORS = (";", ",", "\t")


_CHUNK = 1 << 20
_HEAD = 1 << 20


def _valid_utf8(data: bytes | memoryview) -> bool:
    """Checked in chunks so a large export is never held twice as Python text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.decode(data[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _decode(data: bytes, file: str) -> tuple[str, bytes]:
    """The first megabyte as text (for the header search) and the whole file as utf-8 bytes for polars."""
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError("binary content: not a csv, xlsx or parquet file", file=file)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            decoded = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise DataError(f"the utf-16 text is damaged at byte {error.start}", file=file) from error
        return decoded[:_HEAD], decoded.encode("utf-8")
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if _valid_utf8(memoryview(body)):
        return body[:_HEAD].decode("utf-8", "ignore"), body
    try:
        # cp1251 is one byte per character, so chunk boundaries cannot split one.
        utf8 = b"".join(body[i : i + _CHUNK].decode("cp1251").encode("utf-8") for i in range(0, len(body), _CHUNK))
    except UnicodeDecodeError as error:
        raise DataError("the text is neither utf-8 nor cp1251 (or the file is binary)", file=file) from error
    return utf8[:_HEAD].decode("utf-8", "ignore"), utf8


def _find_header(text: str, file: str, role: str, limits: IngestLimits) -> tuple[int, str, HeaderMatch]:
    lines = text.split("\n", limits.header_search_rows)[: limits.header_search_rows]
    best: tuple[int, str, HeaderMatch] | None = None
    candidates_by_separator = {}
    for separator in _SEPARATORS:
        candidates = [
            (index, next(csv.reader([line.rstrip("\r")], delimiter=separator), [])) for index, line in enumerate(lines)
        ]
        candidates_by_separator[separator] = candidates
        found = pick_header(candidates, role)
        if found and (best is None or found[1].looks_like(role) > best[2].looks_like(role)):
            best = (found[0], separator, found[1])
    if best is None:
        hint = next(filter(None, (other_role_hint(c, role) for c in candidates_by_separator.values())), "")
        raise no_header_error(file, role, "the file", hint, limits)
    return best


def read_csv(data: bytes, file: str, role: str, limits: IngestLimits) -> RawTable:
    text, utf8 = _decode(data, file)
    header_index, separator, header = _find_header(text, file, role, limits)
    try:
        frame = pl.read_csv(
            io.BytesIO(utf8),
            separator=separator,
            has_header=False,
            skip_rows=header_index,
            infer_schema=False,
            truncate_ragged_lines=True,
            quote_char='"',
            n_rows=limits.max_rows + 2,  # the header line, and one more to know the cap was passed
        )
    except Exception as error:  # polars raises several types for malformed text
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(f"cannot be parsed as csv ({first_line})", file=file) from error
    frame = frame.slice(1)  # the header line itself fixed the width
    frame = frame.rename({name: f"c{index}" for index, name in enumerate(frame.columns)})
    # Should polars split the header line into fewer fields than the csv module did, the mapping still holds.
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.Utf8).alias(f"c{i}") for i in range(frame.width, len(header.names))
    )
    check_rows(file, frame.height, limits)
    return RawTable(file=file, frame=frame, header=header, header_row=header_index + 1, first_row=header_index + 2)
