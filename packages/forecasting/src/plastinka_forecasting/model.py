"""The global LightGBM model: one direct multi-horizon booster for the mean, calibrated quantiles around it.

Training (see ``docs/forecasting.md`` for why):

1. Stack (item, origin, horizon) rows over every past origin (randomly thinned to ``max_train_rows``).
2. Hold out the last origins: a first booster learns from targets up to a cut-off, early-stops on the
   held-out rows, and its out-of-sample errors on those many origins fit the quantile multipliers
   (:class:`~plastinka_forecasting.calibration.QuantileCalibration`), per horizon group and demand level.
3. The final booster learns from every row with the early-stopped number of rounds (scaled up a little for
   the extra data).
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

from plastinka_forecasting.calibration import QuantileCalibration
from plastinka_forecasting.features import (
    CATEGORICAL_FEATURES,
    FeatureConfig,
    FeatureSpace,
    default_config,
    to_dense,
)
from plastinka_forecasting.frames import ITEM_ID, MEAN, PERIOD, TARGET, quantile_columns
from plastinka_forecasting.panel import next_periods
from plastinka_schemas import DEFAULT_QUANTILES, Frequency

__all__ = ["ModelParams", "Progress", "TrainedModel", "fit_panel", "predict_panel"]

Progress = Callable[[float, str], None]


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
    seed: int = 0
    num_threads: int = 0

    def with_overrides(self, overrides: dict[str, Any]) -> ModelParams:
        known = set(asdict(self))
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown model parameter(s): {', '.join(sorted(unknown))}")
        return replace(self, **overrides)

    def lgb_params(self) -> dict[str, Any]:
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
            "num_threads": self.num_threads or (os.cpu_count() or 1),
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
    info: dict[str, Any] = field(default_factory=dict)

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


def _dataset(x: np.ndarray, y: np.ndarray, names: list[str], reference: lgb.Dataset | None = None) -> lgb.Dataset:
    return lgb.Dataset(
        x,
        label=y,
        feature_name=names,
        categorical_feature=[n for n in CATEGORICAL_FEATURES if n in names],
        reference=reference,
        free_raw_data=True,
        params={"max_bin": 63, "verbosity": -1},
    )


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
    quantiles = tuple(sorted(float(q) for q in quantiles))
    report = progress or (lambda _f, _m: None)
    started = time.perf_counter()
    if panel.height == 0:
        raise ValueError("no history to train on: the panel is empty")
    hist = to_dense(panel, frequency)
    config = default_config(frequency)
    space = FeatureSpace.build(hist, attributes, config)
    names = space.feature_names()
    n_periods = hist.n_periods
    if n_periods < 3:
        raise ValueError(f"need at least 3 periods of history to train, got {n_periods}")
    lgb_params = params.lgb_params()
    report(0.05, f"panel: {hist.n_items} items x {n_periods} periods")

    # Held-out origins for early stopping and calibration: targets after the cut-off, from a booster that
    # only saw targets up to it.
    k = params.calibration_origins or _default_calibration_origins(frequency)
    cut = n_periods - 1 - horizon - k + 1
    min_train = 2
    if cut < min_train:
        k = max(0, n_periods - 1 - horizon - min_train + 1)
        cut = n_periods - 1 - horizon - k + 1
    calibration: QuantileCalibration
    rounds = params.max_rounds
    cal_info: dict[str, Any] = {"origins": 0}
    if k >= 1 and cut >= min_train:
        x_tr, y_tr, _, _ = space.training_rows(
            range(cut), horizon, max_rows=params.max_train_rows, seed=params.seed, last_target=cut
        )
        x_cal, y_cal, h_cal, _ = space.training_rows(
            range(cut, n_periods - 1), horizon, max_rows=params.max_calibration_rows, seed=params.seed + 1
        )
        if len(y_tr) and len(y_cal):
            report(0.15, f"holdout booster: {len(y_tr)} rows, {len(y_cal)} held-out rows over {k}+ origins")
            train_set = _dataset(x_tr, y_tr, names)
            valid_set = _dataset(x_cal, y_cal, names, reference=train_set)
            booster_a = lgb.train(
                lgb_params,
                train_set,
                num_boost_round=params.max_rounds,
                valid_sets=[valid_set],
                callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
            )
            best = booster_a.best_iteration or params.max_rounds
            mean_cal = np.clip(booster_a.predict(x_cal, num_iteration=best), 0, None)
            calibration = QuantileCalibration.fit(mean_cal, y_cal.astype(np.float64), h_cal, quantiles, horizon)
            rounds = max(20, int(round(best * 1.1)))
            cal_info = {"origins": k, "rows": len(y_cal), "best_iteration": best}
            del x_tr, y_tr, x_cal, train_set, valid_set, booster_a
        else:
            calibration = QuantileCalibration.poisson(quantiles, horizon)
            rounds = min(rounds, 200)
    else:
        calibration = QuantileCalibration.poisson(quantiles, horizon)
        rounds = min(rounds, 200)

    report(0.55, f"final booster: {rounds} rounds")
    x_all, y_all, _, _ = space.training_rows(
        range(n_periods - 1), horizon, max_rows=params.max_train_rows, seed=params.seed + 2
    )
    if not len(y_all):
        raise ValueError("no training rows: every series is a single period")
    booster = lgb.train(lgb_params, _dataset(x_all, y_all, names), num_boost_round=rounds)
    report(0.95, "trained")
    info = {
        "train_rows": len(y_all),
        "items": hist.n_items,
        "periods": n_periods,
        "calibration": cal_info,
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    return TrainedModel(
        booster=booster,
        calibration=calibration,
        config=config,
        frequency=frequency,
        horizon=horizon,
        quantiles=quantiles,
        feature_names=names,
        vocab=space.vocab,
        params=params,
        history=panel.select(ITEM_ID, PERIOD, TARGET),
        attributes=attributes,
        rounds=rounds,
        info=info,
    )


def predict_panel(
    model: TrainedModel,
    panel: pl.DataFrame,
    attributes: pl.DataFrame | None,
    *,
    horizon: int | None = None,
) -> pl.DataFrame:
    """Forecast every item of ``panel`` for ``1..horizon`` periods after its last period."""
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
    x, item_idx, hs = space.prediction_rows(horizon)
    mean = np.clip(model.booster.predict(x, num_iteration=model.rounds), 0.0, None).astype(np.float64)
    qs = model.calibration.apply(mean, hs)
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
