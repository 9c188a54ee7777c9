"""Let the backtest choose: per demand segment, how much of a window average to mix into the model's forecast.

On the model's held-out origins (the rows its hold-out booster never saw) the window average over the last
season (12 months / 52 weeks, quantiles = the empirical quantiles of that window) is forecast beside the model.
For each segment of items at the origin (:data:`SEGMENTS`, from ADI and CV^2 of non-zero sizes over the last
season) a share ``a`` of the window average is chosen from :data:`WEIGHTS`:

* for the quantiles by the held-out scaled pinball loss (pinball / the item's naive MAE, mean over rows and
  levels, SPL's scaling), combining the two predictive distributions as a linear pool
  ``F = (1 - a) F_model + a F_window`` (:func:`linear_pool`; each ``F`` piecewise linear through its quantiles,
  the pooled quantiles found by inverting the mixture, so they never cross and stay non-negative). Artifacts
  from before the pool combined level by level, ``(1 - a) q_model + a q_window`` (``rule`` says which). Only
  shares whose pooled distribution keeps the held-out 80% interval calibrated are candidates (:data:`PIT_TOLERANCE`):
  the pinball loss rewards a wider upper tail more than it charges for a shifted distribution;
* for the mean by the held-out scaled squared error (squared error / the item's naive MSE, RMSSE's scaling),
  only among shares that keep the segment's held-out total unbiased (:data:`BIAS_TOLERANCE`): the scaled error
  of each item can fall while every item moves the same way, as a season's mean does after the peak.

The model's quantiles scored here are out of fold (:class:`~plastinka_forecasting.calibration.CrossFitted`): its
multiplier table is fitted on the same held-out rows, and scored on them it would look better than it will do
on new origins, which would tilt every choice towards the model.

The choice and every candidate's held-out score are kept (``Combination.scores``) so the training report can
say what was chosen and why, in numbers. In M5 combinations beat single methods; here the default model still
chooses itself wherever it is better on the held-out origins (``a = 0``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from plastinka_forecasting.features import column
from plastinka_forecasting.pit import PIT_LEVELS, summarise_pit

__all__ = [
    "CHOICE_LEVELS",
    "POOL_LEVELS",
    "RULE",
    "SEGMENTS",
    "WEIGHTS",
    "Combination",
    "linear_pool",
    "pool_levels",
    "segments",
    "window_candidate",
]

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
#: A mean share above 0 must beat the model alone by this much (relative held-out scaled MSE).
MARGIN = 0.01
#: The quantile share needs no margin: the calibration guard below does what a margin did for averaged quantiles
#: (with a 1% margin, because averaging quantile functions whose centres differ narrowed the intervals: Online
#: Retail monthly pit80 0.803 -> 0.737 at margin 0).
QUANTILE_MARGIN = 0.0
#: The quantile share is chosen by held-out SPL only among shares whose held-out PIT coverage of the 80% interval
#: (``pit80``) stays within this of 0.8, or no further from it than the model's alone. Chosen by SPL alone, the
#: pool took Online Retail monthly's backtest pit80 from 0.803 to 0.777 (a shift up, not a narrowing).
PIT_TOLERANCE = 0.02
PIT_INTERVAL = (0.1, 0.9)
_PIT_AIM = PIT_INTERVAL[1] - PIT_INTERVAL[0]
#: The mean share is chosen by held-out scaled MSE only among shares whose held-out bias of the segment's total
#: stays within this, or no further from 0 than the model's alone.
BIAS_TOLERANCE = 0.05
#: How the quantiles are combined: ``"linear_pool_percentiles"``, a mixture of the two distributions computed on
#: :data:`POOL_LEVELS` whatever levels are asked for; ``"linear_pool"``, the same mixture with the asked levels
#: as its only knots (artifacts from before the fixed grid); ``"quantile_average"`` (level by level, the rule of
#: artifacts that do not say).
RULE = "linear_pool_percentiles"
#: The levels the pool is computed on (with any asked level off them), whatever levels a forecast asks for: the
#: 99 percentiles, which the backtests ask for to score the PIT, so a forecast is the one the backtests scored.
#: On the asked levels alone the outer ones are the pool's flat ends, where it takes the outermost of the two:
#: asking for (0.1, 0.5, 0.9) raised the total of q_0.9 by a third on Online Retail monthly against 7 levels.
POOL_LEVELS = PIT_LEVELS
#: Rows pooled at once (the asked levels), and on :data:`POOL_LEVELS` (a pool's work arrays are rows x 2 levels
#: several times over).
_POOL_CHUNK = 50_000
_FINE_CHUNK = 5_000


def pool_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """The levels a pool's inputs are computed on: :data:`POOL_LEVELS` and the asked ``levels``."""
    return tuple(sorted({*POOL_LEVELS, *(float(q) for q in levels)}))


