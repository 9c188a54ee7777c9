"""The global LightGBM model: one direct multi-horizon booster for the mean, calibrated quantiles around it.

Training (see ``docs/forecasting.md`` for why):

1. Stack (item, origin, horizon) rows over every past origin (randomly thinned to ``max_train_rows``).
2. Hold out the last origins: a first booster learns from targets up to a cut-off, early-stops on the
   held-out rows, and its out-of-sample errors on those many origins fit the quantile multipliers
   (:class:`~plastinka_forecasting.calibration.QuantileCalibration`), per horizon group and demand level.
3. The final booster learns from every row with the early-stopped number of rounds (scaled up a little for
   the extra data).

Both boosters learn the item's sales over its own level (``features.item_level``; scale-free, so items at 0.1
and 10,000 copies share one model) and start from the shop's year-ago ratio (``_offset``), known from one season
of history. On the held-out origins a window-average share per demand segment is chosen too
(:mod:`plastinka_forecasting.combine`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from plastinka_forecasting.calibration import CrossFitted, QuantileCalibration
from plastinka_forecasting.combine import (
    CHOICE_LEVELS,
    SEGMENTS,
    Combination,
    pool_levels,
    segments,
    window_candidate,
)
from plastinka_forecasting.features import (
    CATEGORICAL_FEATURES,
    FeatureConfig,
    FeatureSpace,
    Rows,
    column,
    default_config,
    item_level,
    to_dense,
)
from plastinka_forecasting.frames import ITEM_ID, MEAN, PERIOD, TARGET, quantile_columns
from plastinka_forecasting.panel import MIN_TRAINING_PERIODS, next_periods
from plastinka_forecasting.pit import PIT_LEVELS, quantile_pit_bounds
from plastinka_forecasting.point import PointShrink
from plastinka_forecasting.totals import TotalCalibration
from plastinka_schemas import DEFAULT_QUANTILES, Frequency

__all__ = ["POINTS", "ModelParams", "Progress", "TrainedModel", "fit_panel", "predict_panel"]

Progress = Callable[[float, str], None]

#: The smoothed-rate feature the booster's mean may be blended with (an exponentially smoothed demand rate).
BLEND_FEATURE = "ewm_slow"
_BLEND_GRID = np.linspace(0.0, 0.6, 13)
_MIN_SCALE = 0.3
_MIN_TRAIN_PERIODS = 2
_ROWS_PER_THREAD = 50_000
_LUMPY_SIZE = 1.5
#: The year-ago ratio of the seasonal prior is clipped to this range (see ``_offset``).
_YOY_RANGE = (0.2, 5.0)
#: Held-out rows the combination is chosen on (at most).
_COMBINE_ROWS = 100_000
#: Rows per chunk when the calibration guard reads the held-out PIT off 99 levels.
_PIT_CHUNK = 20_000

#: Point forecasts (``ModelParams.point``): the booster's expected demand (default), the same recalibrated
#: by held-out ratios (measured, not the default), and the RMSSE-optimal shrunk point (opt-in; not a mean).
POINT_MEAN = "mean"
POINT_CALIBRATED = "calibrated"
POINT_RMSSE = "rmsse"
POINTS = (POINT_MEAN, POINT_CALIBRATED, POINT_RMSSE)


@dataclass(frozen=True)
class ModelParams:
    """LightGBM and training settings; the defaults are what ``train`` uses on every dataset."""

    objective: str = "tweedie"
    tweedie_variance_power: float = 1.2
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_data_in_leaf: int = 100
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    max_bin: int = 63
    max_rounds: int = 800
    early_stopping_rounds: int = 50
    max_train_rows: int = 1_200_000
    max_calibration_rows: int = 400_000
    calibration_origins: int = 0
    central_intervals: bool = False
    weighting: str = "level"
    weight_power: float = 0.5
    point: str = "mean"
    size_classes: bool = False
    segment_classes: bool = True
    combine: bool = True
    blend: bool = True
    seasonal_offset: bool = True
    season_weight: float = 0.5
    seed: int = 0
    num_threads: int = 0

    def __post_init__(self) -> None:
        if self.point not in POINTS:
            raise ValueError(f"unknown point forecast {self.point!r}: use one of {', '.join(POINTS)}")

    def with_overrides(self, overrides: dict[str, Any]) -> ModelParams:
        known = set(asdict(self))
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown model parameter(s): {', '.join(sorted(unknown))}")
        return replace(self, **overrides)

    def lgb_params(self, rows: int) -> dict[str, Any]:
        """LightGBM parameters for a training set of ``rows`` rows."""
        threads = self.num_threads or (os.cpu_count() or 1)
        if rows < _ROWS_PER_THREAD * 2:
            # OpenMP threads cost more than they save on small sets (and spin badly on a busy machine).
            threads = 1
        params: dict[str, Any] = {
            "objective": self.objective,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": self.lambda_l2,
            "max_bin": self.max_bin,
            "num_threads": threads,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }
        if self.objective == "tweedie":
            params["tweedie_variance_power"] = self.tweedie_variance_power
        return params


@dataclass
class TrainedModel:
    """Everything needed to forecast: the booster, the calibration, the feature setup and the history."""

    booster: lgb.Booster
    calibration: QuantileCalibration
    shrink: PointShrink
    config: FeatureConfig
    frequency: Frequency
    horizon: int
    quantiles: tuple[float, ...]
    feature_names: list[str]
    vocab: dict[str, list[str]]
    params: ModelParams
    history: pl.DataFrame
    attributes: pl.DataFrame | None
    rounds: int
    blend: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    combination: Combination | None = None
    #: Quantiles of N-period totals for the order list (:mod:`plastinka_forecasting.orders`); None in models
    #: saved before it existed.
    totals: TotalCalibration | None = None

    @property
    def first_period(self) -> date | None:
        value = self.history[PERIOD].min() if self.history.height else None
        return value if isinstance(value, date) else None

    @property
    def last_period(self) -> date | None:
        value = self.history[PERIOD].max() if self.history.height else None
        return value if isinstance(value, date) else None


def _default_calibration_origins(frequency: Frequency) -> int:
    return 6 if frequency is Frequency.MONTH else 13


def _offset(x: np.ndarray, names: list[str], enabled: bool, weight: float = 1.0) -> np.ndarray | None:
    """log of the shop's year-ago ratio for the target period (``shop_yoy``, see ``FeatureSpace._shop_yoy``: the
    shop's sales in the same period one season back over its mean in the quarter before the origin one season
    back, on the item level's footing), 0 where no season of history exists: the booster's starting point
    (LightGBM's ``init_score``) for the item's scaled demand. With the log link the booster then learns each item's
    departure from "its own level times the shop's seasonal swing" and need not rebuild the autumn peak from
    splits, which trees cannot extrapolate to from a spring they were trained on. ``weight`` (``season_weight``)
    shrinks the log-ratio towards 0."""
    if not enabled:
        return None
    yoy = np.nan_to_num(column(x, names, "shop_yoy").astype(np.float64), nan=1.0)
    ratio = np.power(np.clip(yoy, *_YOY_RANGE), weight)
    out: np.ndarray = np.log(np.clip(ratio, *_YOY_RANGE))
    return out


def _init(x: np.ndarray, names: list[str], params: ModelParams) -> np.ndarray | None:
    return _offset(x, names, params.seasonal_offset, params.season_weight)


def _predict(booster: lgb.Booster, x: np.ndarray, names: list[str], params: ModelParams, rounds: int) -> np.ndarray:
    """Expected demand in copies: the booster's scaled forecast times the item's level."""
    raw = np.asarray(booster.predict(x, num_iteration=rounds), dtype=np.float64)
    offset = _init(x, names, params)
    if offset is not None:
        raw = raw * np.exp(offset)
    out: np.ndarray = np.clip(raw * item_level(x, names), 0.0, None)
    return out


def _scaled_target(x: np.ndarray, y: np.ndarray, names: list[str]) -> np.ndarray:
    out: np.ndarray = (y / item_level(x, names)).astype(np.float32)
    return out


def _dataset(
    x: np.ndarray,
    y: np.ndarray,
    names: list[str],
    weight: np.ndarray | None = None,
    reference: lgb.Dataset | None = None,
    init_score: np.ndarray | None = None,
) -> lgb.Dataset:
    return lgb.Dataset(
        x,
        label=y,
        weight=weight,
        init_score=init_score,
        feature_name=names,
        categorical_feature=[n for n in CATEGORICAL_FEATURES if n in names],
        reference=reference,
        free_raw_data=True,
        params={"max_bin": 63, "verbosity": -1},
    )


def _row_weights(x: np.ndarray, names: list[str], mode: str, power: float = 0.5) -> np.ndarray | None:
    """Row weights of the scaled target's loss: ``level ** power`` ("level", the default), so the items that sell
    more count more without the best sellers drowning the rest (0 = every item equal, scale-free; 1 = every copy
    equal); "rmsse" is the earlier 1 / (naive RMSE)^2 in copies."""
    if mode == "none":
        return None
    level = item_level(x, names)
    if mode == "level":
        weight = np.power(level, power)
    elif mode == "rmsse":
        scale = np.nan_to_num(column(x, names, "naive_rmse"), nan=1.0) * level
        weight = 1.0 / np.square(np.clip(scale, _MIN_SCALE, None))
    else:
        raise ValueError(f"unknown weighting {mode!r}: use 'level', 'rmsse' or 'none'")
    out: np.ndarray = (weight / weight.mean()).astype(np.float32)
    return out


def _blend_input(x: np.ndarray, names: list[str]) -> np.ndarray:
    scaled = np.nan_to_num(column(x, names, BLEND_FEATURE), nan=0.0).astype(np.float64)
    out: np.ndarray = scaled * item_level(x, names)
    return out


def _classes(x: np.ndarray, names: list[str], params: ModelParams) -> tuple[np.ndarray | None, int]:
    """The quantile table's row classes: the demand segment (default), the size class, or none."""
    if params.segment_classes:
        return segments(x, names), len(SEGMENTS)
    if params.size_classes:
        return _size_class(x, names), 2
    return None, 1


def _size_class(x: np.ndarray, names: list[str]) -> np.ndarray:
    """1 for items that usually sell several copies at once (smoothed non-zero size above 1.5), else 0."""
    size = np.nan_to_num(column(x, names, "croston_size"), nan=0.0) * item_level(x, names)
    out: np.ndarray = (size > _LUMPY_SIZE).astype(np.int64)
    return out


def _choose_blend(raw: np.ndarray, base: np.ndarray, y: np.ndarray, weight: np.ndarray | None) -> float:
    """The share of the smoothed-rate baseline that minimises weighted squared error on held-out rows."""
    w = np.ones_like(y) if weight is None else weight.astype(np.float64)
    losses = [float(np.sum(w * ((1 - a) * raw + a * base - y) ** 2)) for a in _BLEND_GRID]
    return float(_BLEND_GRID[int(np.argmin(losses))])


@dataclass(frozen=True)
class _Holdout:
    calibration: QuantileCalibration
    shrink: PointShrink
    rounds: int
    blend: float
    info: dict[str, Any]
    combination: Combination
    totals: TotalCalibration | None = None


def _held_out_pit(
    folds: CrossFitted,
    mean: np.ndarray,
    actual: np.ndarray,
    held: Rows,
    pick: np.ndarray,
    klass: np.ndarray | None,
    values: np.ndarray,
    window: int,
) -> tuple[np.ndarray, ...]:
    """PIT bounds ``F(y-)``, ``F(y)`` of the rows ``pick`` under the model (out of fold) and under the window
    average, both read off :data:`PIT_LEVELS` as the backtests read them; in chunks, so the (rows x 99) quantile
    matrices stay small."""
    out = np.zeros((4, len(pick)))
    for chunk in np.array_split(np.arange(len(pick)), max(1, -(-len(pick) // _PIT_CHUNK))):
        rows = pick[chunk]
        y = actual[rows]
        out[0:2, chunk] = quantile_pit_bounds(folds.quantiles(mean, held.h, rows, klass), PIT_LEVELS, y)
        _, cand_q, _ = window_candidate(values, held.item[rows], held.t[rows], window, PIT_LEVELS)
        out[2:4, chunk] = quantile_pit_bounds(cand_q, PIT_LEVELS, y)
    return tuple(out)


def _fit_holdout(
    space: FeatureSpace,
    names: list[str],
    params: ModelParams,
    quantiles: tuple[float, ...],
    horizon: int,
    frequency: Frequency,
    report: Progress,
) -> _Holdout:
    """Train on targets up to a cut-off and learn rounds, blend and quantiles from the held-out origins."""
    n_periods = space.hist.n_periods
    k = params.calibration_origins or _default_calibration_origins(frequency)
    cut = n_periods - 1 - horizon - k + 1
    if cut < _MIN_TRAIN_PERIODS:
        k = max(0, n_periods - 1 - horizon - _MIN_TRAIN_PERIODS + 1)
        cut = n_periods - 1 - horizon - k + 1
    window = space.config.season
    fallback = _Holdout(
        QuantileCalibration.poisson(quantiles, horizon),
        PointShrink.identity(),
        min(params.max_rounds, 200),
        0.0,
        {},
        Combination.model_only(window),
    )
    if k < 1 or cut < _MIN_TRAIN_PERIODS:
        return fallback
    # The hold-out booster stands in for the final one (its rounds and its held-out errors are reused), so it
    # learns from no more rows than the final booster will: below the row cap every horizon of every origin is a
    # row, above it one horizon per sampled (item, origin), so a hold-out set just under the cap could be 7x the
    # final set (synthetic weekly: 1,087,294 rows against 146,940).
    final_rows = space.expected_rows(range(n_periods - 1), horizon, max_rows=params.max_train_rows)
    train_rows = space.training_rows(
        range(cut), horizon, max_rows=min(params.max_train_rows, final_rows), seed=params.seed, last_target=cut
    )
    held = space.training_rows(
        range(cut, n_periods - 1),
        horizon,
        max_rows=params.max_calibration_rows,
        seed=params.seed + 1,
        whole_windows=True,
    )
    if not len(train_rows) or not len(held):
        return fallback
    report(0.15, f"hold-out booster: {len(train_rows)} rows; {len(held)} held-out rows from {k}+ origins")
    w_tr = _row_weights(train_rows.x, names, params.weighting, params.weight_power)
    w_cal = _row_weights(held.x, names, params.weighting, params.weight_power)
    y_tr = _scaled_target(train_rows.x, train_rows.y, names)
    y_cal = _scaled_target(held.x, held.y, names)
    train_set = _dataset(train_rows.x, y_tr, names, w_tr, init_score=_init(train_rows.x, names, params))
    valid_set = _dataset(held.x, y_cal, names, w_cal, reference=train_set, init_score=_init(held.x, names, params))
    booster = lgb.train(
        params.lgb_params(len(train_rows)),
        train_set,
        num_boost_round=params.max_rounds,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    best = booster.best_iteration or params.max_rounds
    raw = _predict(booster, held.x, names, params, best)
    y64 = held.y.astype(np.float64)
    base = _blend_input(held.x, names)
    blend = _choose_blend(raw, base, y64, None) if params.blend else 0.0
    mean = (1 - blend) * raw + blend * base
    klass, classes = _classes(held.x, names, params)
    totals = TotalCalibration.fit(mean, y64, held.item, held.t, held.h, horizon)
    level = item_level(held.x, names)
    scale = np.nan_to_num(column(held.x, names, "naive_rmse"), nan=0.0).astype(np.float64) * level
    combination = Combination.model_only(window)
    if params.combine:
        # A random subset of the held-out rows is plenty to choose five shares per segment, and keeps the
        # (rows x levels) quantile matrices small when many levels are asked for (backtests ask for 106).
        pick = np.random.default_rng(params.seed + 3).permutation(len(held))[:_COMBINE_ROWS]
        scale_mae = np.nan_to_num(column(held.x, names, "naive_mae")[pick], nan=0.0).astype(np.float64) * level[pick]
        values = space.hist.values
        cand_mean, cand_q, usable = window_candidate(values, held.item[pick], held.t[pick], window, CHOICE_LEVELS)

        # Scored on fixed levels, so the choice (and the forecast) does not depend on the levels asked for, and
        # out of fold, so the model's quantiles are scored on rows their table never saw, like the window average.
        def out_of_fold(levels: tuple[float, ...]) -> CrossFitted:
            return CrossFitted.fit(
                mean,
                y64,
                held.h,
                held.t,
                levels,
                horizon,
                klass=klass,
                classes=classes,
                central=params.central_intervals,
            )

        model_q = out_of_fold(CHOICE_LEVELS).quantiles(mean, held.h, pick, klass)
        folds = out_of_fold(PIT_LEVELS)
        pit = _held_out_pit(folds, mean, y64, held, pick, klass, values, window)
        combination = Combination.fit(
            window,
            mean[pick],
            model_q,
            cand_mean,
            cand_q,
            usable,
            y64[pick],
            segments(held.x[pick], names),
            scale_mae,
            scale[pick],
            CHOICE_LEVELS,
            pit,
        )
    # A pool is computed on fixed levels whatever is asked for (``combine.POOL_LEVELS``), so with one the table
    # holds them too; each level's multipliers are its own, so the asked levels' are the same either way.
    table_levels = quantiles if combination.is_model_only else pool_levels(quantiles)
    calibration = QuantileCalibration.fit(
        mean, y64, held.h, table_levels, horizon, klass=klass, classes=classes, central=params.central_intervals
    )
    window_id = held.item * n_periods + held.t
    # Every point adjustment is fitted (they are cheap) so a backtest can score them side by side.
    points = {
        POINT_MEAN: PointShrink.identity(),
        POINT_CALIBRATED: PointShrink.fit_mean(mean, y64, held.h, horizon),
        POINT_RMSSE: PointShrink.fit(mean, y64, window_id, scale, horizon),
    }
    shrink = points[params.point]
    info = {
        "origins": k,
        "rows": len(held),
        "best_iteration": best,
        "blend": blend,
        "shrink": shrink.to_json(),
        "points": {name: p.to_json() for name, p in points.items()},
        "holdout_bias": {name: float(np.mean(p.apply(mean, window_id, held.h) - y64)) for name, p in points.items()},
        "combination": combination.to_json(),
    }
    return _Holdout(calibration, shrink, max(20, round(best * 1.1)), blend, info, combination, totals)


def fit_panel(
    panel: pl.DataFrame,
    attributes: pl.DataFrame | None,
    *,
    frequency: Frequency,
    horizon: int,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    params: ModelParams | None = None,
    progress: Progress | None = None,
) -> TrainedModel:
    """Train on a history panel (see :mod:`plastinka_forecasting.frames`)."""
    frequency = Frequency(frequency)
    params = params or ModelParams()
    levels = tuple(sorted(float(q) for q in quantiles))
    report = progress or (lambda _f, _m: None)
    started = time.perf_counter()
    if panel.height == 0:
        raise ValueError("no history to train on: the panel is empty")
    hist = to_dense(panel, frequency)
    if hist.n_periods < MIN_TRAINING_PERIODS:
        raise ValueError(f"need at least {MIN_TRAINING_PERIODS} periods of history to train, got {hist.n_periods}")
    config = default_config(frequency)
    space = FeatureSpace.build(hist, attributes, config)
    names = space.feature_names()
    report(0.05, f"panel: {hist.n_items} items x {hist.n_periods} periods")

    holdout = _fit_holdout(space, names, params, levels, horizon, frequency, report)

    report(0.55, f"final booster: {holdout.rounds} rounds")
    rows = space.training_rows(range(hist.n_periods - 1), horizon, max_rows=params.max_train_rows, seed=params.seed + 2)
    if not len(rows):
        raise ValueError("no training rows: every series is a single period")
    n_rows = len(rows)
    dataset = _dataset(
        rows.x,
        _scaled_target(rows.x, rows.y, names),
        names,
        _row_weights(rows.x, names, params.weighting, params.weight_power),
        init_score=_init(rows.x, names, params),
    )
    del rows
    booster = lgb.train(params.lgb_params(n_rows), dataset, num_boost_round=holdout.rounds)
    report(0.95, "trained")
    info = {
        "train_rows": n_rows,
        "items": hist.n_items,
        "periods": hist.n_periods,
        "holdout": holdout.info,
        "choice": holdout.combination.to_json(),
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    return TrainedModel(
        booster=booster,
        calibration=holdout.calibration,
        shrink=holdout.shrink,
        config=config,
        frequency=frequency,
        horizon=horizon,
        quantiles=levels,
        feature_names=names,
        vocab=space.vocab,
        params=params,
        history=panel.select(ITEM_ID, PERIOD, TARGET),
        attributes=attributes,
        rounds=holdout.rounds,
        blend=holdout.blend,
        info=info,
        combination=holdout.combination,
        totals=holdout.totals,
    )


def predict_panel(
    model: TrainedModel,
    panel: pl.DataFrame,
    attributes: pl.DataFrame | None,
    *,
    horizon: int | None = None,
    items: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Forecast every item of ``panel`` (or only ``items``) for ``1..horizon`` periods after its last period. An
    item's forecast is the same whichever others are asked for: the shop's and the groups' features, and the
    seasonal prior, are read off the whole panel."""
    horizon = horizon or model.horizon
    if not 1 <= horizon <= model.horizon:
        raise ValueError(f"horizon must be 1..{model.horizon}: the model was trained for {model.horizon} periods")
    levels = model.quantiles
    schema: dict[str, Any] = {ITEM_ID: pl.Utf8, PERIOD: pl.Date, MEAN: pl.Float64}
    schema.update(dict.fromkeys(quantile_columns(levels), pl.Float64))
    if panel.height == 0:
        return pl.DataFrame(schema=schema)
    hist = to_dense(panel, model.frequency)
    space = FeatureSpace.build(hist, attributes, model.config, vocab=model.vocab)
    if space.feature_names() != model.feature_names:
        raise ValueError("the model's features do not match this package version's feature set")
    wanted = None if items is None else np.flatnonzero(np.isin(np.asarray(hist.item_ids, dtype=object), list(items)))
    x, item_idx, hs = space.prediction_rows(horizon, wanted)
    raw = _predict(model.booster, x, model.feature_names, model.params, model.rounds)
    names = model.feature_names
    mean = (1 - model.blend) * raw + model.blend * _blend_input(x, names)
    klass, _ = _classes(x, names, model.params)
    qs = model.calibration.apply(mean, hs, klass, levels)
    combination = model.combination
    if combination is not None and not combination.is_model_only:
        origin = np.full(len(item_idx), hist.n_periods - 1, np.int64)
        cand_mean, cand_q, usable = window_candidate(hist.values, item_idx, origin, combination.window, levels)
        grid, model_mean = pool_levels(levels), mean

        def fine(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """The two distributions of ``rows`` on the pool's levels (used by the rules that pool on them)."""
            row_class = None if klass is None else klass[rows]
            model_q = model.calibration.apply(model_mean[rows], hs[rows], row_class, grid)
            _, cand_q, _ = window_candidate(hist.values, item_idx[rows], origin[rows], combination.window, grid)
            return model_q, cand_q

        mean, qs = combination.apply(mean, qs, cand_mean, cand_q, usable, segments(x, names), levels, fine)
    mean = model.shrink.apply(mean, item_idx, hs)
    periods = next_periods(hist.periods[-1], model.frequency, horizon)
    frame = pl.DataFrame(
        {
            ITEM_ID: np.asarray(hist.item_ids, dtype=object)[item_idx].tolist(),
            PERIOD: [periods[h - 1] for h in hs.tolist()],
            MEAN: mean,
            **{c: qs[:, i] for i, c in enumerate(quantile_columns(levels))},
        },
        schema=schema,
    )
    return frame.sort(ITEM_ID, PERIOD)
