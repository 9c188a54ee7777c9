"""Tuning: rolling-origin cross-validation over a small LightGBM search space, within a time budget.

The defaults are evaluated first, then each candidate in a fixed order while the budget allows another one
(judged from the slowest candidate so far). The score is the scaled pinball loss (SPL) over the folds; ties
keep the earlier candidate, so the defaults win unless something is strictly better.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from plastinka_forecasting.backtest import backtest_panel
from plastinka_forecasting.model import ModelParams, Progress
from plastinka_schemas import Frequency

__all__ = ["SEARCH_SPACE", "TuningResult", "tune_params"]

#: Candidate overrides of :class:`ModelParams`, in the order they are tried after the defaults.
SEARCH_SPACE: tuple[dict[str, Any], ...] = (
    {"num_leaves": 15, "min_data_in_leaf": 200},
    {"num_leaves": 63, "min_data_in_leaf": 50},
    {"tweedie_variance_power": 1.4},
    {"objective": "poisson"},
    {"learning_rate": 0.1, "feature_fraction": 0.6},
    {"lambda_l2": 10.0, "min_data_in_leaf": 300},
)


@dataclass(frozen=True)
class TuningResult:
    params: ModelParams
    best: dict[str, Any]
    trials: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"best": self.best, "trials": self.trials}


def tune_params(
    panel: pl.DataFrame,
    attributes: pl.DataFrame | None,
    *,
    frequency: Frequency,
    horizon: int,
    base: ModelParams | None = None,
    time_budget_s: float = 300.0,
    windows: int = 2,
    progress: Progress | None = None,
) -> TuningResult:
    """The candidate (defaults included) with the lowest cross-validated SPL; see the module docstring."""
    base = base or ModelParams()
    report = progress or (lambda _f, _m: None)
    started = time.perf_counter()
    candidates: list[dict[str, Any]] = [{}, *SEARCH_SPACE]
    trials: list[dict[str, Any]] = []
    slowest = 0.0
    for i, overrides in enumerate(candidates):
        elapsed = time.perf_counter() - started
        if trials and elapsed + slowest > time_budget_s:
            break
        report(
            min(elapsed / time_budget_s, 1.0), f"tuning candidate {i + 1}/{len(candidates)}: {overrides or 'defaults'}"
        )
        trial_start = time.perf_counter()
        result = backtest_panel(
            panel,
            attributes,
            frequency=frequency,
            horizon=horizon,
            windows=windows,
            params=base.with_overrides(overrides),
            baselines=(),
            with_expected=False,
        )
        row = result.table.row(0, named=True)
        seconds = time.perf_counter() - trial_start
        slowest = max(slowest, seconds)
        trials.append({"overrides": overrides, "spl": row["spl"], "rmsse": row["rmsse"], "seconds": round(seconds, 2)})
    scored = [t for t in trials if t["spl"] is not None]
    best = min(scored, key=lambda t: t["spl"]) if scored else trials[0]
    report(1.0, f"tuned: {best['overrides'] or 'defaults'} (SPL {best['spl']})")
    return TuningResult(base.with_overrides(best["overrides"]), best, trials)
