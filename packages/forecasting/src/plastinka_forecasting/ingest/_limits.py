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
    #: Largest inflated-to-compressed ratio of one xlsx part (Apache POI refuses past 100 too); parts that
    #: inflate to less than ``ratio_grace_bytes`` are exempt, since tiny parts compress oddly.
    max_entry_ratio: int = 100
    ratio_grace_bytes: int = 2**20
    max_rows: int = 5_000_000
    #: Longest text cell in bytes (utf-8): a shop's names and barcodes are far shorter.
    max_cell_bytes: int = 4096
    #: All of one file once decoded: a parquet footer's declared uncompressed size before any page is read, then
    #: the text cells' bytes as read (a dictionary-encoded column declares one copy of a repeated string, and
    #: mapping the rows would copy it for every row).
    max_decoded_bytes: int = 256 * 2**20
    #: How far down a sheet or csv the header row is looked for.
    header_search_rows: int = 20


DEFAULT_LIMITS = IngestLimits()
