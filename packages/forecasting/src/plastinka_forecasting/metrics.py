"""Forecast accuracy in units and scaled, per series, overall and by segment.

A **series** is one item forecast from one origin: the key is ``item_id``, plus ``cutoff`` (the last period
of the history the forecast was made from) when the forecast frame has that column, so the folds of a
rolling-origin backtest can be evaluated at once. With ``cutoff``, each series' scale comes from the history
up to its cutoff; without it, from the whole ``history`` given.

Point metrics use the ``mean`` column. With error ``e = mean - y`` over a series' ``n`` evaluated periods:

* ``mae = mean |e|``; ``rmse = sqrt(mean e^2)``; ``bias = mean e`` (positive = over-forecast).
* ``rmsse = rmse / s2`` with ``s2 = sqrt(mean_t (y_t - y_{t-1})^2)`` over the series' history (the in-sample
  one-step naive RMSE).
* ``pinball = mean over periods and levels of rho_tau(y, q_tau)``, ``rho_tau = tau (y - q)`` if ``y >= q``
  else ``(1 - tau)(q - y)``; ``spl = pinball / s1`` with ``s1 = mean_t |y_t - y_{t-1}|`` (in-sample naive
  MAE).
* ``coverage`` for ``interval = (lo, hi)``: share of periods with ``q_lo <= y <= q_hi`` (both ends included:
  with whole-number quantiles an actual equal to a bound is inside).
* ``below`` / ``above``: shares of periods with ``y < q_lo`` / ``y > q_hi`` (at most ``lo`` and ``1 - hi`` for
  a calibrated forecast; on whole-number data with many zeros ``coverage`` exceeds ``hi - lo`` by design, so
  these two tell more).
* ``winkler`` (interval score): ``(u - l) + (l - y)/lo if y < l`` ``+ (y - u)/(1 - hi) if y > u``, which
  for a central ``1 - a`` interval is the usual ``2/a`` penalty.

**Zero scale.** A series whose history has fewer than two periods or never changes (e.g. all zeros) has
``s1 = s2 = 0``: its ``rmsse`` and ``spl`` are null, it is left out of every scaled average and counted in
``n_unscaled``; it still counts in the unscaled metrics.

**Aggregates** (``overall``, ``by_segment``, ``by_class``, ``by_horizon``): ``mae``, ``rmse``, ``bias``,
``coverage``, ``below``, ``above``, ``winkler`` and ``pinball`` pool all evaluated points of the group;
``rmsse`` and ``spl`` are the unweighted mean over the group's scaled series of each series' value computed on
its points in the group (so ``by_segment``'s ``zero`` row averages each series' scaled error over its
zero-demand periods).

**Scores across series** (rolling-origin summaries, one value per fold then averaged over folds):

* :func:`wrmsse`, M5's weighted RMSSE: per series ``sqrt(mean e^2 / s)`` with ``s`` the mean squared one-step
  difference of its history up to the cut-off counted from its first non-zero sale (M5's scale, unlike
  ``rmsse`` above, which counts from the first period); series with ``s = 0`` or undefined are left out.
  Weights: each series' revenue (``price x y``) over the last ``window`` periods up to the cut-off, normalised
  to sum 1 over the fold's scored series; without prices, units sold (``price = 1``).
* :func:`totals_bias`: ``sum(mean) / sum(y) - 1`` over all items and periods of each fold.
* :func:`interval_cover`: the shares of actuals strictly inside ``(q_lo, q_hi)`` and inside ``[q_lo, q_hi]``.

**Demand classes** (Syntetos-Boylan-Croston, from each series' history): ``no_demand`` (no sale),
``smooth`` (ADI < 1.32, CV^2 < 0.49), ``erratic`` (ADI < 1.32), ``intermittent`` (CV^2 < 0.49), ``lumpy``;
ADI = periods / periods with demand, CV^2 = squared coefficient of variation of the non-zero demands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import polars as pl

from plastinka_forecasting.frames import ITEM_ID, MEAN, PERIOD, TARGET, quantile_column

__all__ = [
    "CUTOFF",
    "DEMAND_CLASSES",
    "METRICS",
    "Evaluation",
    "FoldScore",
    "evaluate",
    "interval_cover",
    "totals_bias",
    "wrmsse",
]

CUTOFF: Final = "cutoff"
#: The metric columns of every table in an :class:`Evaluation`, in order.
METRICS: Final = ("mae", "rmse", "rmsse", "spl", "pinball", "coverage", "below", "above", "bias", "winkler")
DEMAND_CLASSES: Final = ("no_demand", "smooth", "erratic", "intermittent", "lumpy")
ADI_CUT: Final = 1.32
CV2_CUT: Final = 0.49

_ACTUAL: Final = "_actual"
_SCALE_MAE: Final = "scale_mae"
_SCALE_RMSE: Final = "scale_rmse"
_CLASS: Final = "demand_class"


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`; see the module docstring for every formula."""

    overall: dict[str, float]
    per_item: pl.DataFrame
    by_segment: pl.DataFrame
    by_class: pl.DataFrame
    by_horizon: pl.DataFrame


