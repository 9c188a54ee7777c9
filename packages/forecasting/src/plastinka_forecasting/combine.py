"""Let the backtest choose: per demand segment, how much of a window average to mix into the model's forecast.

On the model's held-out origins (the rows its hold-out booster never saw) the window average over the last
season (12 months / 52 weeks, quantiles = the empirical quantiles of that window) is forecast beside the model.
For each segment of items at the origin (:data:`SEGMENTS`, from ADI and CV^2 of non-zero sizes over the last
season) a share ``a`` of the window average is chosen from :data:`WEIGHTS`:

* for the quantiles by the held-out scaled pinball loss (pinball / the item's naive MAE, mean over rows and
  levels, SPL's scaling), combining level by level ``(1 - a) q_model + a q_window`` (an average of quantile
  functions, so the levels never cross and stay non-negative);
* for the mean by the held-out scaled squared error (squared error / the item's naive MSE, RMSSE's scaling).

The model's quantiles scored here are out of fold (:func:`~plastinka_forecasting.calibration.cross_fitted`): its
multiplier table is fitted on the same held-out rows, and scored on them it would look better than it will do
on new origins, which would tilt every choice towards the model.

The choice and every candidate's held-out score are kept (``Combination.scores``) so the training report can
say what was chosen and why, in numbers. In M5 combinations beat single methods; here the default model still
chooses itself wherever it is better on the held-out origins (``a = 0``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from plastinka_forecasting.features import column

__all__ = ["CHOICE_LEVELS", "SEGMENTS", "WEIGHTS", "Combination", "segments", "window_candidate"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Demand segments at the origin, over the last season: no sale at all; a sale in most periods with steady
#: sizes; sales in few periods with steady sizes; sizes that vary a lot (wholesale orders).
SEGMENTS = ("dormant", "smooth", "intermittent", "lumpy")
ADI_CUT = 1.32
CV2_CUT = 0.49
#: Shares of the window average tried per segment.
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Quantile levels the choice is scored on, whatever levels the forecast asks for (so asking for more levels,
#: as backtests do for the PIT, never changes the forecast).
CHOICE_LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
#: Fewer observed periods than this in the window and the window average is not a candidate for the series.
MIN_VALUES = 4
#: Fewest held-out rows a segment needs before it may move away from the model alone.
MIN_ROWS = 300
#: A share above 0 must beat the model alone by this much (relative) on the held-out rows. The model's quantiles
#: are scored out of fold, so this is not for its table's home advantage: out of fold, a share of 0.25 still
#: scores up to 0.9% better in most segments of Online Retail monthly, and taking it (margin 0) gained SPL there
#: (0.954x -> 0.949x of the best baseline) but pit80 fell from 0.803 to 0.737: averaged quantile functions whose
#: centres differ are narrower than the outcomes' spread, a cost the pinball loss barely sees.
MARGIN = 0.01


def segments(x: F32, names: list[str]) -> I64:
    """Each row's segment index into :data:`SEGMENTS`, from the ``adi`` and ``cv2`` features."""
    adi = column(x, names, "adi")
    cv2 = column(x, names, "cv2")
    out = np.full(len(x), 1, np.int64)
    out[np.nan_to_num(adi, nan=0.0) >= ADI_CUT] = 2
    out[np.nan_to_num(cv2, nan=0.0) >= CV2_CUT] = 3
    out[np.isnan(adi)] = 0
    return out


def window_candidate(values: F32, item: I64, t: I64, window: int, levels: Sequence[float]) -> tuple[F64, F64, F64]:
    """The window average at origin ``t`` for item ``item`` (row-wise): mean, quantiles ``(rows, levels)`` (the
    window's empirical quantiles, interpolated) and whether the window held at least :data:`MIN_VALUES`
    observed periods (1.0) or not (0.0)."""
    n = len(item)
    mean = np.zeros(n)
    quant = np.zeros((n, len(levels)))
    usable = np.zeros(n)
    for origin in np.unique(t):
        sel = np.flatnonzero(t == origin)
        lo = max(0, int(origin) + 1 - window)
        recent = values[item[sel], lo : int(origin) + 1].astype(np.float64)
        counts = (~np.isnan(recent)).sum(axis=1)
        with np.errstate(invalid="ignore"):
            mean[sel] = np.where(counts > 0, np.nansum(recent, axis=1) / np.maximum(counts, 1), 0.0)
        quant[sel] = _row_quantiles(recent, counts, levels)
        usable[sel] = counts >= MIN_VALUES
    return mean, np.maximum.accumulate(np.clip(quant, 0.0, None), axis=1), usable


def _row_quantiles(values: F64, counts: I64, levels: Sequence[float]) -> F64:
    """Linearly interpolated quantiles of each row's observed values (NaN = missing; 0 for an empty row)."""
    ordered = np.sort(values, axis=1)  # NaN sorts last
    top = np.maximum(counts - 1, 0)
    rows = np.arange(len(values))
    out = np.zeros((len(values), len(levels)))
    for k, level in enumerate(levels):
        exact = level * top
        low = np.floor(exact).astype(np.int64)
        high = np.minimum(low + 1, top)
        weight = exact - low
        out[:, k] = ordered[rows, low] * (1.0 - weight) + ordered[rows, high] * weight
    out[counts == 0] = 0.0
    return out


