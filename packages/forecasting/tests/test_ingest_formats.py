"""Every export variant the shop produces, built here, loads to the same canonical frames."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from plastinka_forecasting.frames import SalesData
from plastinka_forecasting.ingest import load_sales, load_sales_bytes
from plastinka_forecasting.synthetic import ITEM_HEADERS

TODAY = date(2024, 6, 30)
#: Three sold copies: two of one record (different sleeves and prices), one of another; one record has no barcode.
SALE_ROWS = [
    [
        "4607012345678",
        "Кино",
        "Группа крови",
        "SS",
        "3500",
        "Переиздание",
        "1988",
        "2021",
        "Rock/Post-Punk",
        "01.02.2023",
        "15.03.2023 14:05",
    ],
    [
        "4607012345678",
        "Кино",
        "Группа крови",
        "VG+",
        "3900",
        "Переиздание",
        "1988",
        "2021",
        "Rock/Post-Punk",
        "01.02.2023",
        "31.12.2023",
    ],
    [
        "",
        "Miles Davis",
        "Kind of Blue",
        "NM",
        "5200,50",
        "Оригинал",
        "1959",
        "1959",
        "Jazz",
        "10.01.2023",
        "02.01.2024 10:00",
    ],
]
EXPECTED_SALES = pl.DataFrame(
    {
        "item_id": ["4607012345678", "4607012345678", "a:miles davis|kind of blue|original"],
        "date": [date(2023, 3, 15), date(2023, 12, 31), date(2024, 1, 2)],
        "quantity": [1.0, 1.0, 1.0],
    }
).sort("item_id", "date")


def shop_headers(sale_header: str) -> list[str]:
    return [*ITEM_HEADERS, "Дата создания", sale_header]


def csv_bytes(rows: list[list[str]], header: list[str], separator: str, encoding: str, preamble: str = "") -> bytes:
    def line(cells: list[str]) -> str:
        return separator.join(f'"{c}"' if separator in c else c for c in cells)

    text = preamble + "\n".join([line(header), *(line(row) for row in rows)]) + "\n"
    return text.encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list[object]]], *, header_row: dict[str, int] | None = None) -> bytes:
    """A workbook with the given sheets; each sheet's rows start at ``header_row[name]`` (0-based), column B."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    date_format = workbook.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        start = (header_row or {}).get(name, 0)
        if start:
            sheet.write(0, 0, f"Отчёт: {name}")
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if isinstance(cell, datetime):
                    sheet.write_datetime(start + r, c + 1, cell, date_format)
                elif isinstance(cell, (int, float)):
                    sheet.write_number(start + r, c + 1, cell)
                elif cell not in (None, ""):
                    sheet.write_string(start + r, c + 1, str(cell))
    workbook.close()
    return buffer.getvalue()


def assert_shop_data(data: SalesData) -> None:
    assert data.sales.equals(EXPECTED_SALES)
    assert data.report.rows_read == 3
    assert data.report.rows_used == 3
    assert data.report.dropped == 0
    attributes = data.attributes.filter(pl.col("item_id") == "4607012345678").row(0, named=True)
    # Most recent values win: the copy sold on 31.12.2023.
    assert attributes["sleeve"] == "VG+"
    assert attributes["price"] == 3900.0
    assert attributes["release_type"] == "reissue"
    assert attributes["recording_year"] == 1988
    assert attributes["style"] == "Rock/Post-Punk"
    assert attributes["added_at"] == date(2023, 2, 1)
    miles = data.attributes.filter(pl.col("item_id").str.starts_with("a:")).row(0, named=True)
    assert (miles["artist"], miles["album"], miles["price"], miles["barcode"]) == (
        "Miles Davis",
        "Kind of Blue",
        5200.5,
        None,
    )


@pytest.mark.parametrize("sale_header", ["Дата продажи", "Дата заказа"])
@pytest.mark.parametrize("separator", [";", ","])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_shop_csv_variants(sale_header: str, separator: str, encoding: str) -> None:
    data = load_sales_bytes(
        csv_bytes(SALE_ROWS, shop_headers(sale_header), separator, encoding), "sales.csv", today=TODAY
    )
    assert_shop_data(data)
    assert data.report.issues == []


def test_csv_header_below_a_title_counts_rows_as_lines() -> None:
    rows = [*SALE_ROWS, ["4607012345678", "Кино", "Группа крови", "SS", "3500", "", "", "", "", "", "32.01.2024"]]
    raw = csv_bytes(rows, shop_headers("Дата заказа"), ";", "cp1251", preamble="Отчёт о продажах;;\n\n")
    data = load_sales_bytes(raw, "sales.csv", today=TODAY)
    assert data.report.rows_read == 4
    (issue,) = data.report.issues
    # Title line 1, blank line 2, header line 3, data lines 4-7: the bad row is line 7.
    assert (issue.row, issue.column, issue.action) == (7, "Дата заказа", "dropped")
    assert "32.01.2024" in issue.reason