def _history_stats(history: pl.DataFrame) -> pl.DataFrame:
    """Naive scales and demand class of each item of a panel."""
    step = pl.col(TARGET) - pl.col(TARGET).shift(1).over(ITEM_ID)
    nonzero = pl.col(TARGET).filter(pl.col(TARGET) > 0)
    stats = (
        history.sort(ITEM_ID, PERIOD)
        .with_columns(step.alias("_step"))
        .group_by(ITEM_ID)
        .agg(
            pl.col("_step").abs().mean().fill_null(0.0).alias(_SCALE_MAE),
            (pl.col("_step") ** 2).mean().sqrt().fill_null(0.0).alias(_SCALE_RMSE),
            pl.len().alias("_periods"),
            nonzero.len().alias("_demands"),
            (nonzero.std(ddof=0) / nonzero.mean()).pow(2).alias("_cv2"),
        )
    )
    adi = pl.col("_periods") / pl.col("_demands")
    demand_class = (
        pl.when(pl.col("_demands") == 0)
        .then(pl.lit("no_demand"))
        .when((adi < ADI_CUT) & (pl.col("_cv2") < CV2_CUT))
        .then(pl.lit("smooth"))
        .when(adi < ADI_CUT)
        .then(pl.lit("erratic"))
        .when(pl.col("_cv2") < CV2_CUT)
        .then(pl.lit("intermittent"))
        .otherwise(pl.lit("lumpy"))
    )
    return stats.select(ITEM_ID, _SCALE_MAE, _SCALE_RMSE, demand_class.alias(_CLASS))


def _series_stats(history: pl.DataFrame, keys: list[str], cutoffs: pl.Series | None) -> pl.DataFrame:
    if cutoffs is None:
        return _history_stats(history)
    parts = [
        _history_stats(history.filter(pl.col(PERIOD) <= cutoff)).with_columns(pl.lit(cutoff).alias(CUTOFF))
        for cutoff in cutoffs.unique().sort().to_list()
    ]
    return pl.concat(parts).select(*keys, _SCALE_MAE, _SCALE_RMSE, _CLASS)


def _pinball(level: float) -> pl.Expr:
    q = pl.col(quantile_column(level))
    y = pl.col(_ACTUAL)
    return pl.when(y >= q).then(level * (y - q)).otherwise((1.0 - level) * (q - y))


def _points(
    forecast: pl.DataFrame,
    actuals: pl.DataFrame,
    stats: pl.DataFrame,
    keys: list[str],
    levels: list[float],
    interval: tuple[float, float],
) -> pl.DataFrame:
    low, high = (pl.col(quantile_column(level)) for level in interval)
    y = pl.col(_ACTUAL)
    error = pl.col(MEAN) - y
    winkler = (
        (high - low)
        + pl.when(y < low).then((low - y) / interval[0]).otherwise(0.0)
        + pl.when(y > high).then((y - high) / (1.0 - interval[1])).otherwise(0.0)
    )
    pinball = pl.sum_horizontal([_pinball(level) for level in levels]) / len(levels)
    return (
        forecast.with_columns(pl.col(PERIOD).rank("dense").over(keys).cast(pl.Int64).alias("horizon"))
        .join(actuals.select(ITEM_ID, PERIOD, pl.col(TARGET).cast(pl.Float64).alias(_ACTUAL)), on=[ITEM_ID, PERIOD])
        .filter(y.is_not_null() & y.is_not_nan())
        .join(stats, on=keys, how="left")
        .with_columns(
            pl.col(_SCALE_MAE).fill_null(0.0),
            pl.col(_SCALE_RMSE).fill_null(0.0),
            pl.col(_CLASS).fill_null("no_demand"),
        )
        .select(
            *keys,
            "horizon",
            _ACTUAL,
            _SCALE_MAE,
            _SCALE_RMSE,
            _CLASS,
            pl.when(y > 0).then(pl.lit("nonzero")).otherwise(pl.lit("zero")).alias("segment"),
            error.alias("_error"),
            pinball.alias("_pinball"),
            ((y >= low) & (y <= high)).cast(pl.Float64).alias("_covered"),
            (y < low).cast(pl.Float64).alias("_below"),
            (y > high).cast(pl.Float64).alias("_above"),
            winkler.alias("_winkler"),
        )
    )


