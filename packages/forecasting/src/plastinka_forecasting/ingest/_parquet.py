"""Reading parquet files (the canonical format, or shop columns saved as parquet)."""

from __future__ import annotations

import io

import polars as pl

from ._errors import DataError, reraise_interrupt
from ._footer import FooterError, uncompressed_bytes
from ._limits import IngestLimits
from ._table import RawTable, check_rows, no_header_error, other_role_hint, pick_header


def read_parquet(data: bytes, file: str, role: str, limits: IngestLimits) -> RawTable:
    try:
        declared = uncompressed_bytes(data)
    except FooterError:
        declared = 0  # polars names the damage below
    if declared > limits.max_decoded_bytes:
        raise DataError(
            f"the parquet footer declares {declared} bytes of uncompressed data, more than the limit of "
            f"{limits.max_decoded_bytes}",
            file=file,
        )
    try:
        # The count in the footer, before a row is decoded: a few hundred KiB can hold millions of rows.
        rows = int(pl.scan_parquet(io.BytesIO(data)).select(pl.len()).collect().item())
    except BaseException as error:  # polars raises several types for a corrupt file, or panics
        reraise_interrupt(error)
        raise DataError(f"not a readable parquet file ({type(error).__name__})", file=file) from error
    check_rows(file, rows, limits)
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except BaseException as error:  # polars raises several types for a corrupt file, or panics
        reraise_interrupt(error)
        raise DataError(f"not a readable parquet file ({type(error).__name__})", file=file) from error
    check_rows(file, frame.height, limits)
    names = frame.columns
    found = pick_header([(0, names)], role)
    if found is None:
        hint = other_role_hint([(0, names)], role)
        raise no_header_error(file, role, "the parquet columns", hint, limits, found=[(0, names)])
    frame = frame.rename({name: f"c{index}" for index, name in enumerate(names)})
    return RawTable(file=file, frame=frame, header=found[1], header_row=None, first_row=1)
