"""Artifacts: LightGBM text + JSON + Parquet, no pickle; a round trip predicts the same; tampering is refused."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import pytest

from plastinka_forecasting.api import predict, train
from plastinka_forecasting.artifacts import ArtifactError, load_model, save_model
from plastinka_forecasting.frames import SalesData
from plastinka_forecasting.model import TrainedModel

sys.path.insert(0, str(Path(__file__).parent))
from test_model_train_predict import FAST, small_shop


@pytest.fixture(scope="module")
def shop() -> SalesData:
    return small_shop(items=40, months=24, seed=5)


@pytest.fixture(scope="module")
def model(shop: SalesData) -> TrainedModel:
    return train(shop, frequency="M", horizon=2, quantiles=(0.1, 0.5, 0.9), params=FAST)


@pytest.fixture
def saved(tmp_path: Path, model: TrainedModel) -> Path:
    save_model(model, tmp_path / "model")
    return tmp_path / "model"


def test_round_trip_predicts_identically_without_pickle(
    saved: Path, shop: SalesData, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = sorted(p.name for p in saved.iterdir())
    assert files == ["attributes.parquet", "history.parquet", "meta.json", "model.txt"]
    assert (saved / "model.txt").read_text().startswith("tree")
    meta = json.loads((saved / "meta.json").read_text())
    for key in ("features", "quantiles", "frequency", "training_window", "data_fingerprint", "metrics", "versions"):
        assert key in meta
    assert meta["quantiles"] == [0.1, 0.5, 0.9]
    assert meta["versions"]["lightgbm"]

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("pickle must never be used to load a model")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    loaded = load_model(saved)
    retrained = train(shop, frequency="M", horizon=2, quantiles=(0.1, 0.5, 0.9), params=FAST)
    assert predict(loaded).equals(predict(retrained))
    assert predict(loaded, shop).equals(predict(retrained, shop))


@pytest.mark.parametrize("name", ["model.txt", "history.parquet", "attributes.parquet"])
def test_tampered_file_is_refused(saved: Path, name: str) -> None:
    path = saved / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="sha256"):
        load_model(saved)


def test_tampered_metadata_and_missing_files_are_refused(saved: Path) -> None:
    meta_path = saved / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["files"]["model.txt"] = "0" * 64
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="sha256"):
        load_model(saved)
    meta_path.write_text("{not json")
    with pytest.raises(ArtifactError, match="JSON"):
        load_model(saved)
    meta_path.unlink()
    with pytest.raises(ArtifactError, match="not a model directory"):
        load_model(saved)


def test_model_and_meta_alone_predict_from_given_sales(tmp_path: Path, model: TrainedModel, shop: SalesData) -> None:
    written = save_model(model, tmp_path / "lean", include_history=False)
    assert sorted(written) == ["meta", "model"]
    with pytest.raises(ArtifactError, match="without its history"):
        load_model(tmp_path / "lean")
    lean = load_model(tmp_path / "lean", require_history=False)
    assert predict(lean, shop).equals(predict(model, shop))
    with pytest.raises(ValueError, match="pass the sales"):
        predict(lean)
    # A full directory from which only model.txt and meta.json were copied still loads for prediction.
    full = tmp_path / "full"
    save_model(model, full)
    (full / "history.parquet").unlink()
    (full / "attributes.parquet").unlink()
    assert predict(load_model(full, require_history=False), shop).equals(predict(model, shop))