def _pooled() -> list[pl.Expr]:
    error = pl.col("_error")
    return [
        pl.len().alias("n"),
        error.abs().mean().alias("mae"),
        (error**2).mean().sqrt().alias("rmse"),
        error.mean().alias("bias"),
        pl.col("_covered").mean().alias("coverage"),
        pl.col("_below").mean().alias("below"),
        pl.col("_above").mean().alias("above"),
        pl.col("_winkler").mean().alias("winkler"),
        pl.col("_pinball").mean().alias("pinball"),
    ]


def _scaled() -> list[pl.Expr]:
    scale_rmse = pl.col(_SCALE_RMSE).first()
    scale_mae = pl.col(_SCALE_MAE).first()
    return [
        pl.when(scale_rmse > 0).then((pl.col("_error") ** 2).mean().sqrt() / scale_rmse).alias("rmsse"),
        pl.when(scale_mae > 0).then(pl.col("_pinball").mean() / scale_mae).alias("spl"),
    ]


def _summarise(points: pl.DataFrame, by: str, keys: list[str]) -> pl.DataFrame:
    pooled = points.group_by(by).agg(*_pooled(), pl.struct(keys).n_unique().alias("n_items"))
    series = points.group_by(by, *keys).agg(*_scaled())
    scaled = series.group_by(by).agg(
        pl.col("rmsse").mean(), pl.col("spl").mean(), pl.col("rmsse").is_null().sum().alias("n_unscaled")
    )
    return pooled.join(scaled, on=by).select(by, "n_items", "n_unscaled", "n", *METRICS)


def evaluate(
    forecast: pl.DataFrame,
    actuals: pl.DataFrame,
    history: pl.DataFrame,
    quantiles: Sequence[float],
    *,
    interval: tuple[float, float] = (0.1, 0.9),
) -> Evaluation:
    """Score ``forecast`` (a forecast frame, optionally with ``cutoff``) against ``actuals`` (a panel).

    Only forecast rows with an actual are scored. ``history`` is the panel the forecast was made from (or the
    full panel when ``forecast`` has ``cutoff``: each series then uses its history up to its cutoff).
    ``quantiles`` are the levels scored by the pinball loss; ``interval`` must name two of the forecast's
    quantile columns. Formulas and aggregation: see the module docstring.
    """
    levels = sorted({float(q) for q in quantiles})
    lo, hi = interval
    if not 0.0 < lo < hi < 1.0:
        raise ValueError(f"interval must be two levels 0 < lo < hi < 1, got {interval}")
    needed = [ITEM_ID, PERIOD, MEAN, *(quantile_column(q) for q in sorted({*levels, lo, hi}))]
    missing = [column for column in needed if column not in forecast.columns]
    if missing:
        raise ValueError(f"forecast lacks column(s) {missing}")
    keys = [ITEM_ID, CUTOFF] if CUTOFF in forecast.columns else [ITEM_ID]
    cutoffs = forecast.get_column(CUTOFF) if CUTOFF in forecast.columns else None
    stats = _series_stats(history.select(ITEM_ID, PERIOD, pl.col(TARGET).cast(pl.Float64)), keys, cutoffs)
    points = _points(forecast, actuals, stats, keys, levels, interval)

    per_item = (
        points.group_by(keys)
        .agg(*_pooled(), *_scaled(), pl.col(_SCALE_MAE).first(), pl.col(_SCALE_RMSE).first(), pl.col(_CLASS).first())
        .sort(keys)
        .select(*keys, _CLASS, "n", *METRICS, _SCALE_MAE, _SCALE_RMSE)
    )
    everything = _summarise(points.with_columns(pl.lit("all").alias("_all")), "_all", keys)
    overall = (
        {
            name: float(value) if value is not None else float("nan")
            for name, value in everything.drop("_all").row(0, named=True).items()
        }
        if everything.height
        else {}
    )
    zero_share = points.select((pl.col(_ACTUAL) == 0).mean()).item() if points.height else None
    overall["zero_share"] = float("nan") if zero_share is None else float(zero_share)
    return Evaluation(
        overall=overall,
        per_item=per_item,
        by_segment=_summarise(points, "segment", keys).sort("segment"),
        by_class=_summarise(points, _CLASS, keys).sort(_CLASS),
        by_horizon=_summarise(points, "horizon", keys).sort("horizon"),
    )


@dataclass(frozen=True)
class FoldScore:
    """A score per fold (``cutoff`` -> value) and its mean over folds."""

    per_fold: dict[date, float]

    @property
    def mean(self) -> float:
        return sum(self.per_fold.values()) / len(self.per_fold) if self.per_fold else float("nan")


def _folds(forecast: pl.DataFrame) -> pl.DataFrame:
    return forecast if CUTOFF in forecast.columns else forecast.with_columns(pl.lit(None, pl.Date).alias(CUTOFF))


