"""The per-record table, the order list and the Excel-ready downloads, through the real HTTP stack: a prediction
job succeeded with a forecast and the order list the predict function makes (``order_list``)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from typing import Any

import polars as pl

from plastinka_forecasting.orders import order_list
from plastinka_testing.app import Api, claim, event, forecast_frame, post_event, prediction_manifest, run_training

BARCODE = "0462367669226"  # a leading zero Excel would drop, 13 digits it would show as 4.62E+11
RECORDS = [
    (BARCODE, "Pink Floyd", "The Wall", 1, 3.0),
    ("4607173150011", "Кино", "Группа крови", None, 1.0),
    ("111", "=cmd|' /C calc'!A0", "+Evil", 10, 0.5),
    ("222", "Аквариум", "@SUM(1)", 0, 0.0),
    ("333", "Nobody", "-minus", 2, 2.0),
]


def shop_forecast() -> pl.DataFrame:
    """A forecast as the predict function writes it: quantiles per period, then the records' attributes."""
    base = forecast_frame([r[0] for r in RECORDS], start=date(2025, 1, 1))
    base = base.rename({"q_0.05": "q_0.1", "q_0.95": "q_0.9"})
    rates = {r[0]: r[4] for r in RECORDS}
    attributes = pl.DataFrame(
        {
            "item_id": [r[0] for r in RECORDS],
            "barcode": [r[0] for r in RECORDS],
            "artist": [r[1] for r in RECORDS],
            "album": [r[2] for r in RECORDS],
            "copies": [r[3] for r in RECORDS],
        },
        schema_overrides={"copies": pl.Int64},
    )
    frame = base.with_columns(pl.col("item_id").replace_strict(rates, return_dtype=pl.Float64).alias("mean"))
    return frame.join(attributes, on="item_id", how="left")


async def predicted(api: Api, *, with_orders: bool = True, **body: Any) -> tuple[str, pl.DataFrame]:
    response = await api.analyst.post("/api/v1/prediction", json=body)
    assert response.status_code == 202, response.text
    job = response.json()["job_id"]
    await claim(api.ctx)
    forecast = shop_forecast()
    orders = order_list(forecast, None, service_level=body.get("service_level", 0.8), cover=body.get("cover_months"))
    manifest = await prediction_manifest(api.ctx, job, 1, forecast, orders if with_orders else None)
    done = await post_event(api.analyst, api.ctx, event(job, 1, "succeeded", manifest=manifest))
    assert done.json()["status"] == "succeeded"
    return job, orders


async def test_cover_months_past_the_horizon_is_refused(api: Api, dataset_id: str) -> None:
    await run_training(api, dataset_id)  # horizon 3
    past_model = await api.analyst.post("/api/v1/prediction", json={"cover_months": 4})
    assert past_model.status_code == 422 and past_model.json()["error"] == "cover_beyond_horizon"
    past_request = await api.analyst.post("/api/v1/prediction", json={"horizon": 2, "cover_months": 3})
    assert past_request.status_code == 422
    for level in (0.0, 1.0, 1.5):
        bad = await api.analyst.post("/api/v1/prediction", json={"service_level": level})
        assert bad.status_code == 422
    accepted = await api.analyst.post("/api/v1/prediction", json={"service_level": 0.9, "cover_months": 2})
    assert accepted.status_code == 202
    job = (await api.analyst.get(f"/api/v1/prediction/{accepted.json()['job_id']}")).json()
    assert job["horizon"] == 3


async def test_records_are_searched_sorted_and_paged(api: Api, dataset_id: str) -> None:
    training, _ = await run_training(api, dataset_id)
    job, orders = await predicted(api, service_level=0.9, cover_months=2)
    url = f"/api/v1/results/{job}/records"
    page = (await api.viewer.get(url)).json()
    assert page["total"] == len(RECORDS) and page["service_level"] == 0.9 and page["cover_months"] == 2
    assert page["periods"] == ["2025-01-01", "2025-02-01", "2025-03-01"]
    assert page["low_level"] == 0.1 and page["high_level"] == 0.9 and page["total_method"] == "poisson"
    suggested = [row["suggested_order"] for row in page["rows"]]
    assert suggested == sorted(suggested, reverse=True)
    expected = {r["item_id"]: r["suggested_order"] for r in orders.iter_rows(named=True)}
    assert {row["item_id"]: row["suggested_order"] for row in page["rows"]} == expected
    wall = next(row for row in page["rows"] if row["barcode"] == BARCODE)
    assert wall["artist"] == "Pink Floyd" and wall["stock"] == 1 and wall["mean"] == [3.0, 3.0, 3.0]
    assert wall["total_mean"] == 6.0 and wall["suggested_order"] == max(0, int(wall["total_quantile"]) - 1)
    assert next(row for row in page["rows"] if row["artist"] == "Кино")["stock"] is None

    found = (await api.viewer.get(url, params={"q": "КИНО"})).json()
    assert [row["album"] for row in found["rows"]] == ["Группа крови"] and found["total"] == 1
    assert (await api.viewer.get(url, params={"q": "0462367"})).json()["rows"][0]["album"] == "The Wall"
    by_artist = (await api.viewer.get(url, params={"sort": "artist", "limit": 2, "offset": 1})).json()
    artists = sorted(r[1] for r in RECORDS)
    assert [row["artist"] for row in by_artist["rows"]] == artists[1:3] and by_artist["total"] == len(RECORDS)
    by_stock = (await api.viewer.get(url, params={"sort": "-stock"})).json()["rows"]
    assert [row["stock"] for row in by_stock] == [10, 2, 1, 0, None]  # unknown stock last
    assert (await api.viewer.get(url, params={"sort": "price"})).status_code == 422
    assert (await api.viewer.get(url, params={"limit": 501})).status_code == 422
    assert (await api.viewer.get(f"/api/v1/results/{training}/records")).status_code == 400
    assert (await api.other.get(url)).status_code == 404


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: a Russian Excel reads the Cyrillic right
    return list(csv.reader(io.StringIO(content[3:].decode("utf-8")), delimiter=";"))


