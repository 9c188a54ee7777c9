"""The Plastinka forecasting core: shop-export ingestion, panels, LightGBM quantile forecasts, baselines, backtests.

Pure computation over data (polars + LightGBM): no cloud, no database. Names load lazily, so importing one
submodule (say ``plastinka_forecasting.ingest`` in a function handler) does not pull in LightGBM or matplotlib.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from plastinka_schemas.lazy import lazy_getattr

# LightGBM's OpenMP threads sleep at a barrier instead of spinning for it (unless the caller chose a policy): on a
# machine whose cores are shared (the development box, CI, a busy function host) a spinning thread burns the core
# its partner needs, and a 2-thread train ran 3-8x slower than with 1 thread. It changes no result, only waiting;
# it must be set before LightGBM loads the OpenMP runtime, so here, before any submodule imports lightgbm
# (``docs/forecasting.md``, "Speed and memory").
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if TYPE_CHECKING:
    from plastinka_forecasting.aggregate import (
        group_forecast,
    )
    from plastinka_forecasting.api import (
        item_attributes,
        predict,
        train,
    )
    from plastinka_forecasting.artifacts import (
        ArtifactError,
        data_fingerprint,
        load_model,
        model_metadata,
        save_model,
    )
    from plastinka_forecasting.backtest import (
        BACKTEST_LEVELS,
        BacktestResult,
        backtest,
        backtest_panel,
        format_table,
    )
    from plastinka_forecasting.baselines import (
        BASELINES,
        forecast_baseline,
    )
    from plastinka_forecasting.calibration import (
        QuantileCalibration,
    )
    from plastinka_forecasting.frames import (
        SalesData,
        ValidationReport,
        forecast_columns,
        quantile_column,
        quantile_columns,
    )
    from plastinka_forecasting.ingest import (
        DEFAULT_LIMITS,
        DataError,
        IngestLimits,
        dataset_report,
        format_report,
        item_name_key,
        load_sales,
        load_sales_bytes,
        normalize_barcode,
        validate_sales,
    )
    from plastinka_forecasting.metrics import (
        CUTOFF,
        DEMAND_CLASSES,
        METRICS,
        Evaluation,
        evaluate,
    )
    from plastinka_forecasting.model import (
        ModelParams,
        TrainedModel,
        fit_panel,
        predict_panel,
    )
    from plastinka_forecasting.panel import (
        build_panel,
        next_periods,
        truncate_panel,
    )
    from plastinka_forecasting.pit import (
        PIT_LEVELS,
        PitSummary,
        pit_summary,
    )
    from plastinka_forecasting.plots import (
        fan_chart,
    )
    from plastinka_forecasting.point import (
        PointShrink,
    )
    from plastinka_forecasting.synthetic import (
        ShopFiles,
        SyntheticShop,
        generate_shop,
        write_sample,
        write_shop,
    )
    from plastinka_forecasting.tuning import (
        TuningResult,
        tune_params,
    )

_EXPORTS: dict[str, str] = {
    "group_forecast": "aggregate",
    "DataError": "ingest",
    "IngestLimits": "ingest",
    "DEFAULT_LIMITS": "ingest",
    "load_sales": "ingest",
    "load_sales_bytes": "ingest",
    "validate_sales": "ingest",
    "format_report": "ingest",
    "dataset_report": "ingest",
    "normalize_barcode": "ingest",
    "item_name_key": "ingest",
    "generate_shop": "synthetic",
    "write_shop": "synthetic",
    "write_sample": "synthetic",
    "SyntheticShop": "synthetic",
    "ShopFiles": "synthetic",
    "BASELINES": "baselines",
    "forecast_baseline": "baselines",
    "evaluate": "metrics",
    "Evaluation": "metrics",
    "CUTOFF": "metrics",
    "METRICS": "metrics",
    "DEMAND_CLASSES": "metrics",
    "build_panel": "panel",
    "truncate_panel": "panel",
    "next_periods": "panel",
    "train": "api",
    "predict": "api",
    "item_attributes": "api",
    "ModelParams": "model",
    "TrainedModel": "model",
    "fit_panel": "model",
    "predict_panel": "model",
    "save_model": "artifacts",
    "load_model": "artifacts",
    "ArtifactError": "artifacts",
    "data_fingerprint": "artifacts",
    "model_metadata": "artifacts",
    "backtest": "backtest",
    "backtest_panel": "backtest",
    "BacktestResult": "backtest",
    "format_table": "backtest",
    "BACKTEST_LEVELS": "backtest",
    "tune_params": "tuning",
    "TuningResult": "tuning",
    "fan_chart": "plots",
    "PIT_LEVELS": "pit",
    "PitSummary": "pit",
    "pit_summary": "pit",
    "QuantileCalibration": "calibration",
    "PointShrink": "point",
    "SalesData": "frames",
    "ValidationReport": "frames",
    "quantile_column": "frames",
    "quantile_columns": "frames",
    "forecast_columns": "frames",
}

__all__ = [
    "BACKTEST_LEVELS",
    "BASELINES",
    "CUTOFF",
    "DEFAULT_LIMITS",
    "DEMAND_CLASSES",
    "METRICS",
    "PIT_LEVELS",
    "ArtifactError",
    "BacktestResult",
    "DataError",
    "Evaluation",
    "IngestLimits",
    "ModelParams",
    "PitSummary",
    "PointShrink",
    "QuantileCalibration",
    "SalesData",
    "ShopFiles",
    "SyntheticShop",
    "TrainedModel",
    "TuningResult",
    "ValidationReport",
    "backtest",
    "backtest_panel",
    "build_panel",
    "data_fingerprint",
    "dataset_report",
    "evaluate",
    "fan_chart",
    "fit_panel",
    "forecast_baseline",
    "forecast_columns",
    "format_report",
    "format_table",
    "generate_shop",
    "group_forecast",
    "item_attributes",
    "item_name_key",
    "load_model",
    "load_sales",
    "load_sales_bytes",
    "model_metadata",
    "next_periods",
    "normalize_barcode",
    "pit_summary",
    "predict",
    "predict_panel",
    "quantile_column",
    "quantile_columns",
    "save_model",
    "train",
    "truncate_panel",
    "tune_params",
    "validate_sales",
    "write_sample",
    "write_shop",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
