"""Model artifacts: LightGBM text, JSON metadata and Parquet history. No pickle anywhere.

A model directory holds ``model.txt`` (the booster as LightGBM text), ``history.parquet`` (the training panel,
so ``predict`` works without data), ``attributes.parquet`` when item attributes were known, and ``meta.json``:
features, quantiles, frequency, horizon, training window, data fingerprint, calibration table, parameters,
metrics, library versions and the sha256 of every other file. Loading parses text, JSON and Parquet only, so
it cannot run code, and refuses any file whose sha256 differs from the metadata's.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from plastinka_forecasting.calibration import QuantileCalibration
from plastinka_forecasting.combine import Combination
from plastinka_forecasting.features import FEATURE_VERSION, FeatureConfig
from plastinka_forecasting.frames import ITEM_ID, PERIOD, TARGET
from plastinka_forecasting.model import BLEND_FEATURE, ModelParams, TrainedModel
from plastinka_forecasting.point import PointShrink
from plastinka_forecasting.totals import TotalCalibration
from plastinka_schemas import Frequency

__all__ = [
    "FORMAT_VERSION",
    "META_FILE",
    "MODEL_FILE",
    "ArtifactError",
    "data_fingerprint",
    "load_model",
    "model_metadata",
    "save_model",
]

FORMAT_VERSION = 1
MODEL_FILE = "model.txt"
META_FILE = "meta.json"
HISTORY_FILE = "history.parquet"
ATTRIBUTES_FILE = "attributes.parquet"


class ArtifactError(ValueError):
    """A model directory that is incomplete, tampered with or from an incompatible format."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_fingerprint(panel: pl.DataFrame) -> str:
    """sha256 of the panel's rows in canonical order and text form: equal data, equal fingerprint."""
    canonical = panel.select(ITEM_ID, PERIOD, TARGET).sort(ITEM_ID, PERIOD).write_csv(float_precision=6)
    return _sha256(canonical.encode())


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "lightgbm": lgb.__version__, "polars": pl.__version__}
    out["numpy"] = np.__version__
    try:
        out["plastinka-forecasting"] = importlib_metadata.version("plastinka-forecasting")
    except importlib_metadata.PackageNotFoundError:
        out["plastinka-forecasting"] = "unknown"
    return out


def model_metadata(model: TrainedModel) -> dict[str, Any]:
    """The JSON-ready description of ``model`` (without file checksums)."""
    first, last = model.first_period, model.last_period
    return {
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "frequency": model.frequency.value,
        "horizon": model.horizon,
        "quantiles": list(model.quantiles),
        "features": model.feature_names,
        "feature_config": model.config.to_json(),
        "vocab": model.vocab,
        "calibration": model.calibration.to_json(),
        "point_shrink": model.shrink.to_json(),
        "combination": model.combination.to_json() if model.combination is not None else None,
        "totals": model.totals.to_json() if model.totals is not None else None,
        "params": dict(vars(model.params)),
        "rounds": model.rounds,
        "blend": {"feature": BLEND_FEATURE, "weight": model.blend},
        "training_window": {
            "first_period": first.isoformat() if first else None,
            "last_period": last.isoformat() if last else None,
            "items": model.history.get_column(ITEM_ID).n_unique(),
            "rows": model.history.height,
        },
        "data_fingerprint": model.info.get("data_fingerprint") or data_fingerprint(model.history),
        "metrics": model.info,
        "versions": _versions(),
    }