def test_xlsx_picks_the_sheet_with_headers_below_row_one() -> None:
    header = shop_headers("Дата заказа")
    typed_rows: list[list[object]] = [list(row) for row in SALE_ROWS]
    typed_rows[0][0] = 4607012345678  # a numeric barcode cell, as Excel stores it
    typed_rows[0][-1] = datetime(2023, 3, 15, 14, 5)  # a real Excel date
    typed_rows[1][-1] = 45291  # an Excel serial day: 31.12.2023
    typed_rows.append(["4607012345678", "Кино", "Группа крови", "SS", "3500", "", "", "", "", "", "not a date"])
    raw = xlsx_bytes(
        {"Сводка": [["Итого", 3]], "Продажи": [header, *typed_rows], "Пусто": []},
        header_row={"Продажи": 4},
    )
    data = load_sales_bytes(raw, "export.xlsx", today=TODAY)
    assert data.sales.equals(EXPECTED_SALES)
    (issue,) = data.report.issues
    # Header on Excel row 5, so the fourth data row is row 9.
    assert (issue.file, issue.row, issue.column) == ("export.xlsx", 9, "Дата заказа")
    assert data.report.rows_read == data.report.rows_used + data.report.dropped == 4


def test_xlsx_with_both_sale_date_headers_coalesces_and_warns() -> None:
    header = [*ITEM_HEADERS, "Дата создания", "Дата продажи", "Дата заказа"]
    rows = [[*SALE_ROWS[0][:-1], SALE_ROWS[0][-1], ""], [*SALE_ROWS[1][:-1], "", SALE_ROWS[1][-1]]]
    data = load_sales_bytes(xlsx_bytes({"Лист1": [header, *rows]}), "merged.xlsx", today=TODAY)
    assert data.sales.get_column("date").to_list() == [date(2023, 3, 15), date(2023, 12, 31)]
    (warning,) = data.report.issues
    assert warning.action == "warning"
    assert warning.row == 1
    assert "Дата заказа" in warning.reason


CANONICAL = pl.DataFrame(
    {
        "item_id": ["00123", "16020C", "10002", "00123"],
        "date": ["2023-01-05", "2023-02-01", "05.03.2023", "2023-01-05"],
        "quantity": ["2", "1", "3,5", "1"],
        "artist": ["A", "B", None, "A"],
        "price": ["100", "200", "300", "150"],
    }
)
CANONICAL_EXPECTED = pl.DataFrame(
    {
        "item_id": ["00123", "10002", "16020C"],
        "date": [date(2023, 1, 5), date(2023, 3, 5), date(2023, 2, 1)],
        "quantity": [3.0, 3.5, 1.0],
    }
)


def test_canonical_csv_keeps_ids_as_text() -> None:
    data = load_sales_bytes(CANONICAL.write_csv().encode(), "long.csv", today=TODAY)
    assert data.sales.equals(CANONICAL_EXPECTED)
    assert data.sales.schema["item_id"] == pl.Utf8
    assert data.attributes.filter(pl.col("item_id") == "00123").get_column("price").item() == 150.0


def test_canonical_parquet_typed_columns(tmp_path: Path) -> None:
    typed = CANONICAL.with_columns(
        pl.col("date").str.to_date(strict=False).fill_null(date(2023, 3, 5)),
        pl.col("quantity").str.replace(",", ".").cast(pl.Float64),
    )
    path = tmp_path / "long.parquet"
    typed.write_parquet(path)
    assert load_sales(path, today=TODAY).sales.equals(CANONICAL_EXPECTED)


def test_canonical_parquet_integer_ids_become_text(tmp_path: Path) -> None:
    path = tmp_path / "ints.parquet"
    pl.DataFrame({"item_id": [10002, 10003], "date": [date(2023, 1, 1)] * 2, "quantity": [1, 2]}).write_parquet(path)
    sales = load_sales(path, today=TODAY).sales
    assert sales.get_column("item_id").to_list() == ["10002", "10003"]


def test_canonical_xlsx_text_and_numeric_id_cells() -> None:
    rows: list[list[object]] = [
        ["item_id", "date", "quantity"],
        ["00123", datetime(2023, 1, 5), 2],
        [10002, "05.03.2023", 3.5],
    ]
    rows += [["16020C", "2023-02-01", 1], ["00123", "05.01.2023", 1]]
    data = load_sales_bytes(xlsx_bytes({"data": rows}), "long.xlsx", today=TODAY)
    assert data.sales.equals(CANONICAL_EXPECTED)


