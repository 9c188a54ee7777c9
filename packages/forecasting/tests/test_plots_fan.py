"""Fan charts render PNG bytes for an item, a group and the whole shop."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from plastinka_forecasting.plots import fan_chart

PNG = b"\x89PNG\r\n\x1a\n"


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    history = pl.DataFrame(
        {
            "item_id": ["a"] * 6 + ["b"] * 6,
            "period": [date(2024, m, 1) for m in range(1, 7)] * 2,
            "y": [0.0, 1, 2, 0, 1, 3, 1, 1, 0, 0, 2, 1],
        }
    )
    forecast = pl.DataFrame(
        {
            "item_id": ["a", "a", "b", "b"],
            "period": [date(2024, 7, 1), date(2024, 8, 1)] * 2,
            "mean": [1.2, 1.1, 0.8, 0.7],
            "q_0.1": [0.0, 0.0, 0.0, 0.0],
            "q_0.5": [1.0, 1.0, 1.0, 0.0],
            "q_0.9": [3.0, 3.0, 2.0, 2.0],
        }
    )
    return history, forecast


@pytest.mark.parametrize("items", ["a", ["a", "b"], None])
def test_fan_chart_png(items: str | list[str] | None) -> None:
    history, forecast = _frames()
    png = fan_chart(history, forecast, items=items, width_px=400, height_px=250)
    assert png.startswith(PNG)
    assert len(png) > 2000


def test_fan_chart_unknown_item() -> None:
    history, forecast = _frames()
    with pytest.raises(ValueError, match="nothing to plot"):
        fan_chart(history, forecast, items="zzz")
