"""Issue 12 through the API: the upload report a shop can reconcile, and item ids in any of the record's spellings.

The sales file spells two records as Excel numbers (``14407281110.0``, ``72435974324``); the stock file writes
them with their leading zeros. Every answer names them the stock file's way and accepts either spelling;
ids that name no record are a 422 at once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from plastinka_testing.app import (
    Api,
    run_training,
    succeed_prediction,
    upload,
)

EXAMPLES = Path(__file__).parents[3] / "packages" / "forecasting" / "tests" / "examples"


@pytest.fixture
async def dataset(api: Api, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    sales = shutil.copy(EXAMPLES / "sales_shop.csv", tmp_path / "sales.csv")
    stock = shutil.copy(EXAMPLES / "stock_shop.csv", tmp_path / "stock.csv")
    response = await upload(api.analyst, Path(sales), Path(stock))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_upload_report_counts_sales_and_stock_apart(api: Api, dataset: dict) -> None:  # type: ignore[type-arg]
    report = dataset["report"]
    assert (report["rows"], report["sales_rows"], report["stock_rows"], report["rows_read"]) == (5, 5, 3, 8)
    assert (report["copies_sold"], report["copies_returned"]) == (5.0, 0.0)
    assert report["issues_total"] == 2 and report["issue_counts"]["repaired"] == 2 and report["truncated"] is False
    assert report["warnings"] and "were repaired" in report["warnings"][0]
    assert "item_index" not in report  # kept for the API's own use, never shown
    stored = (await api.viewer.get(f"/api/v1/datasets/{dataset['id']}")).json()["report"]
    assert stored == report


async def test_returns_are_reported_on_upload(api: Api) -> None:
    response = await upload(api.analyst, EXAMPLES / "sales_returns.csv")
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert (report["copies_sold"], report["copies_returned"]) == (3.0, 2.0)


async def test_us_dates_upload_reads_month_first(api: Api) -> None:
    response = await upload(api.analyst, EXAMPLES / "sales_us_dates.csv")
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert report["period_start"] == "2022-01-24"
    assert report["date_formats"]["sales_us_dates.csv: Дата заказа"].startswith("mm/dd/yyyy")


async def test_a_pdf_renamed_csv_is_a_422_saying_what_it_is(api: Api, tmp_path: Path) -> None:
    pdf = tmp_path / "sales.csv"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n")
    response = await upload(api.analyst, pdf)
    assert response.status_code == 422
    assert "looks like a PDF document" in response.json()["message"]


async def test_prediction_items_resolve_any_spelling_and_unknown_ids_are_422(
    api: Api,
    dataset: dict,  # type: ignore[type-arg]
) -> None:
    await run_training(api, dataset["id"])
    unknown = await api.analyst.post("/api/v1/prediction", json={"items": ["014407281110", "nope", "0000999"]})
    assert unknown.status_code == 422, unknown.text
    body = unknown.json()
    assert body["error"] == "unknown_items"
    assert body["details"]["unknown"] == ["nope", "0000999"] and body["details"]["unknown_total"] == 2
    assert "'nope'" in body["message"]

    accepted = await api.analyst.post(
        "/api/v1/prediction", json={"items": ["14407281110.0", "014407281110", "72435974324", "4607012345678"]}
    )
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    job = api.ctx.repo.get(job_id, owner="shop")
    assert job is not None
    assert job.parameters["items"] == ["014407281110", "072435974324", "4607012345678"]

    done = await succeed_prediction(api, job_id, job.parameters["items"])
    assert done.status_code == 200, done.text
    for spelling in ("014407281110", "14407281110", "14407281110.0"):
        page = (await api.viewer.get(f"/api/v1/results/{job_id}", params={"item_id": spelling})).json()
        assert page["total"] == 3 and {row["item_id"] for row in page["rows"]} == {"014407281110"}
        plot = await api.viewer.get(f"/api/v1/results/{job_id}/plot", params={"item_id": spelling})
        assert plot.status_code == 200, plot.text
        assert plot.headers["content-type"] == "image/png"
    missing = await api.viewer.get(f"/api/v1/results/{job_id}/plot", params={"item_id": "nope"})
    assert missing.status_code == 404


async def test_a_file_that_would_lose_rows_to_dates_is_a_422_naming_row_column_and_examples(
    api: Api, tmp_path: Path
) -> None:
    lines = ["Штрихкод;Альбом;Дата заказа"]
    lines += [f"4607012345678;X;{13 + i % 15}.01.2023" for i in range(50)]
    lines += [f"4607012345678;X;01/{20 + i}/2023" for i in range(5)]  # month first among day-first dates
    sales = tmp_path / "mixed.csv"
    sales.write_text("\n".join(lines) + "\n", encoding="utf-8")
    response = await upload(api.analyst, sales)
    assert response.status_code == 422, response.text
    (detail,) = response.json()["details"]
    assert (detail["file"], detail["row"], detail["column"]) == ("mixed.csv", 52, "Дата заказа")
    assert "'01/20/2023'" in detail["reason"] and "dd.mm.yyyy" in detail["reason"]
    assert (await api.viewer.get("/api/v1/datasets")).json()["total"] == 0