def test_stock_snapshot_in_shop_format() -> None:
    header = [*ITEM_HEADERS, "Дата добавления", "Экземпляры"]
    stock_rows = [
        [
            "4607012345678.0",
            "Кино",
            "Группа крови",
            "SS",
            "3600",
            "Переиздание",
            "1988",
            "2021",
            "Rock",
            "01.05.2024",
            "2",
        ],
        [
            "4607012345678",
            "Кино",
            "Группа крови",
            "VG",
            "3000",
            "Переиздание",
            "1988",
            "2021",
            "Rock",
            "01.04.2024",
            "1",
        ],
        ["5099902894829", "New", "Arrival", "SS", "2500", "Оригинал", "2024", "2024", "Pop", "20.06.2024", "1"],
    ]
    sales = csv_bytes(SALE_ROWS, shop_headers("Дата заказа"), ";", "utf-8")
    stock = csv_bytes(stock_rows, header, ";", "cp1251")
    data = load_sales_bytes(sales, "sales.csv", stock, "stock.csv", today=TODAY)
    assert data.stock is not None
    assert data.stock.to_dicts() == [
        {"item_id": "4607012345678", "copies": 3, "added_at": date(2024, 4, 1)},
        {"item_id": "5099902894829", "copies": 1, "added_at": date(2024, 6, 20)},
    ]
    # A never-sold stocked record still has attributes; the snapshot's values are the most recent ones.
    assert set(data.attributes.get_column("item_id")) == {*EXPECTED_SALES.get_column("item_id"), "5099902894829"}
    kino = data.attributes.filter(pl.col("item_id") == "4607012345678").row(0, named=True)
    assert kino["price"] == 3000.0
    assert kino["added_at"] == date(2023, 2, 1)
    assert data.report.rows_read == 6
    assert data.report.rows_used == 6
    reasons = {(i.file, i.row, i.action) for i in data.report.issues}
    assert reasons == {("stock.csv", 2, "repaired"), ("stock.csv", 3, "warning")}


def test_canonical_stock_with_copies_column() -> None:
    stock = pl.DataFrame({"item_id": ["00123", "99"], "copies": ["1", "4"]}).write_csv().encode()
    data = load_sales_bytes(CANONICAL.write_csv().encode(), "long.csv", stock, "stock.csv", today=TODAY)
    assert data.stock is not None
    assert data.stock.select("item_id", "copies").to_dicts() == [
        {"item_id": "00123", "copies": 1},
        {"item_id": "99", "copies": 4},
    ]


def test_utf16_tab_separated_export() -> None:
    raw = csv_bytes(SALE_ROWS, shop_headers("Дата продажи"), "\t", "utf-16")
    assert_shop_data(load_sales_bytes(raw, "unicode.txt", today=TODAY))


def test_load_sales_reads_paths(tmp_path: Path) -> None:
    sales = tmp_path / "продажи.csv"
    sales.write_bytes(csv_bytes(SALE_ROWS, shop_headers("Дата заказа"), ";", "cp1251"))
    assert_shop_data(load_sales(sales, today=TODAY))


def test_xlsx_row_numbers_survive_empty_top_rows() -> None:
    """The reader starts at the first used cell; reported rows must still be the ones Excel shows."""
    header = shop_headers("Дата продажи")
    bad = ["4607012345678", "Кино", "Группа крови", "SS", "3500", "", "", "", "", "", "tomorrow-ish"]
    raw = xlsx_bytes({"Лист1": [header, *SALE_ROWS, bad]}, header_row={"Лист1": 0})
    shifted = xlsx_bytes({"Лист1": [[], [], header, *SALE_ROWS, bad]})
    assert load_sales_bytes(raw, "a.xlsx", today=TODAY).report.issues[0].row == 5
    assert load_sales_bytes(shifted, "b.xlsx", today=TODAY).report.issues[0].row == 7


def test_csv_rows_beyond_the_header_width_are_truncated_and_short_rows_padded() -> None:
    header = "item_id;date;quantity"
    raw = f"{header}\n1;2023-01-01;1;extra;cells\n2;2023-01-02\n".encode()
    data = load_sales_bytes(raw, "ragged.csv", today=TODAY)
    assert data.sales.get_column("item_id").to_list() == ["1"]
    (issue,) = data.report.issues
    assert (issue.row, issue.column, issue.reason) == (3, "quantity", "missing quantity")


def test_workbook_with_a_sheet_per_year_loads_every_sheet() -> None:
    header = shop_headers("Дата заказа")
    raw = xlsx_bytes(
        {
            "Сводка": [["Всего продаж", 3]],
            "2023": [header, SALE_ROWS[0], SALE_ROWS[1]],
            "2024": [header, SALE_ROWS[2], [*SALE_ROWS[2][:-1], "soon"]],
        },
        header_row={"2024": 2},
    )
    data = load_sales_bytes(raw, "years.xlsx", today=TODAY)
    assert data.sales.equals(EXPECTED_SALES)
    (issue,) = data.report.issues
    assert (issue.file, issue.row) == ("years.xlsx [2024]", 5)
    assert data.report.rows_read == 4


def test_windows_line_endings_quotes_and_unpadded_dates() -> None:
    raw = (
        "Отчёт\r\n\r\nШтрихкод;Исполнитель;Альбом;Дата продажи\r\n"
        '1;A;X;1.2.2023\r\n2;"B; b";Y;05.02.2023 7:05\r\n3;C;Z;bad\r\n'
    ).encode("cp1251")
    data = load_sales_bytes(raw, "crlf.csv", today=TODAY)
    assert data.sales.get_column("date").to_list() == [date(2023, 2, 1), date(2023, 2, 5)]
    assert data.attributes.get_column("artist").to_list() == ["A", "B; b"]
    (issue,) = data.report.issues
    assert (issue.row, issue.reason) == (6, "unparseable date 'bad'")