def save_model(model: TrainedModel, directory: str | Path, *, include_history: bool = True) -> dict[str, Path]:
    """Write the model directory; returns the written files by name: ``model``, ``meta``, and with
    ``include_history`` also ``history`` and (when known) ``attributes``, which let ``predict`` run without data.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    blobs: dict[str, bytes] = {MODEL_FILE: model.booster.model_to_string(num_iteration=model.rounds).encode()}
    files = {MODEL_FILE: _sha256(blobs[MODEL_FILE])}
    written = {"model": out / MODEL_FILE}
    if include_history:
        history_path = out / HISTORY_FILE
        model.history.select(ITEM_ID, PERIOD, TARGET).write_parquet(history_path, statistics=False)
        files[HISTORY_FILE] = _sha256(history_path.read_bytes())
        written["history"] = history_path
    if include_history and model.attributes is not None and model.attributes.height:
        attributes_path = out / ATTRIBUTES_FILE
        model.attributes.write_parquet(attributes_path, statistics=False)
        files[ATTRIBUTES_FILE] = _sha256(attributes_path.read_bytes())
        written["attributes"] = attributes_path
    (out / MODEL_FILE).write_bytes(blobs[MODEL_FILE])
    meta = model_metadata(model)
    meta["files"] = files
    (out / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str), encoding="utf-8")
    written["meta"] = out / META_FILE
    return written


def _read_verified(directory: Path, name: str, files: dict[str, str]) -> bytes:
    path = directory / name
    if not path.is_file():
        raise ArtifactError(f"model directory {directory} lacks {name}")
    data = path.read_bytes()
    if _sha256(data) != files.get(name):
        raise ArtifactError(f"{path}: sha256 does not match the model metadata (file changed or corrupted)")
    return data


def _blend_weight(blend: dict[str, Any]) -> float:
    if blend.get("feature") != BLEND_FEATURE:
        raise ArtifactError(f"the model blends with {blend.get('feature')!r}, this version with {BLEND_FEATURE!r}")
    return float(blend["weight"])


def _feature_config(meta: dict[str, Any], meta_path: Path) -> FeatureConfig:
    try:
        config = FeatureConfig.from_json(meta["feature_config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{meta_path}: malformed model metadata ({exc})") from exc
    if config.version != FEATURE_VERSION:
        raise ArtifactError(
            f"{meta_path}: the model was trained with feature set {config.version} and this version computes "
            f"feature set {FEATURE_VERSION} (same names, other definitions): train the model again"
        )
    return config


def load_model(directory: str | Path, *, require_history: bool = True) -> TrainedModel:
    """Read a model directory written by :func:`save_model`, verifying every file's sha256.

    With ``require_history=False`` only ``model.txt`` and ``meta.json`` must be present (a prediction that
    brings its own sales needs nothing else); history files that are present are still verified.
    """
    root = Path(directory)
    meta_path = root / META_FILE
    if not meta_path.is_file():
        raise ArtifactError(f"{root} is not a model directory: {META_FILE} is missing")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{meta_path}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"{meta_path}: unsupported model format {meta.get('format_version')!r}")
    files = meta.get("files")
    if not isinstance(files, dict) or MODEL_FILE not in files:
        raise ArtifactError(f"{meta_path}: the file checksums are missing")
    model_text = _read_verified(root, MODEL_FILE, files).decode("utf-8")

    def optional(name: str) -> pl.DataFrame | None:
        if name not in files or (not require_history and not (root / name).is_file()):
            return None
        return pl.read_parquet(_read_verified(root, name, files))

    history = optional(HISTORY_FILE)
    if history is None:
        if require_history:
            raise ArtifactError(f"{root}: the model was saved without its history ({HISTORY_FILE})")
        history = pl.DataFrame(schema={ITEM_ID: pl.Utf8, PERIOD: pl.Date, TARGET: pl.Float64})
    attributes = optional(ATTRIBUTES_FILE)
    config = _feature_config(meta, meta_path)
    try:
        booster = lgb.Booster(model_str=model_text)
        params = ModelParams().with_overrides(meta["params"])
        return TrainedModel(
            booster=booster,
            calibration=QuantileCalibration.from_json(meta["calibration"]),
            shrink=PointShrink.from_json(meta["point_shrink"]),
            config=config,
            frequency=Frequency(meta["frequency"]),
            horizon=int(meta["horizon"]),
            quantiles=tuple(float(q) for q in meta["quantiles"]),
            feature_names=[str(n) for n in meta["features"]],
            vocab={str(k): [str(v) for v in vs] for k, vs in meta["vocab"].items()},
            params=params,
            history=history,
            attributes=attributes,
            rounds=int(meta["rounds"]),
            blend=_blend_weight(meta["blend"]),
            info=dict(meta.get("metrics") or {}),
            combination=Combination.from_json(meta["combination"]) if meta.get("combination") else None,
            # Models saved before the order list have no totals table: their orders use Poisson totals.
            totals=TotalCalibration.from_json(meta["totals"]) if meta.get("totals") else None,
        )
    except (KeyError, TypeError, ValueError, lgb.basic.LightGBMError) as exc:
        raise ArtifactError(f"{meta_path}: malformed model metadata ({exc})") from exc
