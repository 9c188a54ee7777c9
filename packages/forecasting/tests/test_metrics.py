"""Metrics against numbers worked out by hand on tiny panels."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from plastinka_forecasting.metrics import CUTOFF, METRICS, evaluate, interval_cover, totals_bias, wrmsse

LEVELS = [0.1, 0.5, 0.9]


def d(month: int) -> dt.date:
    return dt.date(2024, month, 1)


def panel(rows: list[tuple[str, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(item, d(m), y) for item, m, y in rows],
        schema={"item_id": pl.Utf8, "period": pl.Date, "y": pl.Float64},
        orient="row",
    )


def forecast(rows: list[tuple[str, int, float, float, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(item, d(m), mean, lo, mid, hi) for item, m, mean, lo, mid, hi in rows],
        schema={
            "item_id": pl.Utf8,
            "period": pl.Date,
            "mean": pl.Float64,
            "q_0.1": pl.Float64,
            "q_0.5": pl.Float64,
            "q_0.9": pl.Float64,
        },
        orient="row",
    )


# item a: history 0 2 0 1 -> naive steps 2 -2 1: s1 = 5/3, s2 = sqrt(9/3) = sqrt(3)
# item b: history 3 3 -> steps 0: zero scale
HISTORY = panel([("a", 1, 0), ("a", 2, 2), ("a", 3, 0), ("a", 4, 1), ("b", 3, 3), ("b", 4, 3)])
ACTUALS = panel([("a", 5, 0), ("a", 6, 3), ("b", 5, 3), ("b", 6, 0), ("a", 7, 9)])
FORECAST = forecast([("a", 5, 1, 0, 1, 2), ("a", 6, 1, 0, 1, 2), ("b", 5, 3, 2, 3, 4), ("b", 6, 3, 2, 3, 4)])


def test_per_item_metrics_by_hand() -> None:
    result = evaluate(FORECAST, ACTUALS, HISTORY, LEVELS)
    a = result.per_item.filter(pl.col("item_id") == "a").row(0, named=True)
    # errors (mean - y): 1, -2
    assert a["n"] == 2
    assert a["mae"] == pytest.approx(1.5)
    assert a["rmse"] == pytest.approx(math.sqrt(2.5))
    assert a["rmsse"] == pytest.approx(math.sqrt(2.5) / math.sqrt(3))
    assert a["bias"] == pytest.approx(-0.5)
    # pinball, y=0 vs (0, 1, 2): 0 + .5 + .2; y=3: .3 + 1 + .9 -> 2.9 / 6
    assert a["pinball"] == pytest.approx(2.9 / 6)
    assert a["spl"] == pytest.approx((2.9 / 6) / (5 / 3))
    # y=0 inside [0, 2]; y=3 above: winkler 2 and 2 + (3 - 2) / 0.1
    assert a["coverage"] == pytest.approx(0.5)
    assert a["above"] == pytest.approx(0.5)
    assert a["below"] == pytest.approx(0.0)
    assert a["winkler"] == pytest.approx(7.0)
    assert a["scale_mae"] == pytest.approx(5 / 3)


def test_zero_scale_series_is_left_out_of_scaled_averages_only() -> None:
    result = evaluate(FORECAST, ACTUALS, HISTORY, LEVELS)
    b = result.per_item.filter(pl.col("item_id") == "b").row(0, named=True)
    assert b["rmsse"] is None
    assert b["spl"] is None
    # b: y=3 in [2, 4] (width 2); y=0 below 2: 2 + 2 / 0.1 = 22
    assert b["winkler"] == pytest.approx(12.0)
    overall = result.overall
    assert overall["n_items"] == 2
    assert overall["n_unscaled"] == 1
    assert overall["rmsse"] == pytest.approx(math.sqrt(2.5) / math.sqrt(3))  # a's alone
    assert overall["mae"] == pytest.approx(1.5)  # pooled over a and b: |1|, |-2|, 0, |3|
    assert overall["winkler"] == pytest.approx((2 + 12 + 2 + 22) / 4)
    assert overall["coverage"] == pytest.approx(0.5)
    assert overall["zero_share"] == pytest.approx(0.5)


def test_rows_without_actuals_are_not_scored() -> None:
    extra = pl.concat([FORECAST, forecast([("a", 8, 5, 5, 5, 5), ("c", 5, 1, 1, 1, 1)])])
    assert evaluate(extra, ACTUALS, HISTORY, LEVELS).overall == evaluate(FORECAST, ACTUALS, HISTORY, LEVELS).overall


def test_segments_split_zero_and_nonzero_actuals() -> None:
    result = evaluate(FORECAST, ACTUALS, HISTORY, LEVELS)
    segments = {row["segment"]: row for row in result.by_segment.iter_rows(named=True)}
    assert segments["zero"]["n"] == 2
    assert segments["zero"]["mae"] == pytest.approx((1 + 3) / 2)
    assert segments["zero"]["bias"] == pytest.approx(2.0)
    assert segments["nonzero"]["mae"] == pytest.approx((2 + 0) / 2)
    # scaled values restricted to each segment: a's zero period has |e| = 1, its sale |e| = 2
    assert segments["zero"]["rmsse"] == pytest.approx(1 / math.sqrt(3))
    assert segments["nonzero"]["rmsse"] == pytest.approx(2 / math.sqrt(3))


def test_horizon_table_ranks_periods_within_each_series() -> None:
    result = evaluate(FORECAST, ACTUALS, HISTORY, LEVELS)
    by_h = {row["horizon"]: row for row in result.by_horizon.iter_rows(named=True)}
    assert set(by_h) == {1, 2}
    assert by_h[1]["mae"] == pytest.approx((1 + 0) / 2)
    assert by_h[2]["mae"] == pytest.approx((2 + 3) / 2)


def test_demand_classes_follow_adi_and_cv2() -> None:
    history = panel(
        [("smooth", m, 2) for m in range(1, 7)]
        + [("erratic", m, y) for m, y in zip(range(1, 7), [1, 9, 1, 9, 1, 9], strict=True)]
        + [("intermittent", m, y) for m, y in zip(range(1, 7), [2, 0, 0, 2, 0, 2], strict=True)]
        + [("lumpy", m, y) for m, y in zip(range(1, 7), [1, 0, 0, 9, 0, 0], strict=True)]
        + [("none", m, 0) for m in range(1, 7)]
    )
    items = ["smooth", "erratic", "intermittent", "lumpy", "none"]
    fc = forecast([(item, 7, 1, 0, 1, 2) for item in items])
    actuals = panel([(item, 7, 1) for item in items])
    result = evaluate(fc, actuals, history, LEVELS)
    classes = dict(result.per_item.select("item_id", "demand_class").iter_rows())
    assert classes == {
        "smooth": "smooth",
        "erratic": "erratic",
        "intermittent": "intermittent",
        "lumpy": "lumpy",
        "none": "no_demand",
    }
    assert sorted(result.by_class["demand_class"].to_list()) == sorted(classes.values())


def test_cutoffs_scale_each_fold_by_its_own_history() -> None:
    full = panel([("a", m, y) for m, y in zip(range(1, 7), [0, 2, 0, 4, 0, 0], strict=True)])
    folds = pl.concat(
        [
            forecast([("a", 3, 1, 0, 1, 2)]).with_columns(pl.lit(d(2)).alias(CUTOFF)),
            forecast([("a", 5, 1, 0, 1, 2)]).with_columns(pl.lit(d(4)).alias(CUTOFF)),
        ]
    )
    result = evaluate(folds, full, full, LEVELS)
    scales = dict(result.per_item.select(CUTOFF, "scale_mae").iter_rows())
    assert scales == {d(2): pytest.approx(2.0), d(4): pytest.approx((2 + 2 + 4) / 3)}
    assert result.overall["n_items"] == 2
    # fold 1: y=0, |e|=1 over scale 2; fold 2: y=0, |e|=1 over scale sqrt((4+4+16)/3)
    assert result.overall["rmsse"] == pytest.approx((1 / 2 + 1 / math.sqrt(8)) / 2)


def test_asymmetric_interval_penalties() -> None:
    fc = pl.DataFrame(
        {"item_id": ["a", "a"], "period": [d(5), d(6)], "mean": [1.0, 1.0], "q_0.2": [1.0, 1.0], "q_0.95": [2.0, 2.0]}
    )
    actuals = panel([("a", 5, 0), ("a", 6, 4)])
    history = panel([("a", 3, 0), ("a", 4, 1)])
    result = evaluate(fc, actuals, history, [0.2, 0.95], interval=(0.2, 0.95))
    # width 1; below by 1 costs 1 / 0.2 = 5, above by 2 costs 2 / 0.05 = 40
    assert result.overall["winkler"] == pytest.approx(((1 + 5) + (1 + 40)) / 2)
    assert result.overall["below"] == pytest.approx(0.5)


def test_every_table_carries_every_metric() -> None:
    result = evaluate(FORECAST, ACTUALS, HISTORY, LEVELS)
    for frame in (result.per_item, result.by_segment, result.by_class, result.by_horizon):
        assert set(METRICS) <= set(frame.columns)
    assert set(METRICS) <= set(result.overall)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="lacks column"):
        evaluate(FORECAST.drop("q_0.9"), ACTUALS, HISTORY, LEVELS)
    with pytest.raises(ValueError, match="lacks column"):
        evaluate(FORECAST, ACTUALS, HISTORY, [0.1, 0.5, 0.9, 0.95])
    with pytest.raises(ValueError, match="interval"):
        evaluate(FORECAST, ACTUALS, HISTORY, LEVELS, interval=(0.9, 0.1))


# WRMSSE, totals and the two coverages, worked by hand. History to month 4; forecasts for months 5-6.
#   a: 0 2 0 4 -> M5 scale from its first sale: diffs -2, 4 -> mean square 10; errors -2, 0 -> mse 2
#   b: 1 1 3 1 -> diffs 0, 2, -2 -> 8/3; errors 0, 2 -> mse 2
#   c: never sold, d: first sale in the last month -> no M5 scale, left out
WRMSSE_HISTORY = [("a", 1, 0), ("a", 2, 2), ("a", 3, 0), ("a", 4, 4), ("b", 1, 1), ("b", 2, 1), ("b", 3, 3)]
WRMSSE_HISTORY += [("b", 4, 1), ("c", 3, 0), ("c", 4, 0), ("d", 3, 0), ("d", 4, 5)]
WRMSSE_ACTUALS = [("a", 5, 3), ("a", 6, 1), ("b", 5, 2), ("b", 6, 0)]
WRMSSE_ACTUALS += [("c", 5, 0), ("c", 6, 1), ("d", 5, 9), ("d", 6, 0)]
WRMSSE_FORECAST = [("a", 5, 1.0, 0, 1, 2), ("a", 6, 1.0, 0, 1, 2), ("b", 5, 2.0, 2, 2, 3), ("b", 6, 2.0, 1, 2, 3)]
WRMSSE_FORECAST += [("c", 5, 0.0, 0, 0, 0), ("c", 6, 0.0, 0, 0, 1), ("d", 5, 1.0, 0, 1, 2), ("d", 6, 1.0, 0, 1, 2)]
PRICES = pl.DataFrame({"item_id": ["a", "b", "d"], "price": [10.0, 1.0, 100.0]})


def wrmsse_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    full = panel(WRMSSE_HISTORY + WRMSSE_ACTUALS)
    return forecast(WRMSSE_FORECAST).with_columns(pl.lit(d(4)).alias(CUTOFF)), full


def test_wrmsse_weights_m5_rmsse_by_revenue_over_the_window() -> None:
    fc, full = wrmsse_frames()
    # Revenue over the last 2 months (3, 4): a (0 + 4) x 10 = 40, b (3 + 1) x 1 = 4; d has no scale.
    expected = (40 * math.sqrt(2 / 10) + 4 * math.sqrt(2 / (8 / 3))) / 44
    score = wrmsse(fc, full, full, window=2, price=PRICES)
    assert score.per_fold == {d(4): pytest.approx(expected)}
    assert score.mean == pytest.approx(expected)


def test_wrmsse_without_prices_weights_by_units_and_differs_from_plain_rmsse() -> None:
    fc, full = wrmsse_frames()
    # Units over months 3-4: a 4, b 4 -> equal weights. Window 4 would weigh a 6 and b 6: the same here.
    expected = (math.sqrt(2 / 10) + math.sqrt(2 / (8 / 3))) / 2
    assert wrmsse(fc, full, full, window=2).mean == pytest.approx(expected)
    # The plain RMSSE scales a from its first period (diffs 2, -2, 4: mean square 8), not from its first sale.
    plain = evaluate(fc, full, full, LEVELS).per_item.filter(pl.col("item_id") == "a")["rmsse"].item()
    assert plain == pytest.approx(math.sqrt(2 / 8))


def test_wrmsse_averages_folds_each_scaled_and_weighted_by_its_own_past() -> None:
    fc, full = wrmsse_frames()
    # A second fold cut at month 3, forecasting month 4 only: a (0 2 0, diffs -2 2 -> 4), b (1 1 3 -> 2).
    early = forecast([("a", 4, 2.0, 0, 2, 4), ("b", 4, 3.0, 1, 3, 5)]).with_columns(pl.lit(d(3)).alias(CUTOFF))
    score = wrmsse(pl.concat([fc, early]), full, full, window=1, price=PRICES)
    # Month-3 revenue: a 0 x 10, b 3 x 1 -> only b counts: RMSSE |3 - 1| / sqrt(2).
    # Month-4 revenue: a 40, b 1 -> (40 sqrt(0.2) + sqrt(0.75)) / 41.
    late = (40 * math.sqrt(0.2) + math.sqrt(0.75)) / 41
    assert score.per_fold == {d(3): pytest.approx(2 / math.sqrt(2)), d(4): pytest.approx(late)}
    assert score.mean == pytest.approx((2 / math.sqrt(2) + late) / 2)


def test_totals_bias_per_fold() -> None:
    fc, full = wrmsse_frames()
    # Forecast sum 1+1+2+2+0+0+1+1 = 8, actual 3+1+2+0+0+1+9+0 = 16.
    assert totals_bias(fc, full).per_fold == {d(4): pytest.approx(8 / 16 - 1)}


def test_strict_and_inclusive_cover() -> None:
    fc, full = wrmsse_frames()
    # (q_0.1, q_0.9) vs actual: a (0,2) 3 out, (0,2) 1 in; b (2,3) 2 on the end, (1,3) 0 out; c (0,0) 0 on both
    # ends, (0,1) 1 on the end; d (0,2) 9 out, (0,2) 0 on the end. Strictly inside: 1 of 8; inclusive: 5 of 8.
    assert interval_cover(fc, full) == (pytest.approx(1 / 8), pytest.approx(5 / 8))
