"""No 500 from input: random bytes, damaged workbooks and parquet files, and csv text from a grammar of shop exports
(separators, quotes, bare carriage returns, long fields, several encodings) either load or are refused with a
``DataError``; over HTTP, the same inputs answer 2xx, 413 or 422 naming the file, never 500.

The ingestion level runs many examples quickly in this process; the HTTP level runs fewer through the real upload
(spool, parsing child, error mapping) of the suite's server."""

from __future__ import annotations

import io
from datetime import date

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plastinka_forecasting.ingest import DataError, load_sales_bytes
from plastinka_testing.security import SecureServer
from plastinka_testing.servers import post_dataset

TODAY = date(2024, 6, 1)
NAMES = ("sales.csv", "sales.xlsx", "sales.parquet", "sales.xls", "sales.txt", "sales")

HEADERS = (
    "Дата продажи",
    "Дата заказа",
    "Исполнитель",
    "Альбом",
    "Штрихкод",
    "Цена",
    "Количество",
    "Стиль",
    "date",
    "item_id",
    "quantity",
    "Комментарий",
    "",
)
CELLS = st.one_of(
    st.sampled_from(["2023-01-15", "15.01.2023", "01/15/2023", "15.01.23 10:30", "45123", "2023-13-45", "завтра"]),
    st.sampled_from(["1", "-3", "1 500,00", "1e309", "NaN", "0x1F", "=1+2", "014407281110", "14407281110.0"]),
    st.text(max_size=30),
    st.text(alphabet=';,\t"\r\n\x00\ufeff ', max_size=8),
    st.builds(lambda char, size: char * size, st.sampled_from("xЖ\"'"), st.sampled_from([4097, 131_073, 200_000])),
)
SEPARATORS = st.sampled_from([";", ",", "\t", "|"])
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1251", "koi8-r", "utf-16", "utf-16-le"])


def _field(cell: str, quote: bool) -> str:
    return '"' + cell.replace('"', '""') + '"' if quote else cell


@st.composite
def csv_exports(draw: st.DrawFn) -> bytes:
    """Text shaped like a shop's csv export, with the damage real exports and hostile ones carry."""
    separator, ending = draw(SEPARATORS), draw(ENDINGS)
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7))
    junk = draw(st.lists(st.text(max_size=20), max_size=3))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 2), max_size=12))
    quoting = draw(st.sampled_from(["never", "always", "random"]))

    def line(cells: list[str]) -> str:
        quoted = [quoting == "always" or (quoting == "random" and draw(st.booleans())) for _ in cells]
        return separator.join(_field(cell, quote) for cell, quote in zip(cells, quoted, strict=True))

    text = ending.join([*junk, line(header), *(line(row) for row in rows)])
    if draw(st.booleans()):
        text += ending
    return text.encode(draw(ENCODINGS), errors="replace")


def _good_files() -> list[bytes]:
    frame = pl.DataFrame(
        {
            "Дата продажи": ["2023-01-15", "2023-02-15", "2023-03-15"] * 5,
            "Исполнитель": ["Artist A", "Artist B", "Artist C"] * 5,
            "Альбом": ["Album 1", "Album 2", "Album 3"] * 5,
            "Цена": ["1000", "1500", "900"] * 5,
        }
    )
    xlsx, parquet = io.BytesIO(), io.BytesIO()
    frame.write_excel(xlsx)
    frame.write_parquet(parquet)
    return [frame.write_csv().encode(), xlsx.getvalue(), parquet.getvalue()]


GOOD = _good_files()


@st.composite
def damaged_files(draw: st.DrawFn) -> bytes:
    """A valid csv, xlsx or parquet file cut short, or with a stretch of it overwritten."""
    data = bytearray(draw(st.sampled_from(GOOD)))
    if draw(st.booleans()):
        return bytes(data[: draw(st.integers(0, len(data)))])
    start = draw(st.integers(0, len(data) - 1))
    patch = draw(st.binary(min_size=1, max_size=64))
    data[start : start + len(patch)] = patch
    return bytes(data)


UPLOADS = st.one_of(st.binary(max_size=2048), csv_exports(), damaged_files())


def _load_or_refuse(data: bytes, name: str, stock: bytes | None = None) -> None:
    """Loads, or raises DataError naming a file; any other exception fails the test."""
    try:
        load_sales_bytes(data, name, stock, "stock.csv" if stock is not None else None, today=TODAY)
    except DataError as error:
        assert error.file is not None and error.file.split(" [")[0] in (name, "stock.csv"), error
        assert error.reason


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=UPLOADS, name=st.sampled_from(NAMES))
def test_ingestion_refuses_anything_it_cannot_use_with_a_data_error(data: bytes, name: str) -> None:
    _load_or_refuse(data, name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sales=csv_exports(), stock=UPLOADS)
def test_a_damaged_stock_file_is_a_data_error_too(sales: bytes, stock: bytes) -> None:
    _load_or_refuse(sales, "sales.csv", stock)


_HEADER = "Дата продажи;Исполнитель;Альбом\n"
#: The csv module's errors that answered 500 before (issue 16, finding 6), and a decoding error.
PARSER_ERRORS = {
    "bare carriage return in a field": b"a;b\nx\ry;z\n",
    "field over the csv module's limit": (_HEADER + "2023-01-15;" + "A" * 131_073 + ";B\n").encode(),
    "the same above the header": ("x" * 131_073 + "\n" + _HEADER + "2023-01-15;A;B\n").encode(),
    "utf-16 cut inside a character": (_HEADER + "2023-01-15;A;B\n").encode("utf-16")[:-1],
}


def test_the_reported_csv_parser_errors_are_data_errors() -> None:
    for data in PARSER_ERRORS.values():
        _load_or_refuse(data, "sales.csv")


def test_the_reported_csv_parser_errors_answer_422_over_http(server: SecureServer) -> None:
    with server.client(server.keys["analyst"]) as analyst:
        answers = {case: post_dataset(analyst, data, "sales.csv") for case, data in PARSER_ERRORS.items()}
    # a line above the header is not read at all: that upload loads; every other one is refused
    assert answers.pop("the same above the header").status_code == 201
    for case, response in answers.items():
        assert response.status_code == 422, (case, response.status_code, response.text[:300])
        assert response.json()["details"][0]["file"] == "sales.csv", case
    long_field = answers["field over the csv module's limit"].json()["details"][0]
    assert (long_field["row"], long_field["column"]) == (2, "Исполнитель")
    assert "131073 bytes" in long_field["reason"] and "4096" in long_field["reason"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(data=UPLOADS, name=st.sampled_from(NAMES))
def test_uploads_never_answer_500(server: SecureServer, data: bytes, name: str) -> None:
    with server.client(server.keys["analyst"]) as analyst:
        response = post_dataset(analyst, data, name)
    assert response.status_code in (200, 201, 413, 422), (response.status_code, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert body["error"] and body["message"]
        if body["error"] == "payload_too_large":  # the request's own size cap: no file was read, the limit is named
            assert "limit of" in body["message"], body
        else:
            assert body["details"][0]["file"].split(" [")[0] == name, body
