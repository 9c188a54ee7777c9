"""Item identity: normalised barcodes, else artist + album + release type; attributes never split an item."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from plastinka_forecasting.ingest import item_name_key, load_sales_bytes, normalize_barcode

TODAY = date(2024, 6, 30)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("4607012345678", "4607012345678"),
        ("4607012345678.0", "4607012345678"),
        ("4607012345678,00", "4607012345678"),
        (" 4 607 012 345 678 ", "4607012345678"),
        ("4\u00a0607012345678", "4607012345678"),
        ("00123", "00123"),  # a barcode is text: leading zeros stay
        ("0602547288218", "0602547288218"),
        ("4.607012345678E+12", "4607012345678"),
        ("4,607012345678e12", "4607012345678"),
        ("4.6e+12", None),
        ("4.60701E+12", None),
        ("16020c", "16020C"),
        ("978-5-17-118366-7", "9785171183667"),
        ("0000", None),
        ("", None),
        ("   ", None),
        (None, None),
        (4607012345678, "4607012345678"),
    ],
)
def test_normalize_barcode(cell: object, expected: str | None) -> None:
    assert normalize_barcode(cell) == expected


def test_name_key_is_readable_and_ignores_case_spacing_and_punctuation() -> None:
    key = item_name_key("The  Beatles", "Abbey Road!", "Оригинал")
    assert key == "a:the beatles|abbey road|original"
    assert item_name_key("the beatles", "ABBEY ROAD", "оригинал") == key
    assert item_name_key(" The Beatles ", "Abbey  Road.", "original") == key
    assert item_name_key("Ёлка", "«Новогодний» альбом — 2", "Переиздание") == "a:елка|новогодний альбом 2|reissue"
    assert item_name_key("Кино", "Группа крови", None) == "a:кино|группа крови|"
    assert item_name_key(None, "Только альбом", None) == "a:|только альбом|"
    assert item_name_key(None, "  ", None) is None
    assert item_name_key("A", "B", "Оригинал") != item_name_key("A", "B", "Переиздание")


HEADER = "Штрихкод;Исполнитель;Альбом;Конверт;Цена, руб.;Тип;Стиль;Дата заказа"


def load(*lines: str) -> pl.DataFrame:
    data = load_sales_bytes("\n".join([HEADER, *lines]).encode(), "s.csv", today=TODAY)
    return data.sales.join(data.attributes, on="item_id")


def test_price_sleeve_and_style_are_attributes_not_identity() -> None:
    frame = load(
        "123;A;X;SS;1000;Оригинал;Rock;01.01.2023",
        "00123;A;X;VG;900;Оригинал;Rock/Punk;02.01.2023",
        ";B;Y;SS;500;Переиздание;Jazz;03.01.2023",
        ";b;y.;G;400;переиздание;Jazz/Bop;04.01.2023",
        ";B;Y;SS;500;Оригинал;Jazz;05.01.2023",
    )
    # '123' is '00123' with its zeros lost (another row names the padded form): one record, the padded spelling
    assert frame.get_column("item_id").unique().sort().to_list() == ["00123", "a:b|y|original", "a:b|y|reissue"]
    latest = frame.filter(pl.col("item_id") == "a:b|y|reissue").row(-1, named=True)
    assert (latest["sleeve"], latest["price"], latest["style"]) == ("G", 400.0, "Jazz/Bop")


def test_copies_without_barcode_join_the_record_with_that_name_and_barcode() -> None:
    data = load_sales_bytes(
        "\n".join([HEADER, "555;A;X;SS;1;Оригинал;;01.01.2023", ";a;x;SS;1;Оригинал;;02.01.2023"]).encode(),
        "s.csv",
        today=TODAY,
    )
    assert data.sales.get_column("item_id").to_list() == ["555", "555"]
    (issue,) = data.report.issues
    assert (issue.row, issue.action) == (3, "repaired")
    assert "matched by artist and album to barcode 555" in issue.reason


def test_ambiguous_names_are_not_linked() -> None:
    frame = load(
        "555;A;X;SS;1;Оригинал;;01.01.2023",
        "666;A;X;SS;1;Оригинал;;02.01.2023",
        ";A;X;SS;1;Оригинал;;03.01.2023",
    )
    assert sorted(frame.get_column("item_id").to_list()) == ["555", "666", "a:a|x|original"]
