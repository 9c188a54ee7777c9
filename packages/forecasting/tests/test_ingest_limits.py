"""The size caps of the ingestion (cell, text, zip part ratio, parquet footer rows) and the memory-capped child
that the API parses uploads in."""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plastinka_forecasting.ingest import (
    DataError,
    IngestLimits,
    MemoryLimitError,
    NamedFile,
    check_upload,
    load_sales_bytes,
)
from plastinka_forecasting.ingest._footer import FooterError, uncompressed_bytes
from plastinka_testing.bombs import plain_parquet_bomb, sales_parquet

HEADER = "Дата продажи;Исполнитель;Альбом\n"


def test_a_cell_over_the_cap_is_refused_naming_its_row_and_column() -> None:
    data = (HEADER + "2023-01-15;A;B\n" + "2023-01-16;A;" + "Ж" * 3000 + "\n").encode()
    with pytest.raises(DataError) as refused:
        load_sales_bytes(data, "sales.csv")
    error = refused.value
    assert (error.file, error.row, error.column) == ("sales.csv", 3, "Альбом")
    assert "6000 bytes" in error.reason and "4096" in error.reason  # bytes, not characters
    assert load_sales_bytes(data, "sales.csv", limits=IngestLimits(max_cell_bytes=6000)).report.sales_rows == 2


def test_a_parquet_string_bomb_is_refused_before_its_rows_are_copied() -> None:
    bomb = sales_parquet(200_000, "x" * 10_000)
    assert len(bomb) < 16 * 1024
    with pytest.raises(DataError, match="10000 bytes is longer than the limit of 4096") as refused:
        load_sales_bytes(bomb, "bomb.parquet")
    assert (refused.value.row, refused.value.column) == (1, "Альбом")


def test_text_adding_up_past_the_cap_is_refused() -> None:
    data = sales_parquet(2000, "y" * 1000)  # 2000 rows of 10 + 6 + 1000 bytes
    with pytest.raises(DataError, match="text cells add up to 2032000 bytes") as refused:
        load_sales_bytes(data, "text.parquet", limits=IngestLimits(max_decoded_bytes=1_000_000))
    assert refused.value.file == "text.parquet"


def test_the_parquet_row_cap_is_read_from_the_footer() -> None:
    with pytest.raises(DataError, match="5001 rows is more than the limit of 5000"):
        load_sales_bytes(sales_parquet(5001, "Album"), "rows.parquet", limits=IngestLimits(max_rows=5000))


def _workbook_with(part: str, size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr(part, b"<x/>" * (size // 4))
    return buffer.getvalue()


def test_a_zip_part_inflating_past_the_ratio_is_refused_naming_it() -> None:
    with pytest.raises(DataError, match=r"xl/sharedStrings.xml inflates \d+ times .* limit of 100 times"):
        load_sales_bytes(_workbook_with("xl/sharedStrings.xml", 8 * 2**20), "bomb.xlsx")
    # a small part may compress as well as it likes (the grace size): refused later, for having no sheet
    with pytest.raises(DataError) as later:
        load_sales_bytes(_workbook_with("xl/sharedStrings.xml", 2**19), "small.xlsx")
    assert "inflates" not in str(later.value)


def test_check_upload_reports_like_the_ingestion(tmp_path: Path) -> None:
    sales = tmp_path / "sales.csv"
    sales.write_text(HEADER + "2023-01-15;A;B\n2023-02-15;A;C\n", encoding="utf-8")
    checked = check_upload(NamedFile(sales, "Продажи.csv"), memory_bytes=512 * 2**20, max_issues=10)
    assert checked.report.sales_rows == 2 and checked.report.items == 2
    assert sorted(checked.item_ids) == sorted(load_sales_bytes(sales.read_bytes(), "x.csv").attributes["item_id"])


def test_check_upload_passes_refusals_on_with_file_row_and_column(tmp_path: Path) -> None:
    sales = tmp_path / "sales.csv"
    sales.write_bytes((HEADER + "2023-01-15;" + "A" * 5000 + ";B\n").encode())
    with pytest.raises(DataError) as refused:
        check_upload(NamedFile(sales, "Продажи.csv"), memory_bytes=512 * 2**20)
    assert (refused.value.file, refused.value.row, refused.value.column) == ("Продажи.csv", 2, "Исполнитель")
    assert not isinstance(refused.value, MemoryLimitError)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="the memory cap needs Linux")
def test_a_file_needing_more_than_the_memory_cap_ends_the_child_not_the_caller(tmp_path: Path) -> None:
    """3 million short rows pass every cap on the file; mapping them needs more than 256 MiB."""
    rows = tmp_path / "rows.parquet"
    rows.write_bytes(sales_parquet(3_000_000, "Album"))
    with pytest.raises(MemoryLimitError) as refused:
        check_upload(NamedFile(rows, "rows.parquet"), memory_bytes=256 * 2**20)
    assert refused.value.file == "rows.parquet" and refused.value.limit_bytes == 256 * 2**20
    assert "memory limit of 268435456 bytes" in str(refused.value)


def test_a_parse_past_the_timeout_is_refused(tmp_path: Path) -> None:
    sales = tmp_path / "sales.csv"
    sales.write_text(HEADER + "2023-01-15;A;B\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"took longer than the limit of 0\.01 s") as refused:
        check_upload(NamedFile(sales, "sales.csv"), memory_bytes=512 * 2**20, timeout_s=0.01)
    assert refused.value.file == "sales.csv"


def test_the_parquet_footer_declares_the_uncompressed_size() -> None:
    bomb = plain_parquet_bomb()
    assert len(bomb) < 2**20 and uncompressed_bytes(bomb) > 400 * 10**6
    with pytest.raises(DataError, match=r"footer declares \d+ bytes of uncompressed data") as refused:
        load_sales_bytes(bomb, "plain.parquet")
    assert refused.value.file == "plain.parquet"
    small = sales_parquet(1000, "Album")
    assert 0 < uncompressed_bytes(small) < 100_000


@settings(max_examples=300, deadline=None)
@given(cut=st.integers(0, 4096), patch=st.binary(min_size=1, max_size=16), at=st.integers(1, 2048))
def test_a_damaged_footer_is_a_footer_error_or_a_size(cut: int, patch: bytes, at: int) -> None:
    data = bytearray(sales_parquet(50, "Album"))
    start = max(len(data) - 8 - at, 0)
    data[start : start + len(patch)] = patch
    for candidate in (bytes(data), bytes(data[cut:])):
        with contextlib.suppress(FooterError):  # the one refusal allowed; any other exception fails
            assert uncompressed_bytes(candidate) >= 0


def test_a_decoding_error_names_the_line_and_the_byte_in_the_file() -> None:
    header = "Дата продажи;Исполнитель;Альбом\n".encode("cp1251")
    rows = "2023-01-15;Артист;Альбом\n".encode("cp1251") * 120_000  # past the 2 MB the encoding is chosen from
    data = header + rows + b"2023-01-15;\x98;B\n"  # 0x98 is no character in cp1251
    with pytest.raises(DataError, match=f"cp1251 text is damaged at byte {len(header) + len(rows) + 11}") as refused:
        load_sales_bytes(data, "sales.csv")
    assert (refused.value.file, refused.value.row) == ("sales.csv", 120_002)
    cut = (HEADER + "2023-01-15;A;B\n" * 3).encode("utf-16")[:-1]
    with pytest.raises(DataError, match="utf-16 text is damaged") as refused:
        load_sales_bytes(cut, "sales.csv")
    assert refused.value.row == 4