async def test_the_order_list_downloads_are_excel_ready_in_russian(api: Api, dataset_id: str) -> None:
    await run_training(api, dataset_id)
    job, _ = await predicted(api)
    url = f"/api/v1/results/{job}/orders"
    listed = (await api.viewer.get(url)).json()
    assert listed["total"] == len(RECORDS) and listed["service_level"] == 0.8 and listed["cover_months"] == 3

    russian = await api.viewer.get(url, params={"format": "csv", "lang": "ru"})
    assert russian.status_code == 200 and russian.headers["content-type"].startswith("text/csv")
    header, *rows = _csv_rows(russian.content)
    assert header[:7] == [
        "Штрихкод",
        "Исполнитель",
        "Альбом",
        "В наличии",
        "Ожидаемые продажи за срок",
        "Нужно на срок (с вероятностью уровня обслуживания)",
        "Рекомендуемый заказ",
    ]
    cells = {row[0]: row for row in rows}
    wall = cells[f'="{BARCODE}"']  # kept as text by Excel: no lost zero, no 4.6E+12
    assert wall[4] == "9,00" and wall[7] == "0,80"  # decimal comma, 2 places
    evil = cells['="111"']
    assert evil[1] == "'=cmd|' /C calc'!A0"
    assert evil[2] == "'+Evil" and cells['="222"'][2] == "'@SUM(1)" and cells['="333"'][2] == "'-minus"
    assert not any(cell.startswith(("=", "+", "-", "@")) and not cell.startswith('="') for row in rows for cell in row)

    english = await api.viewer.get(url, params={"format": "csv"})
    assert english.text.splitlines()[0].startswith("barcode,artist,album,stock,total_mean")

    xlsx = await api.viewer.get(url, params={"format": "xlsx", "lang": "ru"})
    sheet = pl.read_excel(io.BytesIO(xlsx.content), engine="calamine", infer_schema_length=0)
    assert sheet.columns[:3] == ["Штрихкод", "Исполнитель", "Альбом"] and "Рекомендуемый заказ" in sheet.columns
    assert BARCODE in sheet.get_column("Штрихкод").to_list()  # text, leading zero kept
    texts = [str(v) for column in sheet.columns for v in sheet.get_column(column).to_list() if v is not None]
    assert "'=cmd|' /C calc'!A0" in texts and "'+Evil" in texts and not any(t.startswith("=") for t in texts)
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
        styles = book.read("xl/styles.xml").decode()
    assert 'state="frozen"' in xml and 'ySplit="1"' in xml and "<autoFilter" in xml
    assert "<col " in xml and 'formatCode="0.00"' in styles

    forecast = await api.viewer.get(f"/api/v1/results/{job}", params={"format": "csv", "lang": "ru"})
    header, *rows = _csv_rows(forecast.content)
    assert {"Период", "Прогноз", "Нижняя граница (10%)", "Верхняя граница (90%)", "Рекомендуемый заказ"} <= set(header)
    assert len(rows) == len(RECORDS) * 3 and rows[0][header.index("Период")].count(".") == 2  # dd.mm.yyyy
    forecast_xlsx = await api.viewer.get(f"/api/v1/results/{job}", params={"format": "xlsx", "lang": "ru"})
    columns = pl.read_excel(io.BytesIO(forecast_xlsx.content), engine="calamine").columns
    assert "Рекомендуемый заказ" in columns and "Штрихкод" in columns
    assert (await api.viewer.get(url, params={"format": "csv", "lang": "de"})).status_code == 422


async def test_a_prediction_without_an_order_list_gets_one_from_its_forecast(api: Api, dataset_id: str) -> None:
    await run_training(api, dataset_id)
    job, orders = await predicted(api, with_orders=False, cover_months=1)
    listed = (await api.viewer.get(f"/api/v1/results/{job}/orders", params={"limit": 10})).json()
    assert listed["total_method"] == "poisson" and listed["cover_months"] == 1
    assert {r["item_id"]: r["suggested_order"] for r in listed["rows"]} == dict(
        orders.select("item_id", "suggested_order").iter_rows()
    )