def _choose(scores: list[float]) -> float:
    """The share with the lowest score, if it beats the model alone (share 0) by :data:`MARGIN`; else 0."""
    best = int(np.argmin(scores))
    return WEIGHTS[best] if scores[best] < (1.0 - MARGIN) * scores[0] else 0.0


def _pinball(q: F64, y: F64, levels: F64) -> F64:
    diff = y[:, None] - q
    out: F64 = np.mean(np.maximum(levels * diff, (levels - 1.0) * diff), axis=1)
    return out


@dataclass(frozen=True)
class Combination:
    """Shares of the window average per segment (``mean`` for the expected demand, ``quantile`` for the
    quantiles), the window length, and the held-out scores behind the choice."""

    window: int
    mean: list[float]
    quantile: list[float]
    scores: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def model_only(cls, window: int) -> Combination:
        return cls(window, [0.0] * len(SEGMENTS), [0.0] * len(SEGMENTS))

    @property
    def is_model_only(self) -> bool:
        return not any(self.mean) and not any(self.quantile)

    @classmethod
    def fit(
        cls,
        window: int,
        model_mean: F64,
        model_q: F64,
        cand_mean: F64,
        cand_q: F64,
        usable: F64,
        actual: F64,
        segment: I64,
        scale_mae: F64,
        scale_rmse: F64,
        levels: Sequence[float],
    ) -> Combination:
        """Choose the shares on held-out rows (see the module docstring)."""
        grid = np.asarray(levels, np.float64)
        scaled = (scale_mae > 0) & (scale_rmse > 0) & np.isfinite(scale_mae) & np.isfinite(scale_rmse)
        mean_w, quant_w = [], []
        scores: dict[str, Any] = {}
        for s, name in enumerate(SEGMENTS):
            rows = (segment == s) & scaled
            n = int(rows.sum())
            if n < MIN_ROWS:
                mean_w.append(0.0)
                quant_w.append(0.0)
                scores[name] = {"rows": n, "chosen_mean": 0.0, "chosen_quantile": 0.0, "note": "too few rows"}
                continue
            y = actual[rows]
            u = usable[rows]
            spl, mse, bias = [], [], []
            for a in WEIGHTS:
                share = a * u
                q = (1.0 - share)[:, None] * model_q[rows] + share[:, None] * cand_q[rows]
                m = (1.0 - share) * model_mean[rows] + share * cand_mean[rows]
                spl.append(float(np.mean(_pinball(q, y, grid) / scale_mae[rows])))
                mse.append(float(np.mean((m - y) ** 2 / scale_rmse[rows] ** 2)))
                bias.append(float(np.sum(m) / max(float(np.sum(y)), 1e-9) - 1.0))
            qa = _choose(spl)
            ma = _choose(mse)
            quant_w.append(qa)
            mean_w.append(ma)
            scores[name] = {
                "rows": n,
                "weights": list(WEIGHTS),
                "spl": [round(v, 5) for v in spl],
                "scaled_mse": [round(v, 5) for v in mse],
                "bias_of_total": [round(v, 4) for v in bias],
                "chosen_quantile": qa,
                "chosen_mean": ma,
            }
        return cls(window, mean_w, quant_w, scores)

    def apply(
        self, model_mean: F64, model_q: F64, cand_mean: F64, cand_q: F64, usable: F64, segment: I64
    ) -> tuple[F64, F64]:
        qa = np.asarray(self.quantile, np.float64)[segment] * usable
        ma = np.asarray(self.mean, np.float64)[segment] * usable
        mean: F64 = (1.0 - ma) * model_mean + ma * cand_mean
        q = (1.0 - qa)[:, None] * model_q + qa[:, None] * cand_q
        quant: F64 = np.maximum.accumulate(np.clip(q, 0.0, None), axis=1)
        return mean, quant

    def summary(self) -> list[str]:
        """One sentence per segment: what was chosen and the held-out numbers it was chosen by."""
        lines = []
        for s, name in enumerate(SEGMENTS):
            score = self.scores.get(name, {})
            if "spl" not in score:
                lines.append(f"{name}: model alone ({score.get('rows', 0)} held-out rows, too few to choose)")
                continue
            qi, mi = WEIGHTS.index(self.quantile[s]), WEIGHTS.index(self.mean[s])
            lines.append(
                f"{name}: window-average share {self.quantile[s]:g} in the quantiles (held-out SPL, model out of fold, "
                f"{score['spl'][qi]:.4f} vs model alone {score['spl'][0]:.4f}, window average alone "
                f"{score['spl'][-1]:.4f}) and {self.mean[s]:g} in the mean (scaled MSE {score['scaled_mse'][mi]:.4f} "
                f"vs {score['scaled_mse'][0]:.4f} and {score['scaled_mse'][-1]:.4f}); {score['rows']} rows"
            )
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "candidate": "window_average",
            "summary": self.summary(),
            "window": self.window,
            "segments": list(SEGMENTS),
            "mean": self.mean,
            "quantile": self.quantile,
            "scores": self.scores,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Combination:
        return cls(
            int(data["window"]),
            [float(v) for v in data["mean"]],
            [float(v) for v in data["quantile"]],
            dict(data.get("scores") or {}),
        )