def _chunks(rows: I64, size: int) -> list[I64]:
    return np.array_split(rows, -(-len(rows) // size)) if len(rows) else []


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


def _count_below(q: F64, x: F64, *, strict: bool) -> I64:
    """Row by row, how many of ``q[r]`` are ``<= x[r, j]`` (``<`` with ``strict``) for each ``j`` (both sorted along
    each row): a row-wise ``searchsorted``, by one stable sort of both instead of a pass per column of ``q``."""
    n_q, n_x = q.shape[1], x.shape[1]
    # A stable sort keeps ties in their given order: q first for "<=" (an equal q is counted), x first for "<".
    both = np.concatenate([x, q] if strict else [q, x], axis=1)
    order = np.argsort(both, axis=1, kind="stable")
    from_q = (order >= n_x) if strict else (order < n_q)
    seen = np.cumsum(from_q, axis=1)
    # ``x`` is sorted too, so its values come out of the stable sort in their own order, row by row.
    out: I64 = seen[~from_q].reshape(x.shape)
    return out


def _cdf(q: F64, x: F64, levels: F64, *, left: bool) -> F64:
    """Each row's CDF, piecewise linear through ``(q[:, k], levels[k])`` and flat beyond the outer levels,
    evaluated at ``x`` ``(rows, points)``: its value (``left=False``) or its limit from the left (``left=True``,
    lower where tied quantiles make the CDF jump)."""
    count = _count_below(q, x, strict=left)
    inner = (count > 0) & (count < len(levels))
    lo = np.clip(count - 1, 0, len(levels) - 1)
    hi = np.clip(count, 0, len(levels) - 1)
    q_lo = np.take_along_axis(q, lo, axis=1)
    q_hi = np.take_along_axis(q, hi, axis=1)
    gap = np.where(inner, q_hi - q_lo, 1.0)
    frac = np.where(inner, (x - q_lo) / np.where(gap > 0, gap, 1.0), 0.0)
    out: F64 = np.where(
        count == 0, levels[0], np.where(count >= len(levels), levels[-1], levels[lo] + (levels[hi] - levels[lo]) * frac)
    )
    return out


def linear_pool(q_a: F64, q_b: F64, share: F64, levels: Sequence[float]) -> F64:
    """Quantiles at ``levels`` of the mixture ``(1 - share) F_a + share F_b`` (row-wise ``share``), each ``F``
    piecewise linear through its sorted quantiles ``(rows, levels)`` and flat beyond the outer levels (so the
    pooled outer quantiles are the outermost of the two). The answer for level ``p`` is the least ``x`` with
    ``F(x) >= p``; it lies between the two inputs' knots, so it is sorted and never below the lowest of them."""
    grid = np.asarray(levels, np.float64)
    a = np.asarray(q_a, np.float64)
    b = np.asarray(q_b, np.float64)
    w = np.asarray(share, np.float64)[:, None]
    knots = np.sort(np.concatenate([a, b], axis=1), axis=1)
    right = (1.0 - w) * _cdf(a, knots, grid, left=False) + w * _cdf(b, knots, grid, left=False)
    left = (1.0 - w) * _cdf(a, knots, grid, left=True) + w * _cdf(b, knots, grid, left=True)
    # The first knot where the mixture reaches each level: where its running maximum does, which is sorted, so
    # one row-wise search finds every level at once.
    target = np.broadcast_to(grid - 1e-12, (len(a), len(grid)))
    j = np.minimum(_count_below(np.maximum.accumulate(right, axis=1), target, strict=True), knots.shape[1] - 1)
    prev = np.maximum(j - 1, 0)
    x_j = np.take_along_axis(knots, j, axis=1)
    x_prev = np.take_along_axis(knots, prev, axis=1)
    g_prev = np.take_along_axis(right, prev, axis=1)
    g_left = np.take_along_axis(left, j, axis=1)
    rise = g_left - g_prev
    on_slope = (j > 0) & (g_left >= grid) & (rise > 0)
    frac = np.where(on_slope, (grid - g_prev) / np.where(rise > 0, rise, 1.0), 1.0)
    out = np.where(on_slope, x_prev + (x_j - x_prev) * frac, x_j)
    pooled: F64 = np.maximum.accumulate(out, axis=1)
    return pooled


def _combine_quantiles(model_q: F64, cand_q: F64, share: F64, levels: Sequence[float], rule: str = RULE) -> F64:
    """The quantiles of the model combined with the window average's by ``rule`` (see :data:`RULE`)."""
    if rule == "quantile_average":
        q: F64 = (1.0 - share)[:, None] * model_q + share[:, None] * cand_q
        return q
    out = np.array(model_q, np.float64, copy=True)
    mixed = np.flatnonzero(share > 0)
    # In chunks: the pool's work arrays are (rows x 2 levels) several times over, which for a 50,000-record shop
    # at horizon 12 and 19 levels would be gigabytes at once.
    for rows in _chunks(mixed, _POOL_CHUNK):
        out[rows] = linear_pool(model_q[rows], cand_q[rows], share[rows], levels)
    return out


def _choose(scores: list[float], margin: float = MARGIN) -> float:
    """The share with the lowest score, if it beats the model alone (share 0) by ``margin``; else 0."""
    best = int(np.argmin(scores))
    return WEIGHTS[best] if scores[best] < (1.0 - margin) * scores[0] else 0.0


def _choose_guarded(scores: list[float], off: list[float], tolerance: float, margin: float) -> float:
    """:func:`_choose` among the shares whose ``off`` (how far a held-out check is from its aim) is within
    ``tolerance`` or no more than the model alone's (share 0, always allowed)."""
    allowed = max(tolerance, off[0])
    return _choose([v if o <= allowed + 1e-12 else float("inf") for v, o in zip(scores, off, strict=True)], margin)


def _pit80(share: F64, pit: Sequence[F64]) -> float:
    """Held-out PIT coverage of :data:`PIT_INTERVAL` of the pool with row-wise ``share``: the mixture's
    ``F(y-)`` and ``F(y)`` are the same mixture of the two distributions' (``pit``: model low, model high,
    window low, window high, each read off a fine grid of quantiles)."""
    model_low, model_high, cand_low, cand_high = pit
    low = (1.0 - share) * model_low + share * cand_low
    high = (1.0 - share) * model_high + share * cand_high
    return summarise_pit(low, high, interval=PIT_INTERVAL).coverage


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
    rule: str = RULE

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
        pit: Sequence[F64] | None = None,
    ) -> Combination:
        """Choose the shares on held-out rows (see the module docstring). ``pit`` (the model's ``F(y-)``,
        ``F(y)``, then the window average's, per row) turns on the calibration guard of the quantile share."""
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
            spl, mse, bias, pit80 = [], [], [], []
            for a in WEIGHTS:
                share = a * u
                q = _combine_quantiles(model_q[rows], cand_q[rows], share, levels)
                m = (1.0 - share) * model_mean[rows] + share * cand_mean[rows]
                spl.append(float(np.mean(_pinball(q, y, grid) / scale_mae[rows])))
                if pit is not None:
                    pit80.append(_pit80(share, [part[rows] for part in pit]))
                mse.append(float(np.mean((m - y) ** 2 / scale_rmse[rows] ** 2)))
                bias.append(float(np.sum(m) / max(float(np.sum(y)), 1e-9) - 1.0))
            # The quantile share keeps the held-out pit80 near its aim, the mean share the segment's total unbiased.
            qa = (
                _choose_guarded(spl, [abs(p - _PIT_AIM) for p in pit80], PIT_TOLERANCE, QUANTILE_MARGIN)
                if pit80
                else _choose(spl, QUANTILE_MARGIN)
            )
            ma = _choose_guarded(mse, [abs(b) for b in bias], BIAS_TOLERANCE, MARGIN)
            quant_w.append(qa)
            mean_w.append(ma)
            scores[name] = {
                "rows": n,
                "weights": list(WEIGHTS),
                "spl": [round(v, 5) for v in spl],
                **({"pit80": [round(v, 4) for v in pit80]} if pit80 else {}),
                "scaled_mse": [round(v, 5) for v in mse],
                "bias_of_total": [round(v, 4) for v in bias],
                "chosen_quantile": qa,
                "chosen_mean": ma,
            }
        return cls(window, mean_w, quant_w, scores)

    def apply(
        self,
        model_mean: F64,
        model_q: F64,
        cand_mean: F64,
        cand_q: F64,
        usable: F64,
        segment: I64,
        levels: Sequence[float],
        fine: Callable[[I64], tuple[F64, F64]] | None = None,
    ) -> tuple[F64, F64]:
        """The combined mean and quantiles at ``levels``. ``fine(rows)`` gives the model's and the window
        average's quantiles of ``rows`` on :func:`pool_levels` of ``levels``: the rule :data:`RULE` pools on them
        and reads ``levels`` off the pool. Without it (or for an older rule) the pool's knots are ``levels``."""
        qa = np.asarray(self.quantile, np.float64)[segment] * usable
        ma = np.asarray(self.mean, np.float64)[segment] * usable
        mean: F64 = (1.0 - ma) * model_mean + ma * cand_mean
        if fine is None or self.rule != RULE:
            q = _combine_quantiles(model_q, cand_q, qa, levels, self.rule)
        else:
            grid = pool_levels(levels)
            columns = [grid.index(float(level)) for level in levels]
            q = np.array(model_q, np.float64, copy=True)
            for rows in _chunks(np.flatnonzero(qa > 0), _FINE_CHUNK):
                fine_model, fine_cand = fine(rows)
                q[rows] = linear_pool(fine_model, fine_cand, qa[rows], grid)[:, columns]
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
                f"vs {score['scaled_mse'][0]:.4f} and {score['scaled_mse'][-1]:.4f}, held-out bias of total "
                f"{score['bias_of_total'][mi]:+.1%} vs {score['bias_of_total'][0]:+.1%}); {score['rows']} rows"
                + (
                    f"; held-out pit80 {score['pit80'][qi]:.3f} (model alone {score['pit80'][0]:.3f})"
                    if "pit80" in score
                    else ""
                )
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
            "rule": self.rule,
            "scores": self.scores,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Combination:
        return cls(
            int(data["window"]),
            [float(v) for v in data["mean"]],
            [float(v) for v in data["quantile"]],
            dict(data.get("scores") or {}),
            str(data.get("rule", "quantile_average")),
        )
