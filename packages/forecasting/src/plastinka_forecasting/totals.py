"""Quantiles of the demand over the next ``N`` periods, calibrated on held-out ``N``-period sums.

The sum of monthly quantiles is not a quantile of the sum: months partly cancel out, so the sum of three
monthly 80% quantiles covers the three-month total far more often than 80% of the time (and a sum of 10%
quantiles far less). The order list needs the total's own quantile. It is calibrated the way
:class:`~plastinka_forecasting.calibration.QuantileCalibration` calibrates the monthly ones: on the held-out
origins the model forecasts, the predicted means of periods ``1..N`` and the actuals are summed per (item,
origin); for every ``N`` and bucket of predicted total, the empirical quantiles of ``actual total / predicted
total`` on a fine grid of levels become multipliers. A quantile at level ``p`` takes the smallest stored level
at or above ``p``, so its coverage never falls short of ``p`` by the grid's rounding.

Demand comes in whole copies, and the order list needs a whole number: the smallest ``k`` with
``P(total <= k) >= p``. Rounding a continuous quantile up would cover more than ``p`` (on sparse records far
more: a calibrated 0.3 becomes 1 copy). So the statistic is ``(actual - 1) / predicted``: a whole ``actual``
is at most ``ceil(predicted * r)`` exactly when ``r > (actual - 1) / predicted``, so the multiplier ``r`` just
above that statistic's ``p`` quantile makes ``ceil(predicted * r)`` cover a share ``p`` of the held-out
windows of its cell, and never more than it needs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["CHECKED_LEVELS", "TOTAL_LEVELS", "TotalCalibration", "poisson_total", "window_totals"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Levels whose multipliers are stored: every percent, plus 99.5%.
TOTAL_LEVELS: tuple[float, ...] = (*(round(0.01 * i, 2) for i in range(1, 100)), 0.995)
#: A cell (cover, bucket) needs this many held-out windows; fewer borrow the cover's pooled multipliers.
_MIN_CELL = 150
_EPS = 1e-3
#: Service levels whose stock-out rate on the calibration windows is kept (the backtest reports them).
CHECKED_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95)
_NUDGE = 1e-8


def window_totals(mean: F64, actual: F64, item: I64, origin: I64, h: I64, horizon: int) -> dict[int, tuple[F64, F64]]:
    """``{N: (predicted totals, actual totals)}`` over the (item, origin) windows whose steps ``1..N`` all are
    present (the held-out rows are whole windows, cut only where the data ends)."""
    if not len(mean):
        return {}
    key = np.asarray(item, np.int64) * (int(np.max(origin)) + 1) + np.asarray(origin, np.int64)
    order = np.lexsort((h, key))
    key, h = key[order], np.asarray(h, np.int64)[order]
    cum_mean = np.cumsum(np.asarray(mean, np.float64)[order])
    cum_actual = np.cumsum(np.asarray(actual, np.float64)[order])
    first = np.r_[True, key[1:] != key[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))
    position = np.arange(len(key)) - start + 1
    # Steps run 1, 2, ... from a window's first row exactly when each row's step equals its position.
    contiguous = _group_prefix(h == position, first)
    before_mean = np.where(start > 0, cum_mean[start - 1], 0.0)
    before_actual = np.where(start > 0, cum_actual[start - 1], 0.0)
    out = {}
    for n in range(1, horizon + 1):
        rows = contiguous & (h == n)
        out[n] = (cum_mean[rows] - before_mean[rows], cum_actual[rows] - before_actual[rows])
    return out


def _group_prefix(ok: npt.NDArray[np.bool_], first: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Whether every row of a group up to and including this one is ``ok``."""
    bad = np.cumsum(~ok)
    start = np.maximum.accumulate(np.where(first, np.arange(len(ok)), 0))
    bad_before = np.where(start > 0, bad[start - 1], 0)
    result: npt.NDArray[np.bool_] = (bad - bad_before) == 0
    return result


