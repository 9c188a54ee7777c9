"""Adjustments of the point forecast, factor tables learned from out-of-sample predictions on held-out origins.

The default point forecast (``point="mean"``) is the booster's expected demand with **no** adjustment
(``PointShrink.identity()``): the Tweedie mean is already close to unbiased (see ``docs/forecasting.md``).

* ``PointShrink.fit_mean`` (``point="calibrated"``, measured and not the default): for each horizon group and
  bucket of predicted demand, the factor ``sum(actual) / sum(predicted)`` of the held-out rows in that cell,
  which makes the hold-out forecasts unbiased in units per cell. It fixed a small under-forecast on the
  synthetic shop but over-corrected on the real data, whose demand drifts between the hold-out and later origins.
* ``PointShrink.fit`` (opt-in, ``point="rmsse"``): the factor in ``[0, 1.2]`` per bucket of a window's mean
  that minimises held-out RMSSE. RMSSE's square root is concave, so on sparse series this lies well below the
  expected demand: it is a score-optimal point, **not** a mean, and its totals under-state demand.

Quantiles are not affected: they are calibrated on the booster's own expected demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from plastinka_forecasting.calibration import horizon_groups

__all__ = ["PointShrink"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_FACTORS = np.round(np.arange(0.0, 1.2001, 0.05), 2)
_MIN_WINDOWS = 100
#: Fewest held-out rows (and expected units) a mean-calibration cell needs before it gets its own factor.
_MIN_CELL_ROWS = 300
_MIN_CELL_UNITS = 30.0
_FACTOR_RANGE = (0.5, 2.0)

BY_WINDOW = "window"
BY_ROW = "row"


@dataclass(frozen=True)
class PointShrink:
    """Point-forecast factors per (horizon group, bucket of predicted demand); buckets split at ``edges``.

    ``by == "window"`` buckets a row by the mean of its whole forecast window (the RMSSE shrink, one group);
    ``by == "row"`` buckets each row by its own prediction, with one factor row per horizon group.
    ``factors`` is flat: ``factors[group * (len(edges) + 1) + bucket]``. ``factors == [1.0]`` is the identity.
    """

    edges: list[float]
    factors: list[float]
    windows: int
    by: str = BY_WINDOW
    groups: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def identity(cls) -> PointShrink:
        return cls([], [1.0], 0)

    @property
    def is_identity(self) -> bool:
        return self.factors == [1.0]

    @classmethod
    def fit_mean(cls, mean: F64, actual: F64, horizon_of_row: I64, horizon: int, *, buckets: int = 10) -> PointShrink:
        """Unbiased-per-cell factors (``sum(actual) / sum(mean)``), per horizon group and demand bucket.

        A cell with too few rows or units borrows its horizon group's factor, and a thin group the pooled one.
        """
        mean = np.asarray(mean, np.float64)
        actual = np.asarray(actual, np.float64)
        if len(mean) < _MIN_CELL_ROWS or mean.sum() <= 0:
            return cls.identity()
        groups = horizon_groups(horizon)
        positive = mean[mean > 0]
        cuts = np.quantile(positive, np.linspace(0, 1, buckets + 1)[1:-1]) if len(positive) else np.zeros(0)
        edges = np.unique(cuts).astype(np.float64)
        bucket = np.searchsorted(edges, mean, side="right")
        pooled = _ratio(actual, mean, np.ones(len(mean), bool)) or 1.0
        factors: list[float] = []
        for lo, hi in groups:
            in_group = (horizon_of_row >= lo) & (horizon_of_row <= hi)
            group_factor = _ratio(actual, mean, in_group) or pooled
            for b in range(len(edges) + 1):
                cell = _ratio(actual, mean, in_group & (bucket == b))
                factors.append(round(cell if cell is not None else group_factor, 4))
        return cls([float(e) for e in edges], factors, len(mean), BY_ROW, groups)

    @classmethod
    def fit(cls, mean: F64, actual: F64, window: I64, scale: F64, horizon: int, *, buckets: int = 10) -> PointShrink:
        """The RMSSE shrink. ``window`` labels the (item, origin) of each row; ``scale`` is its naive RMSE."""
        ids, inverse, counts = np.unique(window, return_inverse=True, return_counts=True)
        complete = counts == horizon
        n = len(ids)
        window_scale = np.zeros(n)
        window_scale[inverse] = scale
        usable = complete & (window_scale > 0) & np.isfinite(window_scale)
        if usable.sum() < _MIN_WINDOWS:
            return cls.identity()
        window_mean = np.bincount(inverse, weights=mean, minlength=n) / counts
        inner = np.unique(np.quantile(window_mean[usable], np.linspace(0, 1, buckets + 1)[1:-1]))
        bucket = np.searchsorted(inner, window_mean, side="right")
        n_buckets = len(inner) + 1
        losses = np.zeros((len(_FACTORS), n_buckets))
        for i, factor in enumerate(_FACTORS):
            sq = np.bincount(inverse, weights=(factor * mean - actual) ** 2, minlength=n)
            rmsse = np.sqrt(sq / counts) / np.where(usable, window_scale, 1.0)
            losses[i] = np.bincount(bucket[usable], weights=rmsse[usable], minlength=n_buckets)
        factors = [float(_FACTORS[int(np.argmin(losses[:, b]))]) for b in range(n_buckets)]
        return cls([float(e) for e in inner], factors, int(usable.sum()))

    def apply(self, mean: F64, window: I64, horizon_of_row: I64 | None = None) -> F64:
        """Adjusted point forecasts; ``window`` groups the rows of one forecast window (one item)."""
        mean = np.asarray(mean, np.float64)
        if len(self.factors) == 1:
            return mean * self.factors[0]
        edges = np.asarray(self.edges, np.float64)
        if self.by == BY_ROW:
            hs = np.ones(len(mean), np.int64) if horizon_of_row is None else np.asarray(horizon_of_row, np.int64)
            group = np.zeros(len(mean), np.int64)
            for i, (lo, _hi) in enumerate(self.groups):
                group[hs >= lo] = i  # beyond the last group: its factors
            index = group * (len(edges) + 1) + np.searchsorted(edges, mean, side="right")
            out: F64 = mean * np.asarray(self.factors)[index]
            return out
        _, inverse, counts = np.unique(window, return_inverse=True, return_counts=True)
        window_mean = np.bincount(inverse, weights=mean) / counts
        bucket = np.searchsorted(edges, window_mean, side="right")
        shrunk: F64 = mean * np.asarray(self.factors)[bucket][inverse]
        return shrunk

    def to_json(self) -> dict[str, Any]:
        return {
            "edges": self.edges,
            "factors": self.factors,
            "windows": self.windows,
            "by": self.by,
            "groups": [list(g) for g in self.groups],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PointShrink:
        return cls(
            [float(e) for e in data["edges"]],
            [float(f) for f in data["factors"]],
            int(data["windows"]),
            str(data.get("by", BY_WINDOW)),  # artifacts written before mean calibration: the RMSSE shrink
            [(int(a), int(b)) for a, b in data.get("groups", [])],
        )


def _ratio(actual: F64, mean: F64, mask: npt.NDArray[np.bool_]) -> float | None:
    """``sum(actual) / sum(mean)`` over ``mask``, clipped; ``None`` when the cell is too thin to trust."""
    expected = float(mean[mask].sum())
    if int(mask.sum()) < _MIN_CELL_ROWS or expected < _MIN_CELL_UNITS:
        return None
    return float(np.clip(float(actual[mask].sum()) / expected, *_FACTOR_RANGE))