def _m5_scale_and_weight(history: pl.DataFrame, price: pl.DataFrame | None, window: int) -> pl.DataFrame:
    """``item_id``, ``_scale`` (M5: from the first non-zero sale) and ``_revenue`` over the last ``window``
    periods of ``history``."""
    periods = history.get_column(PERIOD).unique().sort()
    recent = periods[-window:][0] if periods.len() else None
    priced = (
        history.join(price.select(ITEM_ID, pl.col("price").cast(pl.Float64)), on=ITEM_ID, how="left")
        if price is not None
        else history.with_columns(pl.lit(1.0).alias("price"))
    )
    started = (pl.col(TARGET) > 0).cast(pl.Int8).cum_max().over(ITEM_ID) > 0
    step = pl.col(TARGET) - pl.col(TARGET).shift(1).over(ITEM_ID)
    return (
        priced.sort(ITEM_ID, PERIOD)
        .filter(started)
        .with_columns((step**2).alias("_sq"))
        .group_by(ITEM_ID)
        .agg(
            pl.col("_sq").drop_nulls().mean().alias("_scale"),
            (pl.col(TARGET) * pl.col("price").fill_null(0.0)).filter(pl.col(PERIOD) >= recent).sum().alias("_revenue"),
        )
    )


def wrmsse(
    forecast: pl.DataFrame,
    actuals: pl.DataFrame,
    history: pl.DataFrame,
    *,
    window: int,
    price: pl.DataFrame | None = None,
) -> FoldScore:
    """M5's WRMSSE of the ``mean`` column per fold (``cutoff``; the whole frame is one fold without it).

    ``history`` is the panel (each fold uses its rows up to its cut-off), ``price`` (``item_id``, ``price``) the
    unit price for the revenue weights over the last ``window`` periods; see the module docstring.
    """
    per_fold: dict[date, float] = {}
    framed = _folds(forecast)
    for cutoff in framed.get_column(CUTOFF).unique().sort().to_list():
        fold = framed.filter(pl.col(CUTOFF).is_null() if cutoff is None else pl.col(CUTOFF) == cutoff)
        past = history if cutoff is None else history.filter(pl.col(PERIOD) <= cutoff)
        series = (
            fold.join(actuals.select(ITEM_ID, PERIOD, pl.col(TARGET).alias(_ACTUAL)), on=[ITEM_ID, PERIOD])
            .group_by(ITEM_ID)
            .agg(((pl.col(MEAN) - pl.col(_ACTUAL)) ** 2).mean().alias("_mse"))
            .join(_m5_scale_and_weight(past.select(ITEM_ID, PERIOD, TARGET), price, window), on=ITEM_ID)
            .filter(pl.col("_scale") > 0)
        )
        total = float(series.get_column("_revenue").sum())
        if series.height and total > 0:
            value = series.select(((pl.col("_mse") / pl.col("_scale")).sqrt() * pl.col("_revenue")).sum()).item()
            per_fold[cutoff] = float(value) / total
    return FoldScore(per_fold)


def totals_bias(forecast: pl.DataFrame, actuals: pl.DataFrame) -> FoldScore:
    """Per fold, ``sum of forecast means / sum of actuals - 1`` over every scored item and period."""
    sums = (
        _folds(forecast)
        .join(actuals.select(ITEM_ID, PERIOD, pl.col(TARGET).alias(_ACTUAL)), on=[ITEM_ID, PERIOD])
        .group_by(CUTOFF)
        .agg(pl.col(MEAN).sum(), pl.col(_ACTUAL).sum())
        .filter(pl.col(_ACTUAL) > 0)
        .sort(CUTOFF)
    )
    return FoldScore({row[CUTOFF]: row[MEAN] / row[_ACTUAL] - 1.0 for row in sums.iter_rows(named=True)})


def interval_cover(
    forecast: pl.DataFrame, actuals: pl.DataFrame, interval: tuple[float, float] = (0.1, 0.9)
) -> tuple[float, float]:
    """Shares of actuals with ``q_lo < y < q_hi`` (strict) and ``q_lo <= y <= q_hi`` (inclusive)."""
    low, high = (pl.col(quantile_column(level)) for level in interval)
    y = pl.col(_ACTUAL)
    joined = forecast.join(actuals.select(ITEM_ID, PERIOD, pl.col(TARGET).alias(_ACTUAL)), on=[ITEM_ID, PERIOD])
    if not joined.height:
        return float("nan"), float("nan")
    strict, inclusive = joined.select(
        ((y > low) & (y < high)).mean().alias("strict"), ((y >= low) & (y <= high)).mean().alias("inclusive")
    ).row(0)
    return float(strict), float(inclusive)