@dataclass(frozen=True)
class TotalCalibration:
    """``ratios[N - 1][bucket][level]`` over predicted-total buckets split at ``edges[N - 1]``; an empty table
    for ``N`` means too few held-out windows: its quantiles fall back to Poisson's.

    ``fitted_stockout[N - 1]`` holds, per level of :data:`CHECKED_LEVELS`, the share of calibration windows
    whose actual total exceeded the whole-number quantile: the stock-out rate whole copies allow (at most
    ``1 - p``, lower where one copy is a large share of the demand).
    """

    levels: tuple[float, ...]
    edges: list[list[float]]
    ratios: list[list[list[float]]]
    windows: list[int]
    fitted_stockout: list[dict[str, float]] = field(default_factory=list)

    @property
    def horizon(self) -> int:
        return len(self.ratios)

    @classmethod
    def fit(
        cls, mean: F64, actual: F64, item: I64, origin: I64, h: I64, horizon: int, *, buckets: int = 8
    ) -> TotalCalibration:
        totals = window_totals(mean, actual, item, origin, h, horizon)
        edges: list[list[float]] = []
        ratios: list[list[list[float]]] = []
        windows: list[int] = []
        fitted: list[dict[str, float]] = []
        for n in range(1, horizon + 1):
            predicted, observed = totals.get(n, (np.zeros(0), np.zeros(0)))
            windows.append(len(predicted))
            if len(predicted) < _MIN_CELL:
                edges.append([])
                ratios.append([])
                fitted.append({})
                continue
            predicted = np.maximum(predicted, _EPS)
            ratio = (observed - 1.0) / predicted
            inner = np.unique(np.quantile(predicted, np.linspace(0, 1, buckets + 1)[1:-1]))
            bucket = np.searchsorted(inner, predicted, side="right")
            pooled = _quantiles(ratio)
            cells = []
            for b in range(len(inner) + 1):
                cell = bucket == b
                cells.append(_quantiles(ratio[cell]) if cell.sum() >= _MIN_CELL else pooled)
            edges.append([float(e) for e in inner])
            ratios.append(cells)
            table = cls(TOTAL_LEVELS, [edges[-1]], [cells], [len(predicted)])
            fitted.append({str(p): float(np.mean(observed > table.quantile(predicted, 1, p))) for p in CHECKED_LEVELS})
        return cls(TOTAL_LEVELS, edges, ratios, windows, fitted)

    def calibrated(self, cover: int) -> bool:
        """Whether totals over ``cover`` periods have a table (else their quantiles are Poisson's)."""
        return 1 <= cover <= self.horizon and bool(self.ratios[cover - 1])

    def quantile(self, total_mean: F64, cover: int, level: float) -> F64:
        """The ``level`` quantile of the demand over ``cover`` periods, for predicted totals ``total_mean``: a
        whole number of copies (as floats)."""
        total_mean = np.clip(np.asarray(total_mean, np.float64), 0.0, None)
        if not self.calibrated(cover):
            return poisson_total(total_mean, level)
        index = min(int(np.searchsorted(np.asarray(self.levels), level - 1e-9)), len(self.levels) - 1)
        edges = np.asarray(self.edges[cover - 1], np.float64)
        table = np.asarray(self.ratios[cover - 1], np.float64)
        bucket = np.searchsorted(edges, np.maximum(total_mean, _EPS), side="right")
        result: F64 = np.clip(np.ceil(np.maximum(total_mean, _EPS) * table[bucket, index]), 0.0, None)
        return result

    def to_json(self) -> dict[str, Any]:
        return {
            "levels": list(self.levels),
            "edges": self.edges,
            "ratios": self.ratios,
            "windows": self.windows,
            "fitted_stockout": self.fitted_stockout,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TotalCalibration:
        return cls(
            levels=tuple(float(q) for q in data["levels"]),
            edges=[[float(e) for e in cover] for cover in data["edges"]],
            ratios=[[[float(v) for v in cell] for cell in cover] for cover in data["ratios"]],
            windows=[int(n) for n in data["windows"]],
            fitted_stockout=[{str(k): float(v) for k, v in d.items()} for d in data.get("fitted_stockout", [])],
        )


def poisson_total(total_mean: F64, level: float) -> F64:
    """The fallback: the total of independent Poisson months is Poisson with the summed mean."""
    from plastinka_forecasting.distributions import poisson_quantiles  # noqa: PLC0415 - fallback only

    mean = np.maximum(np.asarray(total_mean, np.float64), 1e-9)
    result: F64 = poisson_quantiles(mean, [level])[:, 0]
    return result


def _quantiles(values: F64) -> list[float]:
    """Multipliers just above the empirical quantiles: ``r > (actual - 1) / predicted`` must hold strictly. The
    nudge is far below one copy for any predicted total under 10 million."""
    return [float(v) + _NUDGE for v in np.quantile(values, TOTAL_LEVELS, method="inverted_cdf")]
