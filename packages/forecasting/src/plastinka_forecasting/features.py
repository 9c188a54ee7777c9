"""Features for the direct multi-horizon model, computed on a dense items x periods matrix.

A training row is (item, origin ``t``, horizon ``h``): the features describe what was known at the end of
period ``t`` (lags, rolling statistics, zero runs, periods since the last sale, item age, smoothed rates,
group-level and shop-level demand, static attributes) plus what is known about the target period ``t + h``
(the horizon, its position in the year, the shop's seasonal index, the item's own value one season before).
The target is the sale count of period ``t + h``. Everything is float32 numpy: no per-row Python.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

from plastinka_forecasting.frames import ITEM_ID, PERIOD, TARGET
from plastinka_schemas import Frequency

__all__ = [
    "CATEGORICAL_FEATURES",
    "LOG_LEVEL",
    "DenseHistory",
    "Feature",
    "FeatureConfig",
    "FeatureSpace",
    "Rows",
    "column",
    "default_config",
    "item_level",
    "registry",
    "to_dense",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Static attributes passed to LightGBM as categorical codes.
CATEGORICAL_FEATURES = ("release_type", "sleeve", "style")
_NUMERIC_STATIC = ("price", "pressing_year", "recording_year")
_GROUPS = ("artist", "style")
_MAX_LEVELS = 40

#: What the features mean, for models to be read with: bumped whenever a feature keeps its name but changes
#: its definition. 1: the shop level counted each series' first period and the seasonal index was demand per
#: active item by month over the average; 2: neither (see ``_precompute``), plus the seasonal prior; 3: level
#: features divided by the item's own level (the model's target is scaled too), the year-ago ratios, the
#: item's lumpiness (ADI, CV^2 of non-zero sizes) and its naive MAE; 4: the columns follow :func:`registry` (3
#: had ``style_mean`` and ``artist_count`` swapped against their names, which a hand-kept order let through), and
#: ``shop_yoy`` from a partial year-ago quarter.
FEATURE_VERSION = 4
#: The last feature: log of the item's level, by which the level features (and the model's target) are divided.
LOG_LEVEL = "log_level"
#: The smallest level (copies per period): a dormant item's target is its sales over this.
LEVEL_FLOOR = 0.05
#: Seasons back the year-ago ratios average over (the nearest first): one season is enough to use them.
YOY_SEASONS = 3


@dataclass(frozen=True)
class FeatureConfig:
    """Which lags and windows describe a series; per frequency, never per dataset."""

    frequency: str
    season: int
    lags: tuple[int, ...]
    windows: tuple[int, ...]
    main_window: int
    version: int = FEATURE_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "frequency": self.frequency,
            "season": self.season,
            "lags": list(self.lags),
            "windows": list(self.windows),
            "main_window": self.main_window,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureConfig:
        return cls(
            frequency=str(data["frequency"]),
            season=int(data["season"]),
            lags=tuple(int(v) for v in data["lags"]),
            windows=tuple(int(v) for v in data["windows"]),
            main_window=int(data["main_window"]),
            version=int(data.get("version", 1)),  # models written before versions existed
        )


def default_config(frequency: Frequency) -> FeatureConfig:
    if Frequency(frequency) is Frequency.MONTH:
        return FeatureConfig("M", 12, (1, 2, 3, 4, 5, 6, 12), (3, 6, 12, 24), 12)
    return FeatureConfig("W", 52, (1, 2, 3, 4, 8, 13, 26, 52), (4, 8, 13, 26, 52), 13)


@dataclass
class DenseHistory:
    """The panel as a matrix: ``values[i, c]`` is item ``i`` in period ``c`` (NaN before the item's start)."""

    item_ids: list[str]
    periods: list[date]
    values: F32
    start: I64

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_periods(self) -> int:
        return len(self.periods)


def _period_index(periods: pl.Expr, first: date, frequency: str) -> pl.Expr:
    if frequency == "M":
        return (periods.dt.year() * 12 + periods.dt.month()) - (first.year * 12 + first.month)
    return (periods - pl.lit(first)).dt.total_days() // 7


def to_dense(panel: pl.DataFrame, frequency: Frequency) -> DenseHistory:
    """Panel frame -> :class:`DenseHistory` (items in sorted order, every period from the first to the last)."""
    freq = Frequency(frequency).value
    if panel.height == 0:
        return DenseHistory([], [], np.zeros((0, 0), np.float32), np.zeros(0, np.int64))
    first = panel[PERIOD].min()
    last = panel[PERIOD].max()
    assert isinstance(first, date) and isinstance(last, date)
    step = "1mo" if freq == "M" else "1w"
    periods = list(pl.date_range(first, last, step, eager=True))
    items = panel.select(pl.col(ITEM_ID).unique().sort())[ITEM_ID]
    indexed = panel.join(items.to_frame().with_row_index("_i"), on=ITEM_ID).with_columns(
        _period_index(pl.col(PERIOD), first, freq).alias("_c")
    )
    values = np.full((len(items), len(periods)), np.nan, dtype=np.float32)
    rows = indexed["_i"].to_numpy().astype(np.int64)
    cols = indexed["_c"].to_numpy().astype(np.int64)
    values[rows, cols] = indexed[TARGET].to_numpy().astype(np.float32)
    observed = ~np.isnan(values)
    start = np.where(observed.any(axis=1), observed.argmax(axis=1), len(periods)).astype(np.int64)
    return DenseHistory(items.to_list(), periods, values, start)


def item_level(x: F32, names: list[str]) -> F64:
    """Each row's item level (copies per period), stored as the last feature: the mean of the item's means over
    the last quarter and the last season, at least a fifth of its lifetime mean and :data:`LEVEL_FLOOR`."""
    out: F64 = np.exp(column(x, names, LOG_LEVEL).astype(np.float64))
    return out


def _period_of_year(periods: Sequence[date], frequency: str) -> I64:
    if frequency == "M":
        return np.array([d.month - 1 for d in periods], dtype=np.int64)
    return np.array([min(d.isocalendar()[1], 52) - 1 for d in periods], dtype=np.int64)


def _future_period_of_year(last: date, steps: int, frequency: str) -> I64:
    """Period-of-year of the ``steps`` periods after ``last`` (and ``last`` itself first)."""
    step = "1mo" if frequency == "M" else "1w"
    anchor = pl.Series([last], dtype=pl.Date)
    stop = anchor.dt.offset_by(f"{steps}{step[1:]}")[0]
    return _period_of_year(list(pl.date_range(last, stop, step, eager=True)), frequency)


@dataclass
class _Precomputed:
    """Cumulative statistics over the history, shared by every origin."""

    cum: F32
    cum_nz: F32
    cum_obs: F32
    cum_sq_step: F32
    cum_steps: F32
    cum_sq: F64
    cum_abs_step: F32
    total: F64
    ewm_fast: F32
    ewm_slow: F32
    ewm_occ: F32
    ewm_size: F32
    last_sale: I64
    last_size: F32
    shop_mean: F32
    season_ratio: F64
    pos: I64


def _ewm(values: F32, alpha: float, *, only_nonzero: bool = False) -> F32:
    n, t_len = values.shape
    out = np.full((n, t_len), np.nan, dtype=np.float32)
    prev = np.full(n, np.nan, dtype=np.float32)
    for c in range(t_len):
        y = values[:, c]
        use = ~np.isnan(y)
        if only_nonzero:
            use &= y > 0
        new = np.where(np.isnan(prev), y, alpha * y + (1 - alpha) * prev)
        prev = np.where(use, new, prev).astype(np.float32)
        out[:, c] = prev
    return out


def _nan_mean(values: F32) -> float:
    """Mean of the known values; NaN when there is none (without numpy's empty-slice warning)."""
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else float("nan")


def _ratio_to_moving_average(total: F64, season: int) -> F64:
    """Shop sales over their centred one-season moving average (the classical decomposition's ratio).

    The moving average takes out the level, the trend and the shop's growing catalogue, so what is left is the
    period's seasonal swing. Entry ``c`` uses periods ``c - season/2 .. c + season/2``: it is NaN where that
    window leaves the data, and known at an origin ``t`` only for ``c <= t - season/2``.
    """
    half = season // 2
    out: F64 = np.full(total.size, np.nan)
    if total.size <= 2 * half:
        return out
    cum = np.concatenate([[0.0], np.cumsum(total)])
    centre = np.arange(half, total.size - half)
    inner = cum[centre + half] - cum[centre - half + 1]  # periods c-half+1 .. c+half-1
    average = (inner + 0.5 * (total[centre - half] + total[centre + half])) / season
    with np.errstate(divide="ignore", invalid="ignore"):
        out[centre] = np.where(average > 0, total[centre] / average, np.nan)
    return out


def _precompute(hist: DenseHistory, frequency: str, season: int) -> _Precomputed:
    v = hist.values
    n, t_len = v.shape
    filled = np.nan_to_num(v, nan=0.0)
    observed = (~np.isnan(v)).astype(np.float32)
    zero_col = np.zeros((n, 1), np.float32)
    cum = np.concatenate([zero_col, np.cumsum(filled, axis=1, dtype=np.float64).astype(np.float32)], axis=1)
    cum_nz = np.concatenate([zero_col, np.cumsum(filled > 0, axis=1).astype(np.float32)], axis=1)
    cum_obs = np.concatenate([zero_col, np.cumsum(observed, axis=1).astype(np.float32)], axis=1)
    step = np.diff(v, axis=1, prepend=np.nan)
    has_step = ~np.isnan(step)
    sq_step = np.where(has_step, step * step, 0.0)
    cum_sq_step = np.concatenate([zero_col, np.cumsum(sq_step, axis=1, dtype=np.float64).astype(np.float32)], axis=1)
    cum_steps = np.concatenate([zero_col, np.cumsum(has_step, axis=1).astype(np.float32)], axis=1)
    abs_step = np.where(has_step, np.abs(step), 0.0)
    cum_abs_step = np.concatenate([zero_col, np.cumsum(abs_step, axis=1, dtype=np.float64).astype(np.float32)], axis=1)
    cum_sq = np.concatenate([zero_col, np.cumsum(filled.astype(np.float64) ** 2, axis=1)], axis=1)
    last_sale = np.full((n, t_len), -1, dtype=np.int64)
    last_size = np.full((n, t_len), np.nan, dtype=np.float32)
    prev_idx = np.full(n, -1, dtype=np.int64)
    prev_size = np.full(n, np.nan, dtype=np.float32)
    for c in range(t_len):
        sold = filled[:, c] > 0
        prev_idx = np.where(sold, c, prev_idx)
        prev_size = np.where(sold, filled[:, c], prev_size)
        last_sale[:, c] = prev_idx
        last_size[:, c] = prev_size
    # A series starts at its first sale, so its first period sells by construction: counting it would inflate
    # the shop's level wherever many series start (the data's first months) and skew the seasonal index.
    first = (observed > 0) & (cum_obs[:, :-1] == 0)
    counted = (observed > 0) & ~first
    active = counted.sum(axis=0)
    shop_mean = (np.where(counted, filled, 0.0).sum(axis=0) / np.maximum(active, 1.0)).astype(np.float32)
    shop_mean[active == 0] = np.nan
    return _Precomputed(
        cum=cum,
        cum_nz=cum_nz,
        cum_obs=cum_obs,
        cum_sq_step=cum_sq_step,
        cum_steps=cum_steps,
        cum_sq=cum_sq,
        cum_abs_step=cum_abs_step,
        total=filled.sum(axis=0, dtype=np.float64),
        ewm_fast=_ewm(v, 0.3),
        ewm_slow=_ewm(v, 0.1),
        ewm_occ=_ewm((v > 0).astype(np.float32) + np.where(np.isnan(v), np.nan, 0).astype(np.float32), 0.1),
        ewm_size=_ewm(v, 0.2, only_nonzero=True),
        last_sale=last_sale,
        last_size=last_size,
        shop_mean=shop_mean,
        season_ratio=_ratio_to_moving_average(filled.sum(axis=0, dtype=np.float64), season),
        pos=_period_of_year(hist.periods, frequency),
    )


def _encode(values: pl.Series, vocab: list[str]) -> F32:
    lookup = {v: i for i, v in enumerate(vocab)}
    return np.array([lookup.get(v, np.nan) if v is not None else np.nan for v in values.to_list()], dtype=np.float32)


@dataclass(frozen=True)
class Rows:
    """Training rows: features ``x``, target ``y``, horizon ``h``, origin period ``t`` and item index ``item``."""

    x: F32
    y: F32
    h: I64
    t: I64
    item: I64

    def __len__(self) -> int:
        return len(self.y)


_R = TypeVar("_R")


def _per_origin(method: Callable[..., _R]) -> Callable[..., _R]:
    """Memoise a shop-level method of :class:`FeatureSpace` by its arguments (the origin, and the horizon where it
    takes one): every item and each of training's three row sets share the value."""

    @functools.wraps(method)
    def memoised(self: FeatureSpace, *args: int) -> _R:
        value: _R = _memoised(self._shop_memo, (method.__name__, *args), lambda: method(self, *args))
        return value

    return memoised


@dataclass
class FeatureSpace:
    """Feature engine bound to one history: builds training rows and prediction rows."""

    config: FeatureConfig
    hist: DenseHistory
    static: dict[str, F32] = field(default_factory=dict)
    group_codes: dict[str, I64] = field(default_factory=dict)
    vocab: dict[str, list[str]] = field(default_factory=dict)
    #: The model's inputs in column order (:func:`registry`); the column order is this tuple's, never kept by hand.
    features: tuple[Feature, ...] = ()
    _pre: _Precomputed | None = None
    #: Shop-level values per origin (and horizon), which every item and each of training's three row sets share.
    _shop_memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        hist: DenseHistory,
        attributes: pl.DataFrame | None,
        config: FeatureConfig,
        vocab: dict[str, list[str]] | None = None,
        features: Sequence[Feature] | None = None,
    ) -> FeatureSpace:
        """Bind to ``hist``; categorical vocabularies come from ``vocab`` (a trained model's) or from the data;
        the inputs are ``features`` (default: :func:`registry` of ``config``)."""
        items = pl.DataFrame({ITEM_ID: hist.item_ids}, schema={ITEM_ID: pl.Utf8})
        attrs = items
        if attributes is not None and attributes.height and ITEM_ID in attributes.columns:
            attrs = items.join(attributes.unique(ITEM_ID, keep="first"), on=ITEM_ID, how="left")
        vocab = dict(vocab) if vocab is not None else {}
        static: dict[str, F32] = {}
        for name in _NUMERIC_STATIC:
            col = attrs[name] if name in attrs.columns else pl.Series([None] * len(items))
            arr = col.cast(pl.Float64, strict=False).to_numpy().astype(np.float32)
            static[name] = np.log1p(np.clip(arr, 0, None)) if name == "price" else arr
        strings: dict[str, pl.Series] = {}
        for name in {*CATEGORICAL_FEATURES, *_GROUPS}:
            col = attrs[name] if name in attrs.columns else pl.Series([None] * len(items), dtype=pl.Utf8)
            col = col.cast(pl.Utf8, strict=False).str.strip_chars().str.to_lowercase()
            if name == "style":
                col = col.str.split("/").list.first().str.strip_chars()
            strings[name] = col
        for name in CATEGORICAL_FEATURES:
            if name not in vocab:
                counts = strings[name].drop_nulls().value_counts(sort=True)
                vocab[name] = [str(v) for v in counts[:, 0].to_list()[:_MAX_LEVELS]]
            static[name] = _encode(strings[name], vocab[name])
        group_codes: dict[str, I64] = {}
        for name in _GROUPS:
            codes = strings[name].fill_null("").cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
            codes[strings[name].is_null().to_numpy()] = -1
            group_codes[name] = codes
        space = cls(config, hist, static, group_codes, vocab, tuple(features or registry(config)))
        space._pre = _precompute(hist, config.frequency, config.season)
        return space

    @property
    def pre(self) -> _Precomputed:
        assert self._pre is not None
        return self._pre

    def feature_names(self) -> list[str]:
        """The model's input columns, in order: the registry's names, then :data:`LOG_LEVEL`."""
        return [f.name for f in self.features] + [LOG_LEVEL]

    def _scale(self, x: F32) -> F32:
        """Divide the level features by the item's level and write its log in the last column, which the caller
        leaves free (see :func:`item_level`); in place."""
        names = [f.name for f in self.features]
        short, long = self.level_windows()
        a = column(x, names, f"mean_{short}")
        b = column(x, names, f"mean_{long}")
        level = np.nan_to_num(0.5 * (a + b), nan=0.0)
        level = np.maximum(level, 0.2 * np.nan_to_num(column(x, names, "mean_all"), nan=0.0))
        level = np.maximum(level, LEVEL_FLOOR).astype(np.float32)
        for i, feature in enumerate(self.features):
            if feature.level:
                x[:, i] /= level
        x[:, -1] = np.log(level)
        return x

    def _window(self, cum: F32 | F64, t: int, w: int) -> F32:
        lo = max(0, t + 1 - w)
        out: F32 = (cum[:, t + 1] - cum[:, lo]).astype(np.float32, copy=False)
        return out

    def group_features(self, t: int, rows: I64, group: str) -> tuple[F32, F32]:
        """Mean recent demand and size of each item's ``group`` (artist or style), over items started by ``t``."""
        pre, window = self.pre, self.config.main_window
        main = (self._window(pre.cum, t, window) / np.maximum(self._window(pre.cum_obs, t, window), 1)).astype(
            np.float32
        )
        started = self.hist.start <= t
        codes = self.group_codes[group]
        ok = started & (codes >= 0)
        size = int(codes.max()) + 1 if codes.size and codes.max() >= 0 else 1
        sums = np.bincount(codes[ok], weights=main[ok], minlength=size)
        counts = np.bincount(codes[ok], minlength=size).astype(np.float64)
        mine = codes[rows]
        have = mine >= 0
        gmean = np.full(len(rows), np.nan, np.float32)
        gcount = np.zeros(len(rows), np.float32)
        safe = np.where(have, mine, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            gmean[have] = (sums[safe] / counts[safe])[have]
        gcount[have] = counts[safe][have]
        return gmean, gcount

    def shop_features(self, t: int) -> tuple[float, float]:
        """Shop-wide demand per active item: the recent level and its trend against the window before."""
        pre, window = self.pre, self.config.main_window
        recent = _nan_mean(pre.shop_mean[max(0, t + 1 - window) : t + 1])
        older = _nan_mean(pre.shop_mean[max(0, t + 1 - 2 * window) : max(0, t + 1 - window)])
        trend = recent / older if older and older > 0 else np.nan
        return recent, trend

    @_per_origin
    def season_index(self, t: int) -> F32:
        """The shop's seasonal index per period of the year (1 = an average period), from history up to ``t``:
        the mean ratio to the centred moving average over the last three seasons; NaN where none is known."""
        pre, s = self.pre, self.config.season
        last = t - s // 2  # the latest ratio whose moving-average window ends by t
        out = np.full(s, np.nan, np.float32)
        if last < 0:
            return out
        lo = max(0, last + 1 - 3 * s)
        ratio = pre.season_ratio[lo : last + 1]
        pos = pre.pos[lo : last + 1]
        for p in range(s):
            sel = ratio[(pos == p) & ~np.isnan(ratio)]
            if sel.size:
                out[p] = float(sel.mean())
        return out

    def season_lag_column(self, t: int, h: int) -> int:
        """The latest period known at ``t`` that is a whole number of seasons before ``t + h`` (may be < 0)."""
        lag_col = t + h - self.config.season
        while lag_col > t:
            lag_col -= self.config.season
        return lag_col

    def season_mean(self, t: int, h: int, rows: I64) -> F32:
        """The item's mean in the same period of the year over up to three seasons back (NaN without one)."""
        v, s = self.hist.values, self.config.season
        past = list(range(self.season_lag_column(t, h), -1, -s))[:3]
        if not past:
            return np.full(len(rows), np.nan, np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out: F32 = np.nanmean(v[np.ix_(rows, np.asarray(past, dtype=np.int64))], axis=1)
        return out

    def level_windows(self) -> tuple[int, int]:
        """The short and long windows of the item's level (a quarter and a season)."""
        short = 3 if self.config.frequency == "M" else 13
        return short, self.config.season

    def lumpiness(self, t: int, rows: I64) -> tuple[F32, F32]:
        """ADI (observed periods per period with a sale) and CV^2 of the non-zero sizes over the last season
        before ``t``; NaN without a sale (CV^2 also with a single one)."""
        pre, w = self.pre, self.config.season
        obs = self._window(pre.cum_obs, t, w)[rows]
        nz = self._window(pre.cum_nz, t, w)[rows]
        total = self._window(pre.cum, t, w)[rows]
        sq = self._window(pre.cum_sq, t, w)[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            adi = np.where(nz > 0, obs / nz, np.nan)
            size = total / nz
            cv2 = np.where(nz > 1, np.clip(sq / nz - size * size, 0.0, None) / (size * size), np.nan)
        return adi.astype(np.float32), cv2.astype(np.float32)

    def _cohort_total(self, lo: int, hi: int) -> F64:
        """Shop sales per period ``lo..hi`` of the items that started before ``lo``: no first sale (which every
        series has by construction) and no newly listed item inflates them, so ratios between those periods
        show the season, not the catalogue's growth or a customer cohort's first purchases."""
        cohort = self.hist.start < lo
        out: F64 = np.nan_to_num(self.hist.values[cohort, lo : hi + 1], nan=0.0).sum(axis=0, dtype=np.float64)
        return out

    @_per_origin
    def _shop_momentum(self, t: int) -> float:
        """The shop's mean sales over the last quarter over its level (see :func:`item_level`) at ``t``, over the
        items that started before the season's window (or before the quarter, in a shorter history)."""
        short, long = self.level_windows()
        lo = t + 1 - long if t + 1 - long > 0 else max(0, t + 1 - short)
        total = self._cohort_total(lo, t)
        if not total.size:
            return float("nan")
        recent = float(total[-short:].mean())
        level = 0.5 * (recent + float(total.mean()))
        return recent / level if level > 0 else float("nan")

    @_per_origin
    def _shop_yoy(self, t: int, h: int) -> float:
        """The shop's seasonal swing from the origin to the target period, as a multiplier of the item level
        (see :func:`item_level`), from one season of history:

        the shop's sales in the target period one season back over its mean sales in the quarter before the
        origin one season back (geometric mean over up to three seasons), over the items that started before that
        quarter, times the shop's momentum (last quarter over level); NaN when no period of that quarter after the
        data's first is in the data. Where the data start inside the quarter, its periods after the first period
        serve (the first is left out: every series in it starts there, so no cohort started before it): a history
        of one season and two periods is enough (Online Retail's winter cut-offs, whose year-ago quarter the data
        only partly hold). (A variant against the season's mean when the quarter is missing would read a customer
        cohort's first purchases, CDNOW's first quarter, as season: the earlier one-season index sent January to
        3.8x.)
        """
        s = self.config.season
        short, _ = self.level_windows()
        logs = []
        for k in range(1, YOY_SEASONS + 1):
            c, origin = t + h - k * s, t - k * s
            lo = max(1, origin + 1 - short)
            if c > t or origin < lo:
                break
            total = self._cohort_total(lo, c)
            level = float(total[: origin - lo + 1].mean())
            if not level > 0:
                break
            if total[-1] > 0:
                logs.append(np.log(total[-1] / level))
        return float(np.exp(np.mean(logs))) * self._shop_momentum(t) if logs else float("nan")

    def _item_yoy(self, t: int, h: int, rows: I64) -> F32:
        """The item's own sales in the target period one season back over its mean sales in the quarter before the
        origin one season back (NaN where the item did not exist then or had no sales in that quarter)."""
        s = self.config.season
        c, origin = t + h - s, t - s
        out = np.full(len(rows), np.nan, np.float32)
        if origin < 0 or c > t:
            return out
        short, long = self.level_windows()
        pre = self.pre
        del long
        level = self._window(pre.cum, origin, short)[rows] / short
        known = (self.hist.start[rows] <= origin - short + 1) & (level > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[known] = (self.hist.values[rows, c] / level)[known]
        return out

    @_per_origin
    def _target_positions(self, t: int, horizon: int) -> I64:
        return _future_period_of_year(self.hist.periods[t], horizon, self.config.frequency)[1:]

    def origin_blocks(self, t: int, horizons: Sequence[int], rows: I64) -> Iterator[tuple[int, I64, F32]]:
        """For origin ``t``: ``(h, rows, X)`` per horizon, all items in ``rows``, columns in registry order."""
        origin = _Origin(self, t, rows)
        known = {f.name: f.compute(origin) for f in self.features if not f.per_target}
        season_index = self.season_index(t)
        positions = self._target_positions(t, max(horizons))
        for h in horizons:
            target = _Target(origin, h, season_index, int(positions[h - 1]))
            # Filled column by column into the final float32 matrix (one copy, not a stack and a cast and an append).
            x = np.empty((len(rows), len(self.features) + 1), np.float32)
            for i, f in enumerate(self.features):
                x[:, i] = f.compute(target) if f.per_target else known[f.name]
            yield h, rows, self._scale(x)

    def _row_plan(
        self, origins: Sequence[int], horizon: int, last_target: int | None
    ) -> tuple[list[tuple[int, list[int]]], int]:
        """Per origin the horizons whose target is known by ``last_target``, and the number of candidate rows."""
        t_last = self.hist.n_periods - 1 if last_target is None else last_target
        plan = []
        total = 0
        for t in origins:
            hs = [h for h in range(1, horizon + 1) if t + h <= t_last]
            active = int((self.hist.start <= t).sum())
            if hs and active:
                plan.append((t, hs))
                total += active * len(hs)
        return plan, total

    def expected_rows(
        self, origins: Sequence[int], horizon: int, *, max_rows: int, last_target: int | None = None
    ) -> int:
        """How many rows :meth:`training_rows` returns on average (without ``whole_windows``): every candidate
        row up to ``max_rows``; above it, one horizon for each sampled (item, origin)."""
        plan, total = self._row_plan(origins, horizon, last_target)
        if total <= max_rows:
            return total
        keep = max_rows / total
        start = self.hist.start
        return round(sum(int((start <= t).sum()) * min(1.0, keep * len(hs)) for t, hs in plan))

    def training_rows(
        self,
        origins: Sequence[int],
        horizon: int,
        *,
        max_rows: int,
        seed: int,
        last_target: int | None = None,
        whole_windows: bool = False,
    ) -> Rows:
        """Stacked (item, origin, horizon) rows whose target is known (by ``last_target``, default the end).

        When there are more candidate rows than ``max_rows`` an unbiased random subset is kept, so memory stays
        bounded whatever the panel size: one random horizon per sampled (item, origin), or with
        ``whole_windows`` every horizon of fewer sampled (item, origin) pairs.
        """
        plan, total = self._row_plan(origins, horizon, last_target)
        start = self.hist.start
        keep = min(1.0, max_rows / total) if total else 1.0
        rng = np.random.default_rng(seed)
        parts: list[tuple[F32, F32, I64, I64, I64]] = []
        for t, hs in plan:
            rows_all = np.flatnonzero(start <= t)
            share = keep if whole_windows else min(1.0, keep * len(hs))
            chosen = rows_all if keep >= 1.0 else rows_all[rng.random(len(rows_all)) < share]
            if not len(chosen):
                continue
            pick = None if keep >= 1.0 or whole_windows else rng.integers(0, len(hs), size=len(chosen))
            for h, rows, x in self.origin_blocks(t, hs, chosen):
                mask = np.ones(len(rows), bool) if pick is None else pick == hs.index(h)
                if not mask.any():
                    continue
                n = int(mask.sum())
                parts.append(
                    (
                        x[mask],
                        self.hist.values[rows[mask], t + h],
                        np.full(n, h, np.int64),
                        np.full(n, t, np.int64),
                        rows[mask].astype(np.int64),
                    )
                )
        if not parts:
            width = len(self.feature_names())
            empty = np.zeros(0, np.int64)
            return Rows(np.zeros((0, width), np.float32), np.zeros(0, np.float32), empty, empty, empty)
        return Rows(*(np.concatenate([p[i] for p in parts]) for i in range(5)))

    def prediction_rows(self, horizon: int, only: I64 | None = None) -> tuple[F32, I64, I64]:
        """Rows for forecasting every item (or the item indices ``only``) from the last period: ``X, item index,
        h``. The shop's and the groups' features are read off every item either way."""
        t = self.hist.n_periods - 1
        rows = np.flatnonzero(self.hist.start <= t)
        if only is not None:
            rows = rows[np.isin(rows, only)]
        xs, items, hs = [], [], []
        for h, r, x in self.origin_blocks(t, list(range(1, horizon + 1)), rows):
            xs.append(x)
            items.append(r)
            hs.append(np.full(len(r), h, np.int64))
        return np.concatenate(xs), np.concatenate(items), np.concatenate(hs)


def _memoised(memo: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    if key not in memo:
        memo[key] = make()
    return memo[key]


@dataclass
class _Origin:
    """What the origin features of items ``rows`` at origin ``t`` read; shared parts computed once."""

    space: FeatureSpace
    t: int
    rows: I64
    _memo: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        return _memoised(self._memo, key, make)

    @property
    def n(self) -> int:
        return len(self.rows)

    def full(self, value: float) -> F32:
        return np.full(self.n, value, np.float32)

    def window(self, name: str, w: int) -> F32:
        """Sum of the precomputed cumulative statistic ``name`` over the ``w`` periods up to ``t``, per row."""
        key = f"{name}:{w}"
        if key not in self._memo:
            self._memo[key] = self.space._window(getattr(self.space.pre, name), self.t, w)[self.rows]
        out: F32 = self._memo[key]
        return out

    def at(self, name: str, offset: int = 0) -> F32:
        """Column ``t + offset`` of the precomputed per-period statistic ``name``, per row."""
        out: F32 = getattr(self.space.pre, name)[self.rows, self.t + offset]
        return out

    def ratio(self, a: F32, b: F32) -> F32:
        with np.errstate(invalid="ignore", divide="ignore"):
            out: F32 = a / b
        return out


@dataclass
class _Target:
    """What the target features of one horizon ``h`` read, beside the origin's."""

    origin: _Origin
    h: int
    season_index: F32
    target_pos: int


@dataclass(frozen=True)
class Feature:
    """One model input: its name, how it is computed, whether it is in copies per period (``level``: the model
    divides it by the item's level) and whether it describes the target period (``per_target``: computed per
    horizon from a :class:`_Target`) or what is known at the origin (from an :class:`_Origin`)."""

    name: str
    compute: Callable[[Any], F32]
    level: bool = False
    per_target: bool = False


def column(x: npt.NDArray[Any], names: Sequence[str], name: str) -> npt.NDArray[Any]:
    """The column of feature ``name`` in a feature matrix whose columns are ``names`` (a model's or a space's)."""
    if name not in names:
        raise KeyError(f"no feature {name!r} among the model's inputs")
    return x[:, list(names).index(name)]


def _lag(k: int) -> Callable[[_Origin], F32]:
    def compute(o: _Origin) -> F32:
        col = o.t - k + 1
        out: F32 = o.space.hist.values[o.rows, col] if col >= 0 else o.full(np.nan)
        return out

    return compute


def _window_rate(stat: str, w: int) -> Callable[[_Origin], F32]:
    return lambda o: o.ratio(o.window(stat, w), o.window("cum_obs", w))


def _max_season(o: _Origin) -> F32:
    v = o.space.hist.values
    lo = max(0, o.t + 1 - o.space.config.season)
    block = v[o.rows, lo : o.t + 1]
    out: F32 = np.nanmax(np.where(np.isnan(block), -1, block), axis=1)
    return out


def _since_sale(o: _Origin) -> F32:
    last = o.at("last_sale")
    return np.where(last >= 0, o.t - last, o.at("cum_obs", 1)).astype(np.float32)


def _lumpiness(o: _Origin, which: int) -> F32:
    pair: tuple[F32, F32] = o.memo("lumpiness", lambda: o.space.lumpiness(o.t, o.rows))
    return pair[which]


def _group(group: str, which: int) -> Callable[[_Origin], F32]:
    def compute(o: _Origin) -> F32:
        pair: tuple[F32, F32] = o.memo(f"group:{group}", lambda: o.space.group_features(o.t, o.rows, group))
        return pair[which]

    return compute


def _shop(which: int) -> Callable[[_Origin], F32]:
    def compute(o: _Origin) -> F32:
        pair: tuple[float, float] = o.memo("shop", lambda: o.space.shop_features(o.t))
        return o.full(pair[which])

    return compute


def _static(name: str) -> Callable[[_Origin], F32]:
    return lambda o: o.space.static[name][o.rows]


def _season_lag(g: _Target) -> F32:
    o = g.origin
    col = o.space.season_lag_column(o.t, g.h)
    out: F32 = o.space.hist.values[o.rows, col] if col >= 0 else o.full(np.nan)
    return out


def registry(config: FeatureConfig) -> tuple[Feature, ...]:
    """Every model input for ``config``, in column order (the order of :meth:`FeatureSpace.feature_names`)."""
    origin = [Feature(f"lag_{k}", _lag(k), level=True) for k in config.lags]
    origin += [Feature(f"mean_{w}", _window_rate("cum", w), level=True) for w in config.windows]
    origin += [Feature(f"nz_{w}", _window_rate("cum_nz", w)) for w in config.windows]
    origin += [
        Feature("mean_all", lambda o: o.ratio(o.at("cum", 1), o.at("cum_obs", 1)), level=True),
        Feature("nz_all", lambda o: o.ratio(o.at("cum_nz", 1), o.at("cum_obs", 1))),
        Feature("max_season", _max_season, level=True),
        Feature("ewm_fast", lambda o: o.at("ewm_fast"), level=True),
        Feature("ewm_slow", lambda o: o.at("ewm_slow"), level=True),
        Feature("tsb", lambda o: o.at("ewm_occ") * np.nan_to_num(o.at("ewm_size"), nan=0.0), level=True),
        Feature("croston_size", lambda o: o.at("ewm_size"), level=True),
        Feature("since_sale", _since_sale),
        Feature("age", lambda o: o.at("cum_obs", 1)),
        Feature("sale_interval", lambda o: o.ratio(o.at("cum_obs", 1), o.at("cum_nz", 1))),
        Feature("last_size", lambda o: o.at("last_size"), level=True),
        Feature("naive_rmse", lambda o: np.sqrt(o.ratio(o.at("cum_sq_step", 1), o.at("cum_steps", 1))), level=True),
        Feature("naive_mae", lambda o: o.ratio(o.at("cum_abs_step", 1), o.at("cum_steps", 1)), level=True),
        Feature("adi", lambda o: _lumpiness(o, 0)),
        Feature("cv2", lambda o: _lumpiness(o, 1)),
    ]
    origin += [Feature(f"{g}_mean", _group(g, 0), level=True) for g in _GROUPS]
    origin += [Feature(f"{g}_count", _group(g, 1)) for g in _GROUPS]
    origin += [
        Feature("shop_recent", _shop(0)),
        Feature("shop_trend", _shop(1)),
        Feature("origin_pos", lambda o: o.full(o.space.pre.pos[o.t])),
    ]
    origin += [Feature(name, _static(name)) for name in (*_NUMERIC_STATIC, *CATEGORICAL_FEATURES)]
    target = [
        Feature("horizon", lambda g: g.origin.full(g.h)),
        Feature("target_pos", lambda g: g.origin.full(g.target_pos)),
        Feature("season_index", lambda g: g.origin.full(g.season_index[g.target_pos])),
        Feature("season_lag", _season_lag, level=True),
        Feature("season_mean", lambda g: g.origin.space.season_mean(g.origin.t, g.h, g.origin.rows), level=True),
        Feature("shop_yoy", lambda g: g.origin.full(g.origin.space._shop_yoy(g.origin.t, g.h))),
        Feature("shop_momentum", lambda g: g.origin.full(g.origin.space._shop_momentum(g.origin.t))),
        Feature("item_yoy", lambda g: g.origin.space._item_yoy(g.origin.t, g.h, g.origin.rows)),
    ]
    return (*origin, *(replace(f, per_target=True) for f in target))
