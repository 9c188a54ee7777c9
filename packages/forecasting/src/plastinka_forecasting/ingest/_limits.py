"""Caps that keep a hostile or runaway upload from exhausting memory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestLimits:
    """Size caps applied before and while a file is parsed."""

    max_file_bytes: int = 256 * 2**20
    #: Sum of the uncompressed sizes of an xlsx's zip members, checked before any parsing (zip bombs).
    max_uncompressed_bytes: int = 512 * 2**20
    max_zip_entries: int = 10_000
    max_rows: int = 5_000_000
    #: How far down a sheet or csv the header row is looked for.
    header_search_rows: int = 20


DEFAULT_LIMITS = IngestLimits()
