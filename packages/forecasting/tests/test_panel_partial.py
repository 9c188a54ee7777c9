"""An export taken mid-period: its last period is left out of training and forecast instead, and said so."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from plastinka_forecasting.api import predict, train
from plastinka_forecasting.frames import SalesData, ValidationReport
from plastinka_forecasting.panel import complete_panel, partial_last_period

sys.path.insert(0, str(Path(__file__).parent))
from test_model_train_predict import FAST


def _daily(first: date, last: date, *, closed_weekday: int | None = None, items: int = 30) -> pl.DataFrame:
    """Every item sells 1-3 copies a day from ``first`` to ``last`` (except on ``closed_weekday``)."""
    rows = []
    day = first
    while day <= last:
        if day.weekday() != closed_weekday:
            rows.extend((f"r{i:02d}", day, float(1 + (i + day.day) % 3)) for i in range(items))
        day += timedelta(days=1)
    return pl.DataFrame(rows, schema={"item_id": pl.Utf8, "date": pl.Date, "quantity": pl.Float64}, orient="row")


def test_a_month_exported_on_its_5th_is_partial_and_counted() -> None:
    sales = _daily(date(2022, 1, 1), date(2023, 6, 5))
    partial = partial_last_period(sales, "M")
    assert partial is not None
    assert (partial.period, partial.last_sale, partial.days_covered, partial.period_days) == (
        date(2023, 6, 1),
        date(2023, 6, 5),
        5,
        30,
    )
    june = sales.filter(pl.col("date") >= date(2023, 6, 1))
    assert partial.rows == june.height and partial.copies == june["quantity"].sum() and partial.new_items == 0
    assert "5 of 30 days" in partial.describe() and f"{partial.rows} sale rows" in partial.describe()


def test_complete_periods_are_kept_whatever_the_shops_quiet_days() -> None:
    assert partial_last_period(_daily(date(2022, 1, 1), date(2023, 5, 31)), "M") is None
    # Closed on Sundays, and the month ends on a Sunday: the 30th was its last trading day.
    sunday_shut = _daily(date(2022, 1, 1), date(2023, 4, 29), closed_weekday=6)
    assert date(2023, 4, 30).weekday() == 6 and partial_last_period(sunday_shut, "M") is None
    # A shop that sells once a month (on the 10th) has ended no month early by stopping on a 10th.
    monthly = pl.DataFrame(
        {
            "item_id": ["a"] * 18,
            "date": [date(2022 + m // 12, m % 12 + 1, 10) for m in range(18)],
            "quantity": [2.0] * 18,
        }
    )
    assert partial_last_period(monthly, "M") is None
    # Weekly: ISO weeks end on Sunday; an export on a Wednesday cuts its week short.
    assert partial_last_period(_daily(date(2022, 1, 3), date(2023, 6, 4)), "W") is None
    wednesday = partial_last_period(_daily(date(2022, 1, 3), date(2023, 6, 7)), "W")
    assert wednesday is not None and (wednesday.period, wednesday.days_covered, wednesday.period_days) == (
        date(2023, 6, 5),
        3,
        7,
    )
    # Too few sale days to know the shop's rhythm: nothing is left out.
    assert partial_last_period(_daily(date(2023, 6, 1), date(2023, 6, 5)), "M") is None


def test_training_leaves_the_partial_month_out_and_the_forecast_starts_with_it() -> None:
    sales = _daily(date(2021, 1, 1), date(2023, 6, 5))
    newcomer = pl.DataFrame({"item_id": ["new"], "date": [date(2023, 6, 2)], "quantity": [4.0]})
    data = SalesData(
        pl.concat([sales, newcomer]),
        pl.DataFrame({"item_id": []}, schema={"item_id": pl.Utf8}),
        None,
        ValidationReport(),
    )
    panel, partial = complete_panel(data, "M")
    assert partial is not None and partial.new_items == 1
    assert panel["period"].max() == date(2023, 5, 1)
    model = train(data, frequency="M", horizon=2, quantiles=(0.1, 0.5, 0.9), params=FAST)
    assert model.last_period == date(2023, 5, 1)
    note = model.info["partial_period"]
    assert note["period"] == "2023-06-01" and note["days_covered"] == 5 and "left out of training" in note["note"]
    forecast = predict(model)
    assert sorted(forecast["period"].unique().to_list()) == [date(2023, 6, 1), date(2023, 7, 1)]
    # About a full month of demand (30 items x 2 copies a day), not the 5 days the export holds.
    june = forecast.filter(pl.col("period") == date(2023, 6, 1))["mean"].sum()
    assert 0.8 * 30 * 2 * 30 < june < 1.2 * 30 * 2 * 30
    # Newer sales given to predict are read the same way.
    again = predict(model, data)
    assert again["period"].min() == date(2023, 6, 1)
