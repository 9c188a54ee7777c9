"""Parquet upload bombs: a few hundred KiB of zstd that inflate far past the ingestion limits once read. Shared by
the ingestion's own limit tests and the API's security tests, so both refuse the same files."""

from __future__ import annotations

import io
from collections.abc import Sequence

import polars as pl


def sales_parquet(rows: int, albums: str | Sequence[str]) -> bytes:
    """A zstd parquet sales export of ``rows`` rows: one album name repeated, or one name per row."""
    frame = pl.DataFrame(
        {
            "Дата продажи": pl.repeat("2023-01-15", rows, eager=True),
            "Исполнитель": pl.repeat("Artist", rows, eager=True),
            "Альбом": pl.repeat(albums, rows, eager=True) if isinstance(albums, str) else list(albums),
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd")
    return buffer.getvalue()


def plain_parquet_bomb() -> bytes:
    """100,000 distinct 4 KB strings that zstd packs into ~0.5 MB: plain-encoded, so the footer tells their size
    (400 MB once decompressed)."""
    rows = 100_000
    return sales_parquet(rows, [f"{n:08d}" + "y" * 4000 for n in range(rows)])
