from datetime import date

import numpy as np
import polars as pl
import pytest

from plastinka_forecasting import group_forecast

LEVELS = (0.05, 0.5, 0.95)


def poisson_forecast(rates: list[float]) -> pl.DataFrame:
    from scipy.stats import poisson

    rows = []
    for i, rate in enumerate(rates):
        rows.append(
            {"item_id": f"i{i}", "period": date(2024, 1, 1), "mean": rate}
            | {f"q_{q!r}": float(poisson.ppf(q, rate)) for q in LEVELS}
        )
    return pl.DataFrame(rows)


def test_mean_adds_up_exactly():
    fc = poisson_forecast([0.5, 1.0, 2.0])
    assert group_forecast(fc)["mean"].item() == pytest.approx(3.5)


def test_one_item_keeps_its_own_quantiles():
    fc = poisson_forecast([2.0])
    assert group_forecast(fc).row(0, named=True) == fc.drop("item_id").row(0, named=True)


def test_group_interval_covers_simulated_totals_far_tighter_than_summed_quantiles():
    rates = list(np.random.default_rng(0).gamma(0.5, 1.0, size=400))
    fc = poisson_forecast(rates)
    group = group_forecast(fc).row(0, named=True)
    totals = np.random.default_rng(1).poisson(rates, size=(20_000, len(rates))).sum(axis=1)
    inside = np.mean((totals >= group["q_0.05"]) & (totals <= group["q_0.95"]))
    assert 0.85 <= inside <= 0.97
    summed_width = fc["q_0.95"].sum() - fc["q_0.05"].sum()
    assert group["q_0.95"] - group["q_0.05"] < summed_width / 2
    assert group["q_0.05"] >= 0
