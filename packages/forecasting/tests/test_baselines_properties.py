"""Property: on any panel, every baseline's means and quantiles are finite, non-negative and never cross."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plastinka_forecasting.baselines import BASELINES, forecast_baseline
from plastinka_schemas import Frequency

series = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=3).map(float),
        st.floats(min_value=0, max_value=500, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=30,
)
levels = st.lists(st.floats(min_value=0.01, max_value=0.99, allow_nan=False), min_size=1, max_size=6, unique=True)


def to_panel(data: list[list[float]], frequency: Frequency) -> pl.DataFrame:
    end = max(len(values) for values in data)
    rows = []
    for k, values in enumerate(data):
        for t, value in enumerate(values, start=end - len(values)):
            period = (
                dt.date(2019 + t // 12, t % 12 + 1, 1)
                if frequency is Frequency.MONTH
                else dt.date(2019, 1, 7) + dt.timedelta(weeks=t)
            )
            rows.append((f"item{k}", period, value))
    return pl.DataFrame(rows, schema={"item_id": pl.Utf8, "period": pl.Date, "y": pl.Float64}, orient="row")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(series, min_size=1, max_size=6),
    quantiles=levels,
    horizon=st.integers(min_value=1, max_value=14),
    frequency=st.sampled_from(list(Frequency)),
)
def test_quantiles_are_non_negative_and_never_cross(
    data: list[list[float]], quantiles: list[float], horizon: int, frequency: Frequency
) -> None:
    panel = to_panel(data, frequency)
    ordered = sorted(quantiles)
    for name in BASELINES:
        forecast = forecast_baseline(name, panel, horizon, frequency, quantiles)
        assert forecast.height == len(data) * horizon
        values = forecast.select("mean", *(f"q_{q!r}" for q in ordered)).to_numpy()
        assert np.isfinite(values).all(), name
        assert (values >= 0).all(), name
        assert (np.diff(values[:, 1:], axis=1) >= 0).all(), name
