"""The point forecast: the expected demand, shrunk where that lowers RMSSE, learned on held-out origins.

RMSSE scores each series by ``sqrt(mean squared error over its horizon) / scale``, and averages series. The
square root is concave, so on a sparse series, whose window is all zeros most of the time, the forecast that
minimises *expected* RMSSE lies below the expected demand (a zero forecast is exact in every all-zero window).
For each bucket of a window's expected demand, the factor in ``[0, 1.2]`` that minimises the held-out RMSSE of
windows in that bucket is kept; the bucket is a property of the whole (item, origin) window, so buckets are
independent and the search is exact. Quantiles are not affected: they are calibrated on the expected demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PointShrink"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_FACTORS = np.round(np.arange(0.0, 1.2001, 0.05), 2)
_MIN_WINDOWS = 100


@dataclass(frozen=True)
class PointShrink:
    """Factors per bucket of window mean (edges between buckets); ``factors == [1.0]`` leaves means as they are."""

    edges: list[float]
    factors: list[float]
    windows: int

    @classmethod
    def identity(cls) -> PointShrink:
        return cls([], [1.0], 0)

    @classmethod
    def fit(cls, mean: F64, actual: F64, window: I64, scale: F64, horizon: int, *, buckets: int = 10) -> PointShrink:
        """``window`` labels the (item, origin) of each row; ``scale`` is its in-sample naive RMSE."""
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

    def apply(self, mean: F64, window: I64) -> F64:
        """Shrunk point forecasts; ``window`` groups the rows of one forecast window (one item)."""
        if len(self.factors) == 1:
            return np.asarray(mean, np.float64) * self.factors[0]
        _, inverse, counts = np.unique(window, return_inverse=True, return_counts=True)
        window_mean = np.bincount(inverse, weights=mean) / counts
        bucket = np.searchsorted(np.asarray(self.edges), window_mean, side="right")
        factor = np.asarray(self.factors)[bucket][inverse]
        out: F64 = np.asarray(mean, np.float64) * factor
        return out

    def to_json(self) -> dict[str, Any]:
        return {"edges": self.edges, "factors": self.factors, "windows": self.windows}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PointShrink:
        return cls([float(e) for e in data["edges"]], [float(f) for f in data["factors"]], int(data["windows"]))
