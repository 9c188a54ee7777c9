"""Panel construction: zero fill, series starts, weekly Mondays, stocked items that never sold."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from plastinka_forecasting.frames import PANEL_SCHEMA, SalesData, ValidationReport
from plastinka_forecasting.panel import build_panel, next_periods, truncate_panel


def _data(
    sales: list[tuple[str, date, float]], stock: pl.DataFrame | None = None, attributes: pl.DataFrame | None = None
) -> SalesData:
    frame = pl.DataFrame(sales, schema={"item_id": pl.Utf8, "date": pl.Date, "quantity": pl.Float64}, orient="row")
    attrs = attributes if attributes is not None else frame.select("item_id").unique()
    return SalesData(frame, attrs, stock, ValidationReport())


def test_monthly_panel_zero_fills_from_first_sale_to_end() -> None:
    data = _data(
        [
            ("a", date(2024, 1, 5), 1),
            ("a", date(2024, 1, 20), 2),
            ("a", date(2024, 4, 2), 1),
            ("b", date(2024, 3, 9), 1),
        ]
    )
    panel = build_panel(data, "M")
    assert panel.schema == pl.Schema(PANEL_SCHEMA)
    a = panel.filter(pl.col("item_id") == "a")
    assert a["period"].to_list() == [date(2024, m, 1) for m in (1, 2, 3, 4)]
    assert a["y"].to_list() == [3.0, 0.0, 0.0, 1.0]
    b = panel.filter(pl.col("item_id") == "b")
    assert b["period"].to_list() == [date(2024, 3, 1), date(2024, 4, 1)]
    assert b["y"].to_list() == [1.0, 0.0]
    assert panel.sort("item_id", "period").equals(panel)


def test_weekly_panel_uses_iso_monday_periods() -> None:
    # 2024-01-07 is a Sunday (week of Monday 1 Jan), 2024-01-08 a Monday.
    data = _data([("a", date(2024, 1, 7), 1), ("a", date(2024, 1, 8), 1), ("a", date(2024, 1, 24), 2)])
    panel = build_panel(data, "W")
    assert panel["period"].to_list() == [date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 15), date(2024, 1, 22)]
    assert all(d.weekday() == 0 for d in panel["period"].to_list())
    assert panel["y"].to_list() == [1.0, 1.0, 0.0, 2.0]


def test_stock_arrival_starts_series_and_never_sold_items_get_one() -> None:
    stock = pl.DataFrame(
        {
            "item_id": ["a", "new", "unknown_arrival"],
            "copies": [1, 2, 1],
            "added_at": [date(2023, 11, 20), date(2024, 2, 3), None],
        },
        schema={"item_id": pl.Utf8, "copies": pl.Int64, "added_at": pl.Date},
    )
    data = _data([("a", date(2024, 1, 5), 1), ("b", date(2024, 1, 9), 1), ("b", date(2024, 3, 9), 1)], stock=stock)
    panel = build_panel(data, "M")
    starts = panel.group_by("item_id").agg(pl.col("period").min(), pl.col("y").sum()).sort("item_id")
    got = {row["item_id"]: (row["period"], row["y"]) for row in starts.iter_rows(named=True)}
    # 'a' arrived before the data begins: its series starts with the data (January), not in November.
    assert got["a"] == (date(2024, 1, 1), 1.0)
    assert got["new"] == (date(2024, 2, 1), 0.0)
    # Arrival unknown and never sold: a one-period zero series at the end, so it still gets a forecast.
    assert got["unknown_arrival"] == (date(2024, 3, 1), 0.0)
    assert panel["period"].max() == date(2024, 3, 1)


def test_arrival_from_attributes_before_first_sale() -> None:
    attributes = pl.DataFrame({"item_id": ["a"], "added_at": [date(2024, 1, 15)]})
    data = _data([("z", date(2024, 1, 1), 1), ("a", date(2024, 3, 2), 1)], attributes=attributes)
    a = build_panel(data, "M").filter(pl.col("item_id") == "a")
    assert a["y"].to_list() == [0.0, 0.0, 1.0]


def test_end_and_truncate() -> None:
    data = _data([("a", date(2024, 1, 5), 1), ("a", date(2024, 2, 5), 1)])
    panel = build_panel(data, "M", end=date(2024, 4, 30))
    assert panel["period"].to_list()[-1] == date(2024, 4, 1)
    assert truncate_panel(panel, date(2024, 1, 1))["y"].to_list() == [1.0]


def test_next_periods() -> None:
    assert next_periods(date(2024, 11, 1), "M", 3) == [date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)]
    assert next_periods(date(2024, 12, 30), "W", 2) == [date(2025, 1, 6), date(2025, 1, 13)]
    with pytest.raises(ValueError):
        build_panel(_data([("a", date(2024, 1, 5), 1)]), "Q")  # type: ignore[arg-type]
