"""The validation report names every dropped or repaired row; unusable files fail with one DataError."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import polars as pl
import pytest
import xlsxwriter

from plastinka_forecasting.frames import ValidationReport
from plastinka_forecasting.ingest import (
    DataError,
    IngestLimits,
    dataset_report,
    format_report,
    load_sales_bytes,
)

TODAY = date(2024, 6, 30)
HEADER = "Штрихкод;Исполнитель;Альбом;Тип;Цена, руб.;Год выпуска;Дата создания;Дата продажи"


def shop_csv(*lines: str) -> bytes:
    return "\n".join([HEADER, *lines]).encode("utf-8")


def issues_by_row(report: ValidationReport) -> dict[int | None, tuple[str | None, str, str]]:
    return {issue.row: (issue.column, issue.action, issue.reason) for issue in report.issues}


def test_every_problem_row_is_reported_and_counts_add_up() -> None:
    raw = shop_csv(
        "4607012345678;A;X;Оригинал;1000;1990;01.01.2023;15.01.2023",  # line 2: fine
        "4607012345678;A;X;Оригинал;1000;1990;01.01.2023;",  # 3: no sale date
        "4607012345678;A;X;Оригинал;1000;1990;01.01.2023;31.02.2023",  # 4: impossible date
        "4607012345678;A;X;Оригинал;1000;1990;01.01.2023;01.01.2030",  # 5: future
        ";;;;1000;1990;01.01.2023;15.01.2023",  # 6: no identity
        "Штрихкод;Исполнитель;Альбом;Тип;Цена, руб.;Год выпуска;Дата создания;Дата продажи",  # 7: header again
        "4607012345678.0;A;X;Оригинал;дорого;19xx;вчера;16.01.2023",  # 8: kept, four repairs
        "4.6E+12;B;Y;Оригинал;500;;;17.01.2023",  # 9: lossy barcode, kept by name
        ";A;X;Оригинал;;;;18.01.2023",  # 10: no barcode, matched to 4607012345678 by name
        ";;;;;;;",  # 11: blank: not a row
        "4607012345678;A;X;Оригинал;1000;1990;01.01.2023;01.01.1960",  # 12: before 1970
    )
    data = load_sales_bytes(raw, "s.csv", today=TODAY)
    report = data.report
    assert report.rows_read == 10
    assert report.rows_used == 4
    assert report.dropped == 6
    assert report.rows_read == report.rows_used + report.dropped
    found = issues_by_row(report)
    assert found[3][:2] == ("Дата продажи", "dropped")
    assert found[4] == ("Дата продажи", "dropped", "unparseable date '31.02.2023'")
    assert found[5][:2] == ("Дата продажи", "dropped")
    assert "future date 2030-01-01" in found[5][2]
    assert found[6] == (
        "Штрихкод/Исполнитель/Альбом",
        "dropped",
        "missing identity: no item id, barcode, artist or album",
    )
    assert found[7] == (None, "dropped", "repeated header row")
    assert found[12][1:] == ("dropped", "date 1960-01-01 is before 1970")
    repairs = {(i.row, i.column) for i in report.issues if i.action == "repaired"}
    assert len(repairs) == len([i for i in report.issues if i.action == "repaired"])
    assert repairs == {
        (8, "Штрихкод"),
        (8, "Цена, руб."),
        (8, "Год выпуска"),
        (8, "Дата создания"),
        (9, "Штрихкод"),
        (10, None),
    }
    assert 11 not in found
    ids = data.sales.get_column("item_id").to_list()
    assert ids == ["4607012345678", "4607012345678", "4607012345678", "a:b|y|original"]
    assert data.sales.get_column("date").to_list()[:3] == [date(2023, 1, d) for d in (15, 16, 18)]


def test_canonical_quantity_problems() -> None:
    raw = "item_id,date,quantity\n1,2023-01-01,2\n2,2023-01-01,-1\n3,2023-01-01,lots\n4,2023-01-01,\n,2023-01-01,1\n"
    report = load_sales_bytes(raw.encode(), "long.csv", today=TODAY).report
    found = issues_by_row(report)
    # a negative quantity is a return (netted, not dropped); item 2 sold nothing that month, so it counts 0
    assert found[3] == (None, "warning", "1.0 returned copies of 2 exceed its sales in that month; the month counts 0")
    assert found[4] == ("quantity", "dropped", "quantity 'lots' is not a number")
    assert found[5] == ("quantity", "dropped", "missing quantity")
    assert found[6] == ("item_id", "dropped", "missing identity: no item id, barcode, artist or album")
    assert (report.rows_read, report.rows_used, report.dropped) == (5, 2, 3)
    assert (report.copies_sold, report.copies_returned) == (2.0, 1.0)


def test_stock_copies_problems_are_dropped_rows() -> None:
    sales = shop_csv("1;A;X;Оригинал;1;1990;01.01.2023;15.01.2023")
    stock = "Штрихкод;Исполнитель;Альбом;Экземпляры\n1;A;X;2\n2;B;Y;1,5\n3;C;Z;-1\n4;D;W;\n".encode("cp1251")
    data = load_sales_bytes(sales, "s.csv", stock, "st.csv", today=TODAY)
    assert data.stock is not None
    assert data.stock.get_column("item_id").to_list() == ["1"]
    found = {(i.file, i.row): i.reason for i in data.report.issues}
    assert found == {
        ("st.csv", 3): "copies 1.5 is not a whole number",
        ("st.csv", 4): "negative copies -1.0",
        ("st.csv", 5): "missing copies",
    }
    assert data.report.rows_read == 5
    assert data.report.rows_used == 2


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (64 * 2**20))
    return buffer.getvalue()


def _workbook(rows: list[list[str]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Данные")
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    workbook.close()
    return buffer.getvalue()


def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        (b"", "empty.csv", "empty.csv: the file is empty"),
        (bytes(range(256)) * 64, "sales.csv", "sales.csv: binary content"),
        (b"this is not a workbook", "sales.xlsx", "sales.xlsx: the content is not a .xlsx file"),
        (b"PK\x03\x04garbage", "sales.xlsx", "sales.xlsx: not a valid xlsx file"),
        (_plain_zip(), "sales.xlsx", "sales.xlsx: a zip archive (1 file), not an xlsx workbook"),
        (b"PAR1 not really", "d.parquet", "d.parquet: not a readable parquet file"),
        ("Штрихкод;Исполнитель;Альбом\n1;A;X\n".encode(), "nodate.csv", "it looks like a stock snapshot"),
        (b"just;some;words\n1;2;3\n", "words.csv", "words.csv: no header row with a sale date column"),
        (HEADER.encode(), "header-only.csv", "header-only.csv: no data rows under the header"),
        (
            shop_csv("1;A;X;;;;;32.13.2023", "2;B;Y;;;;;"),
            "bad.csv",
            "bad.csv: no usable rows: all 2 rows were dropped; "
            "the first: row 2, column 'Дата продажи': unparseable date",
        ),
        (_workbook([["Итого", "1"]]), "sales.xlsx", "in the first 20 rows of any sheet (Данные)"),
    ],
)
def test_unusable_files_raise_one_clear_error(raw: bytes, name: str, message: str) -> None:
    with pytest.raises(DataError) as caught:
        load_sales_bytes(raw, name, today=TODAY)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_zip_bomb_is_refused_before_parsing() -> None:
    bomb = _zip_bomb()
    assert len(bomb) < 2**20
    limits = IngestLimits(max_uncompressed_bytes=32 * 2**20)
    with pytest.raises(DataError, match=r"bomb\.xlsx: the workbook decompresses to \d+ bytes, more than the limit"):
        load_sales_bytes(bomb, "bomb.xlsx", limits=limits, today=TODAY)


def test_workbook_with_an_unknown_compression_method() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    raw = bytearray(buffer.getvalue())
    # Method field: offset 8 in the local header, offset 10 in the central directory entry.
    raw[8:10] = (99).to_bytes(2, "little")
    central = raw.index(b"PK\x01\x02")
    raw[central + 10 : central + 12] = (99).to_bytes(2, "little")
    with pytest.raises(DataError, match=r"^odd\.xlsx: not a readable xlsx file \(.*compression"):
        load_sales_bytes(bytes(raw), "odd.xlsx", today=TODAY)


def test_size_and_row_caps() -> None:
    raw = shop_csv(*["1;A;X;;;;;15.01.2023"] * 20)
    with pytest.raises(DataError, match="more than the limit of 10"):
        load_sales_bytes(raw, "s.csv", limits=IngestLimits(max_rows=10), today=TODAY)
    with pytest.raises(DataError, match="bytes is more than the limit of 100"):
        load_sales_bytes(raw, "s.csv", limits=IngestLimits(max_file_bytes=100), today=TODAY)


def test_stock_file_errors_name_the_stock_file() -> None:
    sales = shop_csv("1;A;X;;;;;15.01.2023")
    with pytest.raises(DataError, match=r"^stock\.csv: the file is empty$"):
        load_sales_bytes(sales, "s.csv", b"", "stock.csv", today=TODAY)
    with pytest.raises(DataError, match="it looks like a sales export"):
        load_sales_bytes(sales, "s.csv", sales, "stock.csv", today=TODAY)


def test_format_report_caps_the_table() -> None:
    raw = shop_csv("1;A;X;;;;;15.01.2023", *[f";;;;;;;{10 + i}.01.2023" for i in range(7)])
    report = load_sales_bytes(raw, "s.csv", today=TODAY).report
    text = format_report(report, limit=3)
    lines = text.splitlines()
    assert lines[0] == "rows read: 8, used: 1, dropped: 7, repaired: 0, warnings: 0"
    assert lines[1] == "warning: s.csv: 7 of 8 rows (87.5%) were dropped: check the issues before training"
    assert lines[2].split() == ["file", "row", "column", "action", "reason"]
    assert len(lines) == 3 + 3 + 1
    assert lines[-1] == "... and 4 more issues"
    assert "missing identity" in lines[3]


def test_dataset_report_summarises_for_the_api() -> None:
    raw = shop_csv("1;A;X;;;;;15.01.2023", "2;B;Y;;;;;20.02.2023", "3;C;Z;;;;;nope")
    data = load_sales_bytes(raw, "s.csv", today=TODAY)
    summary = dataset_report(data, max_issues=0)
    assert (summary.rows, summary.items, summary.period_start, summary.period_end) == (
        2,
        2,
        date(2023, 1, 15),
        date(2023, 2, 20),
    )
    assert summary.stocked_items is None
    assert summary.issues == []
    assert len(dataset_report(data).issues) == 1


def test_attributes_frame_has_the_contract_columns() -> None:
    data = load_sales_bytes(shop_csv("1;A;X;;;;;15.01.2023"), "s.csv", today=TODAY)
    assert data.attributes.schema == pl.Schema(
        {
            "item_id": pl.Utf8,
            "barcode": pl.Utf8,
            "artist": pl.Utf8,
            "album": pl.Utf8,
            "sleeve": pl.Utf8,
            "price": pl.Float64,
            "release_type": pl.Utf8,
            "recording_year": pl.Int64,
            "pressing_year": pl.Int64,
            "style": pl.Utf8,
            "added_at": pl.Date,
        }
    )
    assert data.sales.schema == pl.Schema({"item_id": pl.Utf8, "date": pl.Date, "quantity": pl.Float64})


def test_validate_sales_returns_the_report_or_raises(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from plastinka_forecasting.ingest import validate_sales

    good = tmp_path / "good.csv"
    good.write_bytes(shop_csv("1;A;X;;;;;15.01.2023", "2;B;Y;;;;;bad"))
    report = validate_sales(good, today=TODAY)
    assert (report.rows_read, report.rows_used, report.dropped) == (2, 1, 1)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"nothing useful")
    with pytest.raises(DataError, match=r"^bad\.csv: no header row"):
        validate_sales(bad, today=TODAY)
