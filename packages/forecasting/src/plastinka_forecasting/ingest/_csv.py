"""Reading csv exports: utf-8 (with or without BOM), utf-16 (Excel's 'Unicode text'), cp1251, koi8-r or cp866;
``;``, ``,`` or tab. The encoding is the one whose text holds the header row, charset-normalizer's guess tried first."""

from __future__ import annotations

import codecs
import csv
import io

import polars as pl

from ._errors import DataError, reraise_interrupt
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


#: The single-byte Cyrillic code pages a Russian shop's tools write, in the order tried after the detector's guess.
_CYRILLIC = ("cp1251", "koi8_r", "cp866")
_NAMES = {"utf_8": "utf-8", "utf_16": "utf-16", "cp1251": "cp1251", "koi8_r": "koi8-r", "cp866": "cp866"}


def _guess(head: bytes) -> list[str]:
    """Candidate encodings of text that is not utf-8, the likeliest first: charset-normalizer's ranking among the
    encodings shops use, then the rest of them. Every candidate is still checked by finding the header in it."""
    from charset_normalizer import from_bytes  # noqa: PLC0415 - cold start: only when a file is not utf-8

    nul = b"\x00" in head
    allowed = ["utf_16_le", "utf_16_be"] if nul else list(_CYRILLIC)
    ranked = [match.encoding for match in from_bytes(head, cp_isolation=allowed)]
    return list(dict.fromkeys([*(e for e in ranked if e in allowed), *allowed]))


def _transcode(body: bytes, encoding: str) -> bytes:
    if encoding.startswith("utf_16"):
        return body.decode(encoding).encode("utf-8")
    # one byte per character: chunk boundaries cannot split one
    parts = []
    for start in range(0, len(body), _CHUNK):
        try:
            parts.append(body[start : start + _CHUNK].decode(encoding).encode("utf-8"))
        except UnicodeDecodeError as error:  # its offsets are the chunk's: make them the file's
            raise UnicodeDecodeError(
                error.encoding, body, start + error.start, start + error.end, error.reason
            ) from error
    return b"".join(parts)


def _damaged(body: bytes, encoding: str, name: str, error: UnicodeDecodeError, file: str) -> DataError:
    """The decoding error as a refusal naming the line (1-based) that holds the bad byte."""
    line = body[: error.start].decode(encoding, "ignore").count("\n") + 1
    return DataError(f"the {name} text is damaged at byte {error.start} ({error.reason})", file=file, row=line)


def _candidates(data: bytes, file: str) -> list[tuple[str, bytes]]:
    """(encoding, body) pairs to try, as few as the bytes allow: a BOM or valid utf-8 settles it."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return [("utf_16", data)]
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    head = body[:65536]
    if b"\x00" in head:
        # utf-16 without a BOM has a NUL beside every ASCII character; anything else with NULs is binary
        zeros = max(head[0::2].count(0), head[1::2].count(0))
        if zeros < len(head) // 8:
            raise DataError("binary content: not a csv, xlsx or parquet file", file=file)
        return [(encoding, body) for encoding in _guess(head)]
    if _valid_utf8(memoryview(body)):
        return [("utf_8", body)]
    return [(encoding, body) for encoding in _guess(head)]


def _head_text(body: bytes, encoding: str) -> str | None:
    """The first megabyte as text, for the header search; None when the bytes are not text in ``encoding``."""
    if encoding == "utf_8":
        return body[:_HEAD].decode("utf-8", "ignore")
    try:
        head = body[: _HEAD * 2].decode(encoding, "ignore" if encoding.startswith("utf_16") else "strict")
    except UnicodeDecodeError:
        return None
    if encoding.startswith("utf_16") and "\x00" in head:
        return None
    return head[:_HEAD]


def _cells_of(line: str, separator: str) -> list[str]:
    """One line's cells for the header search; a line the csv module cannot split (a bare carriage return in a
    field, a field over its size limit) is not a header, and the rows under the header are polars' to read."""
    try:
        return next(csv.reader([line.rstrip("\r")], delimiter=separator), [])
    except csv.Error:
        return []


def _find_header(text: str, file: str, role: str, limits: IngestLimits, encoding: str) -> tuple[int, str, HeaderMatch]:
    lines = text.split("\n", limits.header_search_rows)[: limits.header_search_rows]
    best: tuple[int, str, HeaderMatch] | None = None
    candidates_by_separator = {}
    for separator in _SEPARATORS:
        candidates = [(index, _cells_of(line, separator)) for index, line in enumerate(lines)]
        candidates_by_separator[separator] = candidates
        found = pick_header(candidates, role)
        if found and (best is None or found[1].looks_like(role) > best[2].looks_like(role)):
            best = (found[0], separator, found[1])
    if best is None:
        hint = next(filter(None, (other_role_hint(c, role) for c in candidates_by_separator.values())), "")
        rows = max(candidates_by_separator.values(), key=lambda rows: max((len(c) for _, c in rows), default=0))
        raise no_header_error(file, role, f"the file (read as {encoding} text)", hint, limits, found=rows)
    return best


def read_csv(data: bytes, file: str, role: str, limits: IngestLimits) -> RawTable:
    tried: list[str] = []
    found: tuple[int, str, HeaderMatch] | None = None
    failure: DataError | None = None
    encoding, body = "utf_8", data
    for encoding, body in _candidates(data, file):
        head = _head_text(body, encoding)
        if head is None:
            continue
        tried.append(_NAMES.get(encoding, encoding.replace("_", "-")))
        try:
            found = _find_header(head, file, role, limits, tried[-1])
            break
        except DataError as error:
            failure = failure or error
    if found is None:
        if failure is not None:
            raise failure
        raise DataError(
            "the file is not text in any encoding a shop export uses (utf-8, utf-16, cp1251, koi8-r, cp866) "
            "and not an xlsx, xls or parquet file",
            file=file,
        )
    header_index, separator, header = found
    try:
        utf8 = _transcode(body, encoding) if encoding != "utf_8" else body
    except UnicodeDecodeError as error:
        raise _damaged(body, encoding, tried[-1], error, file) from error
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
    except BaseException as error:  # polars raises several types for malformed text, or panics
        reraise_interrupt(error)
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
