"""The high-level API: validated sales in, a trained model or a forecast frame out.

``train`` builds the panel (every stocked item included; a last period the export cut short, such as a month
exported on its 5th, is left out and forecast instead), optionally tunes, and fits the default model;
``predict`` forecasts from the model's own history or from newer sales, with item attributes joined.
Artifacts: :func:`plastinka_forecasting.artifacts.save_model` / :func:`~plastinka_forecasting.artifacts.load_model`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from plastinka_forecasting.artifacts import data_fingerprint
from plastinka_forecasting.frames import ITEM_ID, PERIOD, SalesData
from plastinka_forecasting.model import ModelParams, Progress, TrainedModel, fit_panel, predict_panel
from plastinka_forecasting.panel import complete_panel
from plastinka_schemas import DEFAULT_QUANTILES, Frequency
from plastinka_schemas.api import check_horizon, check_quantiles

__all__ = ["item_attributes", "predict", "train"]


def item_attributes(sales: SalesData) -> pl.DataFrame | None:
    """One row per item: the dataset's attributes plus ``copies`` in stock when a snapshot was given."""
    attributes = sales.attributes if sales.attributes.height else None
    if sales.stock is None:
        return attributes
    copies = sales.stock.group_by(ITEM_ID).agg(pl.col("copies").sum())
    if attributes is None:
        return copies
    extra = [c for c in copies.columns if c != ITEM_ID and c not in attributes.columns]
    return attributes.join(copies.select(ITEM_ID, *extra), on=ITEM_ID, how="full", coalesce=True)


def train(
    sales: SalesData,
    *,
    frequency: Frequency | str = Frequency.MONTH,
    horizon: int = 3,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    tune: bool = False,
    time_budget_s: float = 300.0,
    params: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> TrainedModel:
    """Train the default model (or a tuned one) on ``sales``; see ``docs/forecasting.md`` for the method."""
    frequency = Frequency(frequency)
    check_horizon(horizon, frequency)
    levels = check_quantiles(tuple(float(q) for q in quantiles))
    report = progress or (lambda _f, _m: None)
    panel, partial = complete_panel(sales, frequency)
    if partial is not None:
        report(0.0, partial.describe())
    if panel.height == 0:
        raise ValueError("the dataset has no sales and no stocked items: nothing to train on")
    attributes = item_attributes(sales)
    base = ModelParams().with_overrides(params or {})
    tuning: dict[str, Any] | None = None
    if tune:
        # Tuning backtests against the baselines: imported only when asked, to keep a predict-only cold start short.
        from plastinka_forecasting.tuning import tune_params  # noqa: PLC0415

        result = tune_params(
            panel,
            attributes,
            frequency=frequency,
            horizon=horizon,
            base=base,
            time_budget_s=time_budget_s,
            progress=lambda f, m: report(0.6 * f, m),
        )
        base = result.params
        tuning = result.summary()

    def fit_progress(fraction: float, message: str) -> None:
        report((0.6 if tune else 0.0) + (0.4 if tune else 1.0) * fraction, message)

    model = fit_panel(
        panel, attributes, frequency=frequency, horizon=horizon, quantiles=levels, params=base, progress=fit_progress
    )
    model.info["data_fingerprint"] = data_fingerprint(panel)
    if partial is not None:
        model.info["partial_period"] = {**partial.to_json(), "note": partial.describe()}
    if tuning is not None:
        model.info["tuning"] = tuning
    return model


def predict(
    model: TrainedModel,
    sales: SalesData | None = None,
    *,
    horizon: int | None = None,
    items: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Forecast frame (``item_id``, ``period``, ``mean``, ``q_<level>``..., then item attributes).

    Without ``sales`` the model forecasts from the history it was trained on; with ``sales`` (the same shop's
    newer export) from that data's last period. ``items`` restricts the output; unknown ids are an error.
    """
    if sales is None:
        if model.history.height == 0:
            raise ValueError("this model was loaded without its history: pass the sales to forecast from")
        panel, attributes = model.history, model.attributes
    else:
        # A period the export cut short is not forecast from: the forecast starts with it, as in training.
        panel, _ = complete_panel(sales, model.frequency)
        attributes = item_attributes(sales)
    wanted: list[str] | None = None
    if items is not None:
        asked = pl.Series(ITEM_ID, [str(i) for i in items], dtype=pl.Utf8).unique()
        unknown = asked.filter(~asked.is_in(panel.get_column(ITEM_ID).unique().implode()))
        if unknown.len():
            shown = ", ".join(unknown.head(5).to_list())
            raise ValueError(f"{unknown.len()} unknown item id(s): {shown}")
        wanted = asked.to_list()
    # The whole panel goes in: a few records' shop-level features must be the whole shop's.
    forecast = predict_panel(model, panel, attributes, horizon=horizon, items=wanted)
    if attributes is not None and attributes.height:
        extra = [c for c in attributes.columns if c not in forecast.columns]
        forecast = forecast.join(
            attributes.unique(ITEM_ID, keep="first").select(ITEM_ID, *extra), on=ITEM_ID, how="left"
        )
    return forecast.sort(ITEM_ID, PERIOD)
