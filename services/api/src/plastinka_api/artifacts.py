"""Names of the artifacts in a function's manifest: the contract with the train and predict handlers."""

from __future__ import annotations

from typing import Final

from plastinka_schemas import JobKind

#: The trained model file (training).
MODEL: Final = "model"
#: The model's metadata (features, quantiles, training window) the predict function needs beside it.
MODEL_META: Final = "model_meta"
#: JSON metrics report (training).
METRICS: Final = "metrics"
#: JSON rolling-origin backtest report (training): ``rows`` (the table: one row per method) and its windows.
BACKTEST: Final = "backtest"
#: Parquet forecast (prediction): item_id, period, mean, q_<level>...
FORECAST: Final = "forecast"
#: Parquet order list (prediction): item_id, total_mean, total_quantile, stock, suggested_order, service_level,
#: cover_months, total_method. Missing from predictions made before the order list existed.
ORDERS: Final = "orders"

REQUIRED: Final[dict[JobKind, tuple[str, ...]]] = {
    JobKind.TRAINING: (MODEL, MODEL_META),
    JobKind.PREDICTION: (FORECAST,),
}

#: Small JSON artifacts kept in memory after verification.
JSON_ARTIFACTS: Final = frozenset({METRICS, MODEL_META, BACKTEST})
