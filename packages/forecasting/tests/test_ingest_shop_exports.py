"""Exports real shops produce by accident: ingestion reads them right, refuses them, or says loudly what it did.

Never silently: barcodes keep their digits (leading zeros restored only when proven), dates are read in the
order the file's values prove, returns are netted, encodings are detected, implausible values are flagged.
The small files under ``examples/`` are the ones ``docs/input-format.md`` describes.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plastinka_forecasting.ingest import DataError, dataset_report, load_sales, load_sales_bytes
from plastinka_forecasting.ingest._barcodes import decide, gtin_check_ok, gtin_padded
from plastinka_forecasting.ingest._index import item_aliases, resolve_ids
from plastinka_forecasting.panel import build_panel

EXAMPLES = Path(__file__).parent / "examples"
TODAY = date(2024, 6, 30)
QTY_HEADER = "Штрихкод;Исполнитель;Альбом;Количество;Дата заказа"


def example(sales: str, stock: str | None = None):  # type: ignore[no-untyped-def]
    return load_sales(EXAMPLES / sales, EXAMPLES / stock if stock else None, today=TODAY)


# --- barcodes --------------------------------------------------------------------------------------------


def test_leading_zeros_lost_by_excel_come_back_under_the_stock_files_spelling() -> None:
    data = example("sales_shop.csv", "stock_shop.csv")
    assert sorted(data.attributes.get_column("item_id").to_list()) == ["014407281110", "072435974324", "4607012345678"]
    assert data.attributes.filter(pl.col("item_id") == "014407281110").get_column("barcode").to_list() == [
        "014407281110"
    ]
    assert data.sales.filter(pl.col("item_id") == "014407281110").height == 2  # '014407281110' and '14407281110.0'
    repaired = [i for i in data.report.issues if i.action == "repaired"]
    assert {(i.row, i.column) for i in repaired} == {(3, "Штрихкод"), (6, "Штрихкод")}
    assert repaired[0].reason == (
        "barcode '14407281110.0' had a float artefact; stripped; "
        "barcode '14407281110' read as '014407281110' (leading zeros restored: the stock file's spelling)"
    )
    assert data.report.aliases == {"14407281110": "014407281110", "72435974324": "072435974324"}


def test_gtin_check_digit_proves_the_padded_length() -> None:
    assert gtin_check_ok("072435974324") and gtin_check_ok("72435974324")
    assert gtin_padded("72435974324") == "072435974324"  # UPC-A
    assert gtin_padded("4006380") is None  # check digit wrong for any length
    assert gtin_padded("96385074") is None  # already EAN-8 length
    assert gtin_padded("1234565") == "01234565"  # EAN-8
    assert gtin_padded("14407281110") is None  # check digit fails: nothing proven
    raw = f"{QTY_HEADER}\n72435974324;A;X;1;10.01.2023\n14407281110;B;Y;1;11.01.2023\n".encode()
    ids = load_sales_bytes(raw, "s.csv", today=TODAY).sales.get_column("item_id").to_list()
    assert ids == ["072435974324", "14407281110"]


def test_padded_forms_that_collide_never_merge() -> None:
    stock = "Штрихкод;Исполнитель;Альбом;Экземпляры\n012345670;A;X;1\n0012345670;B;Y;1\n".encode()
    sales = f"{QTY_HEADER}\n12345670;A;X;1;10.01.2023\n012345670;A;X;1;11.01.2023\n0012345670;B;Y;1;12.01.2023\n"
    data = load_sales_bytes(sales.encode(), "s.csv", stock, "st.csv", today=TODAY)
    by_day = dict(zip(data.sales.get_column("date").to_list(), data.sales.get_column("item_id").to_list(), strict=True))
    # two records in stock, and a bare '12345670' that could be either: kept apart, with a warning
    assert by_day == {date(2023, 1, 10): "12345670", date(2023, 1, 11): "012345670", date(2023, 1, 12): "0012345670"}
    warning = next(i for i in data.report.issues if i.action == "warning")
    assert "several padded forms" in warning.reason and warning.row == 2
    assert "12345670" not in data.report.aliases


def test_one_stocked_padded_form_claims_the_bare_spelling() -> None:
    spellings = decide({"12345670": 3, "012345670": 1, "0012345670": 1}, {"012345670"})
    assert spellings.restored == {"12345670": "012345670"}
    assert decide({"12345670": 3, "012345670": 1}, {"12345670"}).restored == {}  # the stock file writes it bare


def test_the_index_resolves_every_spelling_of_a_record() -> None:
    data = example("sales_shop.csv", "stock_shop.csv")
    items = set(data.attributes.get_column("item_id").to_list())
    found, unknown = resolve_ids(
        ["014407281110", "14407281110", "14407281110.0", " 72435974324 ", "4607012345678", "999", "a:x"],
        items,
        data.report.aliases,
    )
    assert found == {
        "014407281110": "014407281110",
        "14407281110": "014407281110",
        "14407281110.0": "014407281110",
        " 72435974324 ": "072435974324",
        "4607012345678": "4607012345678",
    }
    assert unknown == ["999", "a:x"]


def test_padded_ids_get_their_bare_spelling_as_an_alias_only_when_unambiguous() -> None:
    spellings = decide({}, set())
    assert item_aliases(["0123", "00777", "0777"], spellings) == {"123": "0123"}


_BARCODE = st.text("0123456789", min_size=4, max_size=13).filter(lambda b: b.strip("0") != "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(_BARCODE, min_size=1, max_size=8, unique=True),
    spellings=st.lists(st.tuples(st.integers(0, 7), st.sampled_from(["text", "number", "float"])), max_size=25),
    stocked=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_property_barcode_digits_never_change_but_for_proven_zeros(
    records: list[str], spellings: list[tuple[int, str]], stocked: list[bool]
) -> None:
    in_stock = [barcode for barcode, keep in zip(records, stocked, strict=False) if keep]
    rows, written = [], []
    day = date(2023, 1, 1)
    for index, (pick, how) in enumerate(spellings):
        barcode = records[pick % len(records)]
        cell = {"text": barcode, "number": barcode.lstrip("0"), "float": barcode.lstrip("0") + ".0"}[how]
        rows.append(f"{cell};A{pick};X;1;{(day + timedelta(days=index)).strftime('%d.%m.%Y')}")
        written.append(cell.removesuffix(".0"))
    if not rows:
        return
    stock = "\n".join(["Штрихкод;Исполнитель;Альбом;Экземпляры", *(f"{b};S;Y;1" for b in in_stock)]).encode()
    data = load_sales_bytes(
        "\n".join([QTY_HEADER, *rows]).encode(), "s.csv", stock if in_stock else None, "st.csv", today=TODAY
    )
    by_day = dict(zip(data.sales.get_column("date").to_list(), data.sales.get_column("item_id").to_list(), strict=True))
    for index, cell in enumerate(written):
        got = by_day[day + timedelta(days=index)]
        assert got.endswith(cell) and set(got[: len(got) - len(cell)]) <= {"0"}, (cell, got)  # only zeros added
        if cell in in_stock:
            assert got == cell  # a spelling the stock file uses is never rewritten
        if got != cell:  # restored: proven by the data or by the GTIN check digit
            assert got in in_stock or got in written or got == gtin_padded(cell)
    stocked_ids = data.stock.get_column("item_id").to_list() if data.stock is not None else []
    assert sorted(stocked_ids) == sorted(in_stock)  # distinct stocked records never merge


def test_a_stock_lists_quantity_column_is_its_copy_count() -> None:
    stock = "Штрихкод;Альбом;Количество\n0123;X;4\n".encode()
    sales = f"{QTY_HEADER}\n123;A;X;1;10.01.2023\n".encode()
    data = load_sales_bytes(sales, "s.csv", stock, "st.csv", today=TODAY)
    assert data.stock is not None and data.stock.rows() == [("0123", 4, None)]
    assert data.sales.get_column("item_id").to_list() == ["0123"]


# --- dates -----------------------------------------------------------------------------------------------


def test_us_dates_are_read_month_first_from_the_values() -> None:
    data = example("sales_us_dates.csv")
    assert data.sales.get_column("date").min() == date(2022, 1, 24)
    assert data.sales.equals(example("sales_shop.csv", "stock_shop.csv").sales)
    assert data.report.date_formats["sales_us_dates.csv: Дата заказа"].startswith("mm/dd/yyyy (month first")
    assert data.report.dropped == 0


def _dated(dates: list[str]) -> bytes:
    return "\n".join([QTY_HEADER, *(f"4607012345678;A;X;1;{d}" for d in dates)]).encode()


def test_dates_that_cannot_tell_their_order_assume_day_first_and_say_so() -> None:
    data = load_sales_bytes(_dated(["01/02/2023", "03/04/2023", "05/06/2023"]), "s.csv", today=TODAY)
    assert data.sales.get_column("date").to_list() == [date(2023, 2, 1), date(2023, 4, 3), date(2023, 6, 5)]
    assert any("assumed day first" in warning for warning in data.report.warnings)
    assert "assumed day first" in dataset_report(data).date_formats["s.csv: Дата заказа"]


def test_a_file_that_would_lose_more_than_two_percent_of_rows_for_dates_is_refused() -> None:
    day_first = [f"{13 + i % 15}.0{1 + i % 9}.2023" for i in range(60)]
    month_first = [f"0{1 + i}/2{i}/2023" for i in range(6)]
    with pytest.raises(DataError) as caught:
        load_sales_bytes(_dated(day_first + month_first), "s.csv", today=TODAY)
    error = caught.value
    assert (error.file, error.column, error.row) == ("s.csv", "Дата заказа", 62)
    assert "6 of 66 sale dates" in error.reason and "'01/20/2023'" in error.reason
    assert "dd.mm.yyyy" in error.reason


def test_xlsx_uses_date_typed_cells_as_typed_and_reads_text_dates_by_their_values() -> None:
    import io
    from datetime import datetime

    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    sheet = workbook.add_worksheet()
    us = workbook.add_format({"num_format": "mm/dd/yyyy"})
    sheet.write_row(0, 0, ["Штрихкод", "Альбом", "Дата заказа", "Дата создания"])
    for i in range(5):
        sheet.write_number(i + 1, 0, 14407281110)  # a number cell: Excel shows no leading zero
        sheet.write(i + 1, 1, "X")
        sheet.write_datetime(i + 1, 2, datetime(2022, 1, 2 + i * 5, 10, 30), us)  # typed, shown month first
        sheet.write(i + 1, 3, f"0{1 + i}/1{3 + i}/2021")  # text, month first
    workbook.close()
    data = load_sales_bytes(buffer.getvalue(), "s.xlsx", today=TODAY)
    assert data.sales.get_column("date").to_list() == [date(2022, 1, 2 + i * 5) for i in range(5)]
    assert data.attributes.get_column("added_at").to_list() == [date(2021, 1, 13)]
    assert data.report.date_formats == {"s.xlsx: Дата заказа": "yyyy-mm-dd (ISO, or date-typed cells)"}
    assert data.sales.get_column("item_id").unique().to_list() == ["14407281110"]  # nothing proves a zero


def test_iso_times_two_digit_years_and_excel_serials_are_read() -> None:
    data = load_sales_bytes(
        _dated(["2023-01-15 10:30:00", "16.01.23", "44943", "2023-01-18T09:00", "19.01.2023 9:05 PM"]),
        "s.csv",
        today=TODAY,
    )
    assert data.sales.get_column("date").to_list() == [date(2023, 1, d) for d in (15, 16, 17, 18, 19)]


# --- quantities and returns ------------------------------------------------------------------------------


def test_returns_are_netted_and_reported() -> None:
    data = example("sales_returns.csv")
    report = dataset_report(data)
    assert (report.copies_sold, report.copies_returned) == (3.0, 2.0)
    assert data.sales.get_column("quantity").sum() == 3.0
    assert (data.sales.get_column("quantity") >= 0).all()
    # the April return of a copy sold in March cannot go below zero: reported, not netted across months
    (excess,) = [i for i in report.issues if i.action == "warning"]
    assert excess.row == 6 and "exceed its sales in that month" in excess.reason


def test_english_quantity_column_nets_negative_rows() -> None:
    report = dataset_report(example("sales_canonical.csv"))
    assert (report.copies_sold, report.copies_returned, report.dropped) == (3.0, 1.0, 0)


@pytest.mark.parametrize("header", ["Количество", "Кол-во", "кол во", "Qty", "quantity"])
def test_quantity_spellings(header: str) -> None:
    raw = f"Штрихкод;Альбом;{header};Дата заказа\n1;X;3;10.01.2023\n1;X;-1;11.01.2023\n".encode()
    assert dataset_report(load_sales_bytes(raw, "s.csv", today=TODAY)).copies_sold == 2.0


_QUANTITY_ROW = st.tuples(st.integers(0, 3), st.integers(0, 120), st.integers(-2, 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_QUANTITY_ROW, min_size=1, max_size=40))
def test_property_panel_total_equals_copies_sold(rows: list[tuple[int, int, int]]) -> None:
    start = date(2023, 1, 1)
    lines = [f"{item},{(start + timedelta(days=day)).isoformat()},{qty}" for item, day, qty in rows]
    data = load_sales_bytes("\n".join(["item_id,date,quantity", *lines]).encode(), "s.csv", today=TODAY)
    report = dataset_report(data)
    assert report.copies_returned == -sum(min(q, 0) for _, _, q in rows)
    for frequency in ("M", "W"):
        panel = build_panel(data, frequency)  # type: ignore[arg-type]
        assert (panel.get_column("y") >= 0).all()
        assert panel.get_column("y").sum() == pytest.approx(report.copies_sold)


# --- encodings and wrong files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sales_shop_koi8r.csv", "sales_shop_cp1251.csv"])
def test_cyrillic_code_pages_read_like_utf8(name: str) -> None:
    expected = example("sales_shop.csv", "stock_shop.csv")
    data = example(name, "stock_shop.csv")
    assert data.sales.equals(expected.sales)
    assert data.attributes.equals(expected.attributes)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16", "cp866", "utf-8-sig"])
def test_other_encodings(encoding: str) -> None:
    text = (EXAMPLES / "sales_shop.csv").read_text(encoding="utf-8")
    data = load_sales_bytes(text.encode(encoding), "s.csv", today=TODAY)
    assert data.attributes.get_column("artist").to_list() == ["Кино", "ДДТ", "Аквариум"]


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (b"\x1f\x8b\x08\x00\x00\x00", "a gzip archive"),
        (b"Rar!\x1a\x07\x00", "a RAR archive"),
        (b"<!DOCTYPE html><html><body>", "an HTML page"),
    ],
)
def test_files_that_are_not_tables_are_named(raw: bytes, what: str) -> None:
    with pytest.raises(DataError, match=f"looks like {what}, not a table"):
        load_sales_bytes(raw, "sales.csv")


def test_a_readable_file_without_the_columns_lists_what_it_found() -> None:
    raw = "Имя;Фамилия;Телефон\nИван;Петров;123\n".encode("koi8-r")
    with pytest.raises(DataError, match=r"no header row with a sale date column") as caught:
        load_sales_bytes(raw, "people.csv")
    assert "read as koi8-r text" in caught.value.reason
    assert "the columns found: 'Имя', 'Фамилия', 'Телефон'" in caught.value.reason


# --- plausibility and the report -------------------------------------------------------------------------


def test_implausible_values_are_flagged() -> None:
    data = example("sales_implausible.csv")
    found = {(i.row, i.column): (i.action, i.reason) for i in data.report.issues}
    assert found[(2, "Год выпуска")] == ("repaired", "pressing_year '2041' is not a year from 1900 to 2024; left empty")
    assert found[(3, "Год записи")][0] == "repaired"
    assert found[(2, "Цена, руб.")] == ("repaired", "price '0' is not a price above 0; left empty")
    assert found[(2, None)] == ("warning", "sale date 2022-02-03 is before the record was added (2022-03-10); kept")
    kinds = dataset_report(data).issue_kinds
    assert kinds["repaired: pressing_year '…' is not a year from # to #; left empty"] == 1
    assert kinds["warning: sale date # is before the record was added (#); kept"] == 1
    assert data.attributes.get_column("pressing_year").to_list() == [2019]
    assert data.sales.height == 2  # the early sale is kept


def test_the_report_counts_everything_and_says_when_the_list_is_cut() -> None:
    lines = [f"{i};A{i};X;1;{10 + i % 15}.01.2023" for i in range(100)]
    lines += [f";;;1;{10 + i % 15}.01.2023" for i in range(3)]  # no identity
    data = load_sales_bytes("\n".join([QTY_HEADER, *lines]).encode(), "s.csv", today=TODAY)
    report = dataset_report(data, max_issues=2)
    assert (report.issues_total, len(report.issues), report.truncated) == (3, 2, True)
    assert report.issue_counts == {"dropped": 3, "repaired": 0, "warning": 0}
    assert report.issue_kinds == {"dropped: missing identity: no item id, barcode, artist or album": 3}
    assert (report.rows, report.sales_rows, report.sales_rows_read, report.stock_rows) == (100, 100, 103, None)
    assert report.warnings == ["s.csv: 3 of 103 rows (2.9%) were dropped: check the issues before training"]
    assert dataset_report(data).truncated is False


def test_sales_and_stock_rows_are_counted_apart() -> None:
    report = dataset_report(example("sales_shop.csv", "stock_shop.csv"))
    assert (report.rows, report.sales_rows, report.stock_rows, report.rows_read) == (5, 5, 3, 8)


# --- a training's output ---------------------------------------------------------------------------------


def test_a_model_trained_on_excel_mangled_barcodes_forecasts_under_the_stock_files_spelling(tmp_path: Path) -> None:
    from plastinka_forecasting.api import predict, train
    from plastinka_forecasting.synthetic import generate_shop, write_shop

    files = write_shop(generate_shop(40, 18, seed=1), tmp_path / "shop", fmt="csv")
    stock_ids = {line.split(";")[0] for line in files.stock.read_text(encoding="utf-8").splitlines()[1:]}
    padded = {b for b in stock_ids if b.startswith("0")}
    assert padded, "the synthetic shop has UPC barcodes written with a leading zero"
    lines = files.sales.read_text(encoding="utf-8").splitlines()
    # Excel saved the sales file's barcodes as numbers: zeros lost, a float artefact added
    mangled = [lines[0]] + [
        (f"{line.split(';', 1)[0].lstrip('0')}.0;{line.split(';', 1)[1]}" if line.startswith("0") else line)
        for line in lines[1:]
    ]
    files.sales.write_text("\n".join(mangled) + "\n", encoding="utf-8")
    data = load_sales(files.sales, files.stock)
    assert padded <= set(data.attributes.get_column("item_id").to_list())
    model = train(data, frequency="M", horizon=2, quantiles=(0.1, 0.5, 0.9), params={"max_rounds": 10})
    forecast_ids = set(predict(model).get_column("item_id").to_list())
    assert padded <= forecast_ids
    assert not {b.lstrip("0") for b in padded} & forecast_ids  # no record under its mangled spelling
