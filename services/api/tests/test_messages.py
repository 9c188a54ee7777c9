"""Messages a person understands: every error keeps its code and gains a plain ``hint`` (Russian on request),
frequencies read in any spelling, and a dataset too short to train is refused at submit, naming it and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from plastinka_api.datasets.history import history_periods
from plastinka_api.errors import HINTS, hint_for, wants_russian
from plastinka_forecasting import train
from plastinka_forecasting.ingest import load_sales
from plastinka_forecasting.panel import MIN_TRAINING_PERIODS
from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_schemas import Frequency
from plastinka_testing.app import Api, upload

# --- error hints ----------------------------------------------------------------------------------------


async def test_an_error_keeps_its_code_and_message_and_gains_a_plain_hint(api: Api) -> None:
    response = await api.analyst.get("/api/v1/datasets/ds_missing")
    body = response.json()
    assert response.status_code == 404
    assert body["error"] == "not_found" and body["message"] == "dataset 'ds_missing' not found"
    assert body["hint"] == HINTS["not_found"][0]


async def test_the_hint_is_russian_when_the_client_prefers_russian(api: Api) -> None:
    headers = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
    body = (await api.analyst.get("/api/v1/datasets/ds_missing", headers=headers)).json()
    assert body["error"] == "not_found"
    assert body["hint"] == HINTS["not_found"][1] and "идентификатор" in body["hint"]
    unauthenticated = await api.client(None).get("/api/v1/datasets", headers=headers)
    assert unauthenticated.status_code == 401 and "Authorization: Bearer" in unauthenticated.json()["hint"]


async def test_validation_errors_read_without_pydantic_prefixes(api: Api, dataset_id: str) -> None:
    response = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, "horizon": 13})
    body = response.json()
    assert response.status_code == 422 and body["error"] == "validation_error"
    assert "Value error" not in body["message"]
    assert body["details"][0]["message"].startswith("horizon must be 1..12 months")
    assert body["hint"] == HINTS["validation_error"][0]


async def test_routing_errors_get_hints_too(api: Api) -> None:
    response = await api.analyst.delete("/api/v1/training")
    assert response.status_code == 405
    assert response.json()["hint"] == HINTS["method_not_allowed"][0]


@pytest.mark.parametrize(
    ("header", "russian"),
    [
        ("ru", True),
        ("ru-RU,ru;q=0.9,en-US;q=0.8", True),
        ("en-US,en;q=0.9,ru;q=0.8", False),
        ("de-DE,ru;q=0.5,en;q=0.4", True),
        ("en;q=0.2,ru;q=0.7", True),
        ("ru;q=0", False),
        ("", False),
        (None, False),
        ("*", False),
    ],
)
def test_accept_language_picks_the_hint_language(header: str | None, russian: bool) -> None:
    assert wants_russian(header) is russian


def test_a_code_without_its_own_hint_borrows_its_status_hint() -> None:
    assert hint_for("some_new_conflict", 409) == HINTS["conflict"][0]
    assert hint_for("some_new_code", 418) == HINTS["http_error"][0]
    assert all(english and russian and english != russian for english, russian in HINTS.values())


# --- frequencies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "value"),
    [("m", "M"), ("M", "M"), ("month", "M"), ("Monthly", "M"), ("w", "W"), ("WEEK", "W"), (" weekly ", "W")],
)
async def test_training_reads_a_frequency_in_any_spelling(api: Api, dataset_id: str, spelling: str, value: str) -> None:
    response = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, "frequency": spelling})
    assert response.status_code == 202, response.text
    detail = (await api.analyst.get(f"/api/v1/training/{response.json()['job_id']}")).json()
    assert detail["parameters"]["frequency"] == value


async def test_an_unknown_frequency_is_refused_naming_the_field(api: Api, dataset_id: str) -> None:
    response = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, "frequency": "daily"})
    assert response.status_code == 422
    assert response.json()["details"][0]["where"] == "body.frequency"


def test_the_enum_itself_reads_every_spelling() -> None:
    assert Frequency("monthly") is Frequency.MONTH and Frequency("Week") is Frequency.WEEK
    with pytest.raises(ValueError, match="not a valid Frequency"):
        Frequency("day")


# --- too little history ---------------------------------------------------------------------------------


def _shop(tmp_path: Path, months: int) -> Path:
    shop = generate_shop(items=60, months=months, seed=5, start=date(2024, 1, 1))
    return write_shop(shop, tmp_path / f"shop-{months}", fmt="csv").sales


async def test_a_dataset_too_short_to_train_is_refused_at_submit(api: Api, tmp_path: Path) -> None:
    sales = _shop(tmp_path, months=2)
    uploaded = await upload(api.analyst, sales)
    assert uploaded.status_code == 201, uploaded.text
    dataset = uploaded.json()
    response = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset["id"]})
    body = response.json()
    assert response.status_code == 422, body
    assert body["error"] == "too_little_history"
    assert dataset["id"] in body["message"] and "sales.csv" in body["message"]
    assert "2 months" in body["message"] and "at least 3 months" in body["message"]
    assert body["details"][0]["where"] == "body.dataset_id"
    assert body["details"][0]["periods"] == 2 and body["details"][0]["required"] == 3
    assert "frequency W" in body["message"]  # two months are enough weeks
    assert body["hint"] == HINTS["too_little_history"][0]
    assert (await api.analyst.get("/api/v1/training")).json()["total"] == 0  # no job was written
    weekly = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset["id"], "frequency": "weekly"})
    assert weekly.status_code == 202, weekly.text


async def test_a_last_month_the_sales_stop_short_in_does_not_count_at_submit(api: Api, tmp_path: Path) -> None:
    # Two whole months and the first ten days of a third: three calendar months, two that training uses.
    shop = generate_shop(items=60, months=3, seed=5, start=date(2024, 1, 1))
    cut = shop.sales.filter(pl.col("Дата заказа").str.to_datetime("%d.%m.%Y %H:%M").dt.date() <= date(2024, 3, 10))
    sales = write_shop(replace(shop, sales=cut), tmp_path / "cut", fmt="csv").sales
    uploaded = await upload(api.analyst, sales)
    assert uploaded.status_code == 201, uploaded.text
    dataset = uploaded.json()
    assert dataset["report"]["partial_last_period"] == {"M": "2024-03-01"}  # the week of 2024-03-04 is complete
    response = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset["id"]})
    body = response.json()
    assert response.status_code == 422, body
    assert body["error"] == "too_little_history" and body["details"][0]["periods"] == 2
    assert "2 months in full" in body["message"]
    assert "the month from 2024-03-01 stops short on 2024-03-10, so training leaves it out" in body["message"]
    # What submit refuses, training would have refused: the model sees the same two months.
    with pytest.raises(ValueError, match="need at least 3 periods of history to train, got 2"):
        train(load_sales(sales), frequency=Frequency.MONTH, horizon=1)
    weekly = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset["id"], "frequency": "W"})
    assert weekly.status_code == 202, weekly.text


def test_what_submit_refuses_training_refuses(tmp_path: Path) -> None:
    """The same data, handed to the train function: it fails with the model's rule (MIN_TRAINING_PERIODS)."""
    too_short = load_sales(_shop(tmp_path, months=2))
    assert MIN_TRAINING_PERIODS == 3
    with pytest.raises(ValueError, match="need at least 3 periods of history to train, got 2"):
        train(too_short, frequency=Frequency.MONTH, horizon=1)


@pytest.mark.parametrize(
    ("start", "end", "frequency", "periods"),
    [
        (date(2024, 1, 31), date(2024, 3, 1), Frequency.MONTH, 3),
        (date(2023, 12, 1), date(2024, 1, 31), Frequency.MONTH, 2),
        (date(2024, 1, 1), date(2024, 1, 1), Frequency.MONTH, 1),
        (date(2024, 1, 7), date(2024, 1, 8), Frequency.WEEK, 2),  # a Sunday, then the next Monday
        (date(2024, 1, 1), date(2024, 1, 7), Frequency.WEEK, 1),
        (date(2024, 1, 1), date(2024, 1, 15), Frequency.WEEK, 3),
    ],
)
def test_history_periods_counts_calendar_periods(start: date, end: date, frequency: Frequency, periods: int) -> None:
    assert history_periods(start, end, frequency) == periods
