"""Baselines on hand-made series: values worked out by hand, frame shape and periods, edge cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from plastinka_forecasting.baselines import BASELINES, forecast_baseline
from plastinka_forecasting.baselines._quantiles import count_quantiles, empirical_quantiles
from plastinka_forecasting.frames import forecast_columns
from plastinka_schemas import Frequency

LEVELS = [0.1, 0.5, 0.9]


def month(index: int) -> dt.date:
    """Month ``index`` counted from 2020-01."""
    return dt.date(2020 + index // 12, index % 12 + 1, 1)


def week(index: int) -> dt.date:
    """Week ``index`` counted from Monday 2020-01-06."""
    return dt.date(2020, 1, 6) + dt.timedelta(weeks=index)


def make_panel(series: dict[str, list[float]], end: int, frequency: Frequency = Frequency.MONTH) -> pl.DataFrame:
    """Every series ends at period ``end`` (inclusive) and starts ``len(values) - 1`` periods before it."""
    to_date = month if frequency is Frequency.MONTH else week
    rows = [
        (item, to_date(end - len(values) + 1 + k), float(value))
        for item, values in series.items()
        for k, value in enumerate(values)
    ]
    return pl.DataFrame(rows, schema={"item_id": pl.Utf8, "period": pl.Date, "y": pl.Float64}, orient="row")


def first_row(forecast: pl.DataFrame, item: str) -> dict[str, float]:
    return forecast.filter(pl.col("item_id") == item).sort("period").row(0, named=True)


@pytest.mark.parametrize("name", BASELINES)
def test_monthly_frame_shape_columns_and_periods(name: str) -> None:
    panel = make_panel({"b": [1, 0, 2, 0, 1], "a": [3], "c": [0, 0, 1]}, end=10)  # ends 2020-11
    forecast = forecast_baseline(name, panel, 3, Frequency.MONTH, [0.9, 0.1, 0.5])
    assert forecast.columns == forecast_columns([0.1, 0.5, 0.9])
    assert forecast.schema["period"] == pl.Date
    assert forecast["item_id"].to_list() == ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    assert forecast["period"].to_list() == [dt.date(2020, 12, 1), dt.date(2021, 1, 1), dt.date(2021, 2, 1)] * 3


@pytest.mark.parametrize("name", BASELINES)
def test_weekly_periods_are_the_next_mondays(name: str) -> None:
    panel = make_panel({"a": [1, 0, 0, 2, 0, 1, 0, 0], "b": [0, 1]}, end=60, frequency=Frequency.WEEK)
    forecast = forecast_baseline(name, panel, 4, "W", LEVELS)
    last = week(60)
    assert forecast.filter(pl.col("item_id") == "b")["period"].to_list() == [
        last + dt.timedelta(weeks=h) for h in range(1, 5)
    ]
    assert forecast.height == 8


def test_naive_hand_computed_quantiles_and_poisson_fallback() -> None:
    # one-step errors 2, -2, 1, 2 -> sorted -2, 1, 2, 2; inverted-CDF quantiles at 0.1/0.5/0.9: -2, 1, 2
    # two-step errors 0, -1, 3: fewer than 4, so horizon 2 falls back to Poisson(3)
    panel = make_panel({"a": [0, 2, 0, 1, 3]}, end=4)
    forecast = forecast_baseline("naive", panel, 2, Frequency.MONTH, LEVELS).sort("period")
    assert forecast["mean"].to_list() == [3.0, 3.0]
    assert forecast.row(0)[3:] == (1.0, 4.0, 5.0)
    assert list(forecast.row(1)[3:]) == list(stats.poisson.ppf(LEVELS, 3.0))


def test_constant_series_gets_a_degenerate_naive_and_window_forecast() -> None:
    panel = make_panel({"a": [4] * 20}, end=20)  # 8 seasonal errors: enough for empirical quantiles
    for name in ("naive", "seasonal_naive", "window_average"):
        forecast = forecast_baseline(name, panel, 2, Frequency.MONTH, LEVELS)
        assert forecast["mean"].to_list() == [4.0, 4.0]
        assert set(forecast.select("q_0.1", "q_0.5", "q_0.9").to_numpy().ravel()) == {4.0}


def test_seasonal_naive_repeats_last_season_and_falls_back_to_naive_when_short() -> None:
    season = [1, 0, 0, 2, 0, 5, 0, 0, 1, 0, 3, 7]
    panel = make_panel({"long": season * 2, "short": [0, 1, 0, 2]}, end=30)
    forecast = forecast_baseline("seasonal_naive", panel, 12, Frequency.MONTH, LEVELS)
    long = forecast.filter(pl.col("item_id") == "long").sort("period")
    assert long["mean"].to_list() == [float(v) for v in season]
    # a repeated season has zero seasonal errors, so the band collapses onto the point
    assert long["q_0.1"].to_list() == long["q_0.9"].to_list() == long["mean"].to_list()
    short = forecast.filter(pl.col("item_id") == "short")
    naive = forecast_baseline("naive", panel, 12, Frequency.MONTH, LEVELS).filter(pl.col("item_id") == "short")
    assert short.equals(naive)


def test_seasonal_naive_weekly_uses_52_weeks() -> None:
    values = [float(k % 52 == 3) * 5 for k in range(60)]  # a sale of 5 in week 3 of each season
    panel = make_panel({"a": values}, end=59, frequency=Frequency.WEEK)
    forecast = forecast_baseline("seasonal_naive", panel, 52, Frequency.WEEK, LEVELS).sort("period")
    expected = [values[60 - 52 + h] for h in range(52)]
    assert forecast["mean"].to_list() == expected


def test_window_average_uses_the_last_window_and_its_empirical_quantiles() -> None:
    values = [9] * 6 + [0, 1, 0, 0, 2, 0, 0, 1, 0, 3, 0, 1]  # the last 12 months: sum 8
    panel = make_panel({"a": values}, end=30)
    row = first_row(forecast_baseline("window_average", panel, 1, Frequency.MONTH, LEVELS), "a")
    assert row["mean"] == pytest.approx(8 / 12)
    # sorted window: 0 x7, 1 x3, 2, 3 -> linear positions 1.1, 5.5, 9.9 -> 0, 0, 1 + 0.9 * (2 - 1)
    assert (row["q_0.1"], row["q_0.5"]) == (0.0, 0.0)
    assert row["q_0.9"] == pytest.approx(1.9)


def test_window_average_year_averages_the_last_52_weeks() -> None:
    values = [5] * 30 + [1, 0] * 26  # the last 52 weeks: 26 ones; the last 26 weeks: 13 ones
    panel = make_panel({"a": values}, end=120, frequency=Frequency.WEEK)
    year = first_row(forecast_baseline("window_average_year", panel, 1, Frequency.WEEK, LEVELS), "a")
    half = first_row(forecast_baseline("window_average", panel, 1, Frequency.WEEK, LEVELS), "a")
    assert year["mean"] == pytest.approx(0.5) and half["mean"] == pytest.approx(0.5)
    longer = make_panel({"a": [5] * 30 + [2] * 26 + [0] * 26}, end=120, frequency=Frequency.WEEK)
    assert first_row(forecast_baseline("window_average_year", longer, 1, Frequency.WEEK, LEVELS), "a")["mean"] == 1.0
    monthly = make_panel({"a": [9] * 6 + [0, 1] * 6}, end=30)
    assert forecast_baseline("window_average_year", monthly, 2, Frequency.MONTH, LEVELS).equals(
        forecast_baseline("window_average", monthly, 2, Frequency.MONTH, LEVELS)
    )


def test_window_average_interpolates_on_fractional_data() -> None:
    panel = make_panel({"a": [0.5, 1.5, 2.5, 3.5, 4.5]}, end=4)
    row = first_row(forecast_baseline("window_average", panel, 1, Frequency.MONTH, [0.5, 0.9]), "a")
    assert row["q_0.5"] == pytest.approx(2.5)
    assert row["q_0.9"] == pytest.approx(4.1)  # 0.9 * 4 = 3.6 -> 3.5 + 0.6 * (4.5 - 3.5)


def test_croston_sba_hand_computed() -> None:
    # start: size = mean demand 3, interval = 5 periods / 2 demands = 2.5
    # t0 demand 2 after 1 period: size 2.9, interval 2.35; t3 demand 4 after 3 periods: size 3.01, interval 2.415
    panel = make_panel({"a": [2, 0, 0, 4, 0]}, end=4)
    row = first_row(forecast_baseline("croston_sba", panel, 1, Frequency.MONTH, LEVELS), "a")
    assert row["mean"] == pytest.approx(0.95 * 3.01 / 2.415)


def test_tsb_hand_computed() -> None:
    # start: probability 0.4, size 3; probability after each period: .46 .414 .3726 .43534 .391806; size 2.9 then 3.01
    panel = make_panel({"a": [2, 0, 0, 4, 0]}, end=4)
    row = first_row(forecast_baseline("tsb", panel, 1, Frequency.MONTH, LEVELS), "a")
    assert row["mean"] == pytest.approx(0.391806 * 3.01)


def test_tsb_decays_after_sales_stop_and_croston_does_not_move() -> None:
    panel = make_panel({"a": [3, 0, 2, 0, 1, 2] + [0] * 12}, end=30)
    tsb_mean = first_row(forecast_baseline("tsb", panel, 1, Frequency.MONTH, LEVELS), "a")["mean"]
    early = make_panel({"a": [3, 0, 2, 0, 1, 2]}, end=30)
    tsb_early = first_row(forecast_baseline("tsb", early, 1, Frequency.MONTH, LEVELS), "a")["mean"]
    assert tsb_mean < tsb_early / 2


@pytest.mark.parametrize("name", BASELINES)
def test_all_zero_series_forecasts_zero(name: str) -> None:
    panel = make_panel({"zero": [0] * 15, "other": [1, 0, 2, 0, 1, 0, 0, 3, 0, 1, 0, 0, 2, 0, 1]}, end=20)
    zero = forecast_baseline(name, panel, 3, Frequency.MONTH, LEVELS).filter(pl.col("item_id") == "zero")
    assert zero.select("mean", "q_0.1", "q_0.5", "q_0.9").to_numpy().max() == 0.0


@pytest.mark.parametrize("name", BASELINES)
def test_one_period_series_and_late_starters(name: str) -> None:
    panel = make_panel({"old": [1, 0, 2, 0, 0, 1, 0, 3, 0, 0, 1, 0, 2], "new": [2], "late": [0, 0, 1]}, end=24)
    forecast = forecast_baseline(name, panel, 2, Frequency.MONTH, LEVELS)
    assert forecast.group_by("item_id").agg(pl.col("period").min())["period"].unique().to_list() == [month(25)]
    new = forecast.filter(pl.col("item_id") == "new")
    assert new["mean"].min() > 0  # the one sale we saw is all we know, and every method uses it
    values = forecast.select("mean", "q_0.1", "q_0.5", "q_0.9").to_numpy()
    assert np.isfinite(values).all()
    assert (values >= 0).all()


def test_integer_data_give_integer_quantiles_except_window_average() -> None:
    rng = np.random.default_rng(1)
    panel = make_panel({f"s{k}": list(rng.poisson(0.7, size=20)) for k in range(30)}, end=40)
    for name in ("naive", "seasonal_naive", "croston_sba", "tsb"):
        forecast = forecast_baseline(name, panel, 4, Frequency.MONTH, [0.05, 0.25, 0.5, 0.75, 0.95])
        quantiles = forecast.select(pl.selectors.starts_with("q_")).to_numpy()
        assert (quantiles == np.round(quantiles)).all(), name


def test_gaps_inside_a_series_count_as_zero_sales() -> None:
    full = make_panel({"a": [1, 0, 0, 2, 0, 1]}, end=5)
    holes = full.filter(pl.col("y") > 0)
    for name in BASELINES:
        assert forecast_baseline(name, holes, 2, Frequency.MONTH, LEVELS).equals(
            forecast_baseline(name, full, 2, Frequency.MONTH, LEVELS)
        )


def test_bad_inputs_fail_with_a_clear_message() -> None:
    panel = make_panel({"a": [1, 0, 2]}, end=5)
    with pytest.raises(ValueError, match="unknown baseline"):
        forecast_baseline("prophet", panel, 1, Frequency.MONTH, LEVELS)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        forecast_baseline("naive", panel, 1, Frequency.MONTH, [0.5, 1.0])
    with pytest.raises(ValueError, match="horizon"):
        forecast_baseline("naive", panel, 0, Frequency.MONTH, LEVELS)
    with pytest.raises(ValueError, match="not a Monday"):
        forecast_baseline("naive", panel, 1, Frequency.WEEK, LEVELS)
    mid_month = panel.with_columns(pl.col("period").dt.offset_by("3d"))
    with pytest.raises(ValueError, match="not the 1st of a month"):
        forecast_baseline("naive", mid_month, 1, Frequency.MONTH, LEVELS)


def test_empty_history_gives_an_empty_forecast_frame() -> None:
    empty = pl.DataFrame(schema={"item_id": pl.Utf8, "period": pl.Date, "y": pl.Float64})
    forecast = forecast_baseline("tsb", empty, 3, Frequency.MONTH, LEVELS)
    assert forecast.is_empty()
    assert forecast.columns == forecast_columns(LEVELS)
    assert forecast.schema["period"] == pl.Date


def test_count_quantiles_are_poisson_at_dispersion_one_and_negative_binomial_above() -> None:
    levels = [0.05, 0.5, 0.95]
    result = count_quantiles(np.array([2.0, 2.0, 0.0]), np.array([1.0, 3.0, 5.0]), levels)
    assert list(result[0]) == list(stats.poisson.ppf(levels, 2.0))
    # variance 3 * 2 = 6: n = 2 / (3 - 1) = 1, p = 1/3
    assert list(result[1]) == list(stats.nbinom.ppf(levels, 1.0, 1 / 3))
    assert list(result[2]) == [0.0, 0.0, 0.0]


def test_empirical_quantiles_per_row_ignore_missing_values() -> None:
    samples = np.array([[3.0, 1.0, np.nan, 2.0], [np.nan] * 4])
    discrete = empirical_quantiles(samples, [0.1, 0.5, 0.9], discrete=True)
    assert list(discrete[0]) == [1.0, 2.0, 3.0]
    assert np.isnan(discrete[1]).all()
    assert list(empirical_quantiles(samples, [0.25], discrete=False)[0]) == [1.5]
