"""Quantiles from the mean forecast, calibrated on out-of-sample errors over many forecast origins.

A model trained on data up to a cut-off forecasts many later origins; for each horizon group and each bucket of
predicted mean, the empirical quantiles of ``actual / predicted`` become multipliers. A forecast quantile is the
predicted mean times the multiplier of its cell, so it is calibrated on data the model never saw, per horizon
and per demand level. Ratios (not differences) keep one table valid across slow and fast sellers; the
``inverted_cdf`` empirical quantile keeps an exact zero where zeros are frequent enough, so sparse items keep
``0`` as their lower bound instead of a small positive value that would exclude the most likely outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FOLDS", "CrossFitted", "QuantileCalibration", "horizon_groups"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

_MIN_CELL = 150
_EPS = 1e-3
#: Folds of held-out origins for out-of-fold quantiles (:class:`CrossFitted`).
FOLDS = 2


def horizon_groups(horizon: int) -> list[tuple[int, int]]:
    """Inclusive horizon ranges that share a table: single steps first, then widening blocks."""
    bounds = [1, 2, 3, 4, 7, 13, 27, 53]
    groups = []
    for lo, hi in pairwise(bounds):
        if lo > horizon:
            break
        groups.append((lo, min(hi - 1, horizon)))
    return groups


@dataclass(frozen=True)
class QuantileCalibration:
    """Multipliers ``ratios[group * classes + class][bucket][level]`` over mean buckets split at ``edges``.

    ``class`` is a small integer per row known at forecast time (the model uses "usually sells more than one
    copy at a time"), so lumpy and single-unit sellers with the same mean get their own spread.
    """

    levels: tuple[float, ...]
    groups: list[tuple[int, int]]
    edges: list[float]
    ratios: list[list[list[float]]]
    rows: int
    classes: int = 1

    @classmethod
    def fit(
        cls,
        mean: F64,
        actual: F64,
        horizon_of_row: npt.NDArray[np.int64],
        levels: Sequence[float],
        horizon: int,
        *,
        klass: npt.NDArray[np.int64] | None = None,
        classes: int = 1,
        buckets: int = 12,
        central: bool = False,
    ) -> QuantileCalibration:
        levels = tuple(float(q) for q in levels)
        klass = np.zeros(len(mean), np.int64) if klass is None else np.asarray(klass, np.int64)
        groups = horizon_groups(horizon)
        mean = np.maximum(np.asarray(mean, np.float64), _EPS)
        ratio = np.asarray(actual, np.float64) / mean
        inner = np.unique(np.quantile(mean, np.linspace(0, 1, buckets + 1)[1:-1])) if len(mean) else np.array([])
        edges = [float(e) for e in inner]
        bucket = np.searchsorted(inner, mean, side="right")
        pooled_all = _quantiles(ratio, levels, central=central) if len(ratio) else [1.0] * len(levels)
        table: list[list[list[float]]] = []
        for lo, hi in groups:
            for c in range(classes):
                in_group = (horizon_of_row >= lo) & (horizon_of_row <= hi) & (klass == c)
                group_pooled = (
                    _quantiles(ratio[in_group], levels, central=central) if in_group.sum() >= _MIN_CELL else pooled_all
                )
                cells = []
                for b in range(len(inner) + 1):
                    cell = in_group & (bucket == b)
                    if cell.sum() >= _MIN_CELL:
                        cells.append(_quantiles(ratio[cell], levels, central=central))
                        continue
                    # Too few rows: borrow the bucket of this class across all horizons, then the group.
                    across = (bucket == b) & (klass == c)
                    enough = across.sum() >= _MIN_CELL
                    cells.append(_quantiles(ratio[across], levels, central=central) if enough else group_pooled)
                table.append(cells)
        return cls(levels, groups, edges, table, len(mean), classes)

    @classmethod
    def poisson(cls, levels: Sequence[float], horizon: int) -> QuantileCalibration:
        """Fallback when the history is too short to hold out origins: no table, Poisson quantiles."""
        return cls(tuple(float(q) for q in levels), horizon_groups(horizon), [], [], 0)

    def apply(
        self,
        mean: F64,
        horizon_of_row: npt.NDArray[np.int64],
        klass: npt.NDArray[np.int64] | None = None,
        levels: Sequence[float] | None = None,
    ) -> F64:
        """Quantiles ``(rows, levels)`` (by default every level of the table; else ``levels``, each one of them):
        sorted along each row and never negative."""
        mean = np.clip(np.asarray(mean, np.float64), 0.0, None)
        wanted = self.levels if levels is None else tuple(float(q) for q in levels)
        if not self.ratios:
            from plastinka_forecasting.distributions import poisson_quantiles  # noqa: PLC0415 - tiny histories only

            out = poisson_quantiles(np.maximum(mean, 1e-9), wanted)
        else:
            group = np.zeros(len(mean), np.int64)
            for i, (lo, hi) in enumerate(self.groups):
                group[(horizon_of_row >= lo) & (horizon_of_row <= hi)] = i
            bucket = np.searchsorted(np.asarray(self.edges, np.float64), np.maximum(mean, _EPS), side="right")
            table = np.asarray(self.ratios, np.float64)[:, :, [self.levels.index(q) for q in wanted]]
            row_class = np.zeros(len(mean), np.int64) if klass is None else np.clip(klass, 0, self.classes - 1)
            out = mean[:, None] * table[group * self.classes + row_class, bucket, :]
        return np.sort(np.clip(out, 0.0, None), axis=1)

    def to_json(self) -> dict[str, Any]:
        return {
            "levels": list(self.levels),
            "groups": [list(g) for g in self.groups],
            "edges": self.edges,
            "ratios": self.ratios,
            "rows": self.rows,
            "classes": self.classes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QuantileCalibration:
        return cls(
            levels=tuple(float(q) for q in data["levels"]),
            groups=[(int(a), int(b)) for a, b in data["groups"]],
            edges=[float(e) for e in data["edges"]],
            ratios=[[[float(v) for v in cell] for cell in group] for group in data["ratios"]],
            rows=int(data["rows"]),
            classes=int(data["classes"]),
        )


@dataclass(frozen=True)
class CrossFitted:
    """Out-of-fold quantile tables of held-out rows, to score the rows on their actuals.

    A table scored on the rows it was fitted on looks better than it will do on new origins. So the origins are
    dealt into :data:`FOLDS` interleaved folds (every other origin: each fold spans the whole hold-out and every
    horizon), and each row gets its quantiles from a table fitted on the other folds' rows only.
    """

    fold: npt.NDArray[np.int64]
    tables: tuple[QuantileCalibration, ...]

    @classmethod
    def fit(
        cls,
        mean: F64,
        actual: F64,
        horizon_of_row: npt.NDArray[np.int64],
        origin: npt.NDArray[np.int64],
        levels: Sequence[float],
        horizon: int,
        *,
        klass: npt.NDArray[np.int64] | None = None,
        classes: int = 1,
        central: bool = False,
    ) -> CrossFitted:
        origins = np.unique(origin)
        fold = np.searchsorted(origins, origin) % FOLDS
        tables = []
        for f in range(FOLDS):
            fit = fold != f
            if not fit.any():  # one origin: nothing to fit on but itself
                fit = ~fit
            tables.append(
                QuantileCalibration.fit(
                    mean[fit],
                    actual[fit],
                    horizon_of_row[fit],
                    levels,
                    horizon,
                    klass=None if klass is None else klass[fit],
                    classes=classes,
                    central=central,
                )
            )
        return cls(fold.astype(np.int64), tuple(tables))

    def quantiles(
        self,
        mean: F64,
        horizon_of_row: npt.NDArray[np.int64],
        rows: npt.NDArray[np.int64],
        klass: npt.NDArray[np.int64] | None = None,
    ) -> F64:
        """Quantiles ``(len(rows), levels)`` of the held-out rows ``rows``, each from its other folds' table."""
        out = np.zeros((len(rows), len(self.tables[0].levels)))
        for f, table in enumerate(self.tables):
            scored = self.fold[rows] == f
            r = rows[scored]
            out[scored] = table.apply(mean[r], horizon_of_row[r], None if klass is None else klass[r])
        return out


def _quantiles(values: F64, levels: Sequence[float], *, central: bool = False) -> list[float]:
    """Empirical quantiles; with ``central``, upper levels are set for exact central-interval coverage.

    On counts, a lower quantile that sits on the atom at zero excludes nothing below it, so ``[q_a, q_1-a]``
    would cover ``1 - a`` instead of ``1 - 2a``. With ``central`` the upper end of each central pair is taken
    at level ``(1 - 2a) + P(r < q_a)``: the pair then covers exactly ``1 - 2a`` of the calibration rows.
    """
    # One call for every level: the same values as level by level, much cheaper on fine grids.
    out = dict(zip(levels, (float(v) for v in np.quantile(values, list(levels), method="inverted_cdf")), strict=True))
    if central:
        for q in levels:
            partner = round(1.0 - q, 12)
            if q < 0.5 and partner in out:
                below = float(np.mean(values < out[q]))
                level = min(partner, max(0.5, (1.0 - 2.0 * q) + below))
                out[partner] = float(np.quantile(values, level, method="inverted_cdf"))
    return [out[q] for q in levels]
