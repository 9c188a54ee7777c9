"""End-to-end train/predict on a small shop: shapes, periods, non-negative non-crossing quantiles, new items."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from plastinka_forecasting.api import predict, train
from plastinka_forecasting.calibration import QuantileCalibration
from plastinka_forecasting.frames import SalesData, ValidationReport, quantile_columns
from plastinka_forecasting.model import ModelParams, fit_panel, predict_panel
from plastinka_forecasting.panel import build_panel

FAST = {"max_rounds": 30, "min_data_in_leaf": 20, "num_leaves": 7, "max_train_rows": 20_000}


def small_shop(items: int = 80, months: int = 30, seed: int = 0) -> SalesData:
    """Poisson sales with a December lift; a few items start late; one stocked item never sold."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.7, 0.8, items)
    first = rng.integers(0, months // 2, items)
    rows = []
    for m in range(months):
        day = date(2021 + m // 12, m % 12 + 1, 10)
        lift = 1.8 if day.month == 12 else 1.0
        for i in np.flatnonzero(first <= m):
            count = int(rng.poisson(rate[i] * lift))
            if count:
                rows.append((f"r{i:03d}", day, float(count)))
    sales = pl.DataFrame(rows, schema={"item_id": pl.Utf8, "date": pl.Date, "quantity": pl.Float64}, orient="row")
    ids = [f"r{i:03d}" for i in range(items)]
    attributes = pl.DataFrame(
        {
            "item_id": ids,
            "artist": [f"artist {i % 17}" for i in range(items)],
            "style": [("Rock/Pop", "Jazz", "Soul")[i % 3] for i in range(items)],
            "price": rng.integers(1500, 6000, items).astype(float),
            "release_type": [("original", "reissue")[i % 2] for i in range(items)],
        }
    )
    last = sales["date"].max()
    stock = pl.DataFrame(
        {"item_id": [ids[0], "never_sold"], "copies": [2, 1], "added_at": [None, last]},
        schema={"item_id": pl.Utf8, "copies": pl.Int64, "added_at": pl.Date},
    )
    attributes = pl.concat(
        [attributes, pl.DataFrame({"item_id": ["never_sold"], "artist": ["newcomer"]})], how="diagonal"
    )
    return SalesData(sales, attributes, stock, ValidationReport())


@pytest.fixture(scope="module")
def shop() -> SalesData:
    return small_shop()


@pytest.fixture(scope="module")
def model(shop: SalesData):  # type: ignore[no-untyped-def]
    return train(shop, frequency="M", horizon=3, quantiles=(0.1, 0.5, 0.9), params=FAST)


def test_forecast_columns_periods_and_quantiles(shop: SalesData, model) -> None:  # type: ignore[no-untyped-def]
    forecast = predict(model)
    qcols = quantile_columns((0.1, 0.5, 0.9))
    assert forecast.columns[:6] == ["item_id", "period", "mean", *qcols]
    # Attributes follow, stock copies included.
    assert {"artist", "style", "price", "copies"} <= set(forecast.columns)
    panel = build_panel(shop, "M")
    assert forecast["item_id"].n_unique() == panel["item_id"].n_unique()
    assert sorted(forecast["period"].unique().to_list()) == [date(2023, 7, 1), date(2023, 8, 1), date(2023, 9, 1)]
    values = forecast.select("mean", *qcols).to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    q = forecast.select(qcols).to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()


def test_never_sold_stocked_item_is_forecast(model) -> None:  # type: ignore[no-untyped-def]
    forecast = predict(model, items=["never_sold"])
    assert forecast.height == 3
    assert forecast["artist"].to_list() == ["newcomer"] * 3
    assert forecast["copies"].to_list() == [1, 1, 1]


def test_a_records_forecast_does_not_depend_on_which_others_are_asked_for(model) -> None:  # type: ignore[no-untyped-def]
    # The shop's level, trend and seasonal prior are the whole shop's: asking for a few records (the API's and
    # the CLI's ``items``) once read them off those records alone and moved their forecasts.
    whole = predict(model)
    busiest = whole.group_by("item_id").agg(pl.col("mean").sum()).sort("mean", descending=True)["item_id"].head(3)
    asked = predict(model, items=busiest.to_list())
    assert asked["item_id"].unique().sort().to_list() == busiest.sort().to_list()
    assert asked.equals(whole.filter(pl.col("item_id").is_in(busiest.implode())))


def test_predict_options_and_errors(shop: SalesData, model) -> None:  # type: ignore[no-untyped-def]
    assert predict(model, shop, horizon=1)["period"].unique().to_list() == [date(2023, 7, 1)]
    with pytest.raises(ValueError, match="horizon"):
        predict(model, horizon=4)
    with pytest.raises(ValueError, match="unknown item"):
        predict(model, items=["nope"])


def test_mean_tracks_item_rates(model) -> None:  # type: ignore[no-untyped-def]
    # Busy items must be forecast higher than slow ones: the model learns from the history, not a constant.
    forecast = predict(model)
    history = model.history.group_by("item_id").agg(pl.col("y").tail(12).mean().alias("recent"))
    joined = forecast.group_by("item_id").agg(pl.col("mean").mean()).join(history, on="item_id")
    corr = np.corrcoef(joined["mean"].to_numpy(), joined["recent"].to_numpy())[0, 1]
    assert corr > 0.7


def test_training_is_deterministic(shop: SalesData) -> None:
    panel = build_panel(shop, "M")
    params = ModelParams().with_overrides(FAST)
    one = fit_panel(panel, shop.attributes, frequency="M", horizon=2, params=params)
    two = fit_panel(panel, shop.attributes, frequency="M", horizon=2, params=params)
    assert predict_panel(one, panel, shop.attributes).equals(predict_panel(two, panel, shop.attributes))


def test_weekly_model() -> None:
    rng = np.random.default_rng(3)
    rows = [
        (f"w{i}", date(2023, 1, 2) + (date(2023, 1, 9) - date(2023, 1, 2)) * week, float(rng.poisson(0.4 + i / 20)))
        for i in range(30)
        for week in range(60)
    ]
    sales = pl.DataFrame(rows, schema={"item_id": pl.Utf8, "date": pl.Date, "quantity": pl.Float64}, orient="row")
    sales = sales.filter(pl.col("quantity") > 0)
    data = SalesData(sales, pl.DataFrame({"item_id": [f"w{i}" for i in range(30)]}), None, ValidationReport())
    model = train(data, frequency="W", horizon=4, params=FAST)
    forecast = predict(model)
    assert all(d.weekday() == 0 for d in forecast["period"].to_list())
    assert forecast.height == 30 * 4


def test_unknown_parameter_is_refused(shop: SalesData) -> None:
    with pytest.raises(ValueError, match="unknown model parameter"):
        train(shop, horizon=2, params={"nonsense": 1})


def test_calibrated_quantiles_never_cross_or_go_negative() -> None:
    rng = np.random.default_rng(1)
    mean = rng.gamma(0.5, 1.0, 5000)
    actual = rng.poisson(mean).astype(float)
    horizon = rng.integers(1, 7, 5000)
    levels = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
    cal = QuantileCalibration.fit(mean, actual, horizon, levels, 6, central=True)
    q = cal.apply(np.concatenate([mean, [0.0, 1e-9, 50.0]]), np.concatenate([horizon, [1, 6, 3]]))
    assert (q >= 0).all() and (np.diff(q, axis=1) >= 0).all()
    # Central intervals: the 80% band covers at least 80% of the calibration rows, and less than plain
    # quantiles do when the lower bound sits on the zero atom.
    inside = (actual >= q[:5000, 1]) & (actual <= q[:5000, 5])
    plain = QuantileCalibration.fit(mean, actual, horizon, levels, 6, central=False).apply(mean, horizon)
    inside_plain = (actual >= plain[:, 1]) & (actual <= plain[:, 5])
    assert 0.78 <= inside.mean() < inside_plain.mean()
    back = QuantileCalibration.from_json(cal.to_json())
    assert np.array_equal(back.apply(mean, horizon), cal.apply(mean, horizon))


def test_lumpy_sellers_get_wider_upper_quantiles() -> None:
    rng = np.random.default_rng(4)
    n = 8000
    mean = rng.gamma(1.0, 0.3, n)
    klass = (rng.random(n) < 0.5).astype(np.int64)
    # Same mean, but class 1 buys in lots of 4: rarer sales, bigger when they happen.
    single = rng.poisson(mean).astype(float)
    lots = 4.0 * rng.poisson(mean / 4)
    actual = np.where(klass == 1, lots, single)
    horizon = np.ones(n, np.int64)
    cal = QuantileCalibration.fit(mean, actual, horizon, (0.5, 0.95), 1, klass=klass, classes=2)
    probe = np.full(2, float(np.median(mean)))
    q = cal.apply(probe, np.ones(2, np.int64), np.array([0, 1]))
    assert q[1, 1] > q[0, 1]
    back = QuantileCalibration.from_json(cal.to_json())
    assert np.array_equal(back.apply(probe, np.ones(2, np.int64), np.array([0, 1])), q)
