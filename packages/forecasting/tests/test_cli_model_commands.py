"""CLI train / predict / backtest through main(argv), on a small generated shop."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from plastinka_forecasting.cli import main


@pytest.fixture(scope="module")
def shop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shop")
    assert main(["generate-sample", "--items", "60", "--months", "24", "--seed", "3", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def model_dir(shop_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "m"
    code = main(
        [
            "train",
            "--data", str(shop_dir / "sales.csv"),
            "--stock", str(shop_dir / "stock.csv"),
            "--freq", "M",
            "--horizon", "3",
            "--quantiles", "0.1,0.5,0.9",
            "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    return out


def test_train_writes_model_directory(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert {p.name for p in model_dir.iterdir()} >= {"model.txt", "meta.json", "history.parquet"}


def test_train_says_what_the_backtest_chose_per_segment(
    shop_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "--data", str(shop_dir / "sales.csv"), "--freq", "M", "--horizon", "2", "--out", str(tmp_path)]
    assert main(args) == 0
    chosen = [line for line in capsys.readouterr().out.splitlines() if line.startswith("chosen on held-out origins")]
    assert [line.split(", ")[1].split(":")[0] for line in chosen] == ["dormant", "smooth", "intermittent", "lumpy"]
    assert all("window-average share" in line or "model alone" in line for line in chosen), chosen


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_predict_writes_forecast(model_dir: Path, shop_dir: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"forecast{suffix}"
    assert main(["predict", "--model", str(model_dir), "--horizon", "2", "--out", str(out)]) == 0
    frame = (
        pl.read_csv(out, schema_overrides={"item_id": pl.Utf8})
        if suffix == ".csv"
        else pl.read_parquet(out)
        if suffix == ".parquet"
        else pl.read_excel(out)
    )
    assert frame.columns[:6] == ["item_id", "period", "mean", "q_0.1", "q_0.5", "q_0.9"]
    assert "artist" in frame.columns
    assert frame.height == 2 * frame["item_id"].n_unique()
    assert (frame["q_0.1"] <= frame["q_0.9"]).all()


def test_predict_with_data_and_errors(
    model_dir: Path, shop_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "f.csv"
    args = ["predict", "--model", str(model_dir), "--data", str(shop_dir / "sales.csv"), "--out", str(out)]
    assert main(args) == 0
    assert main(["predict", "--model", str(model_dir), "--horizon", "9", "--out", str(out)]) == 1
    assert "horizon" in capsys.readouterr().err
    assert main(["predict", "--model", str(tmp_path), "--out", str(out)]) == 1
    assert "not a model directory" in capsys.readouterr().err
    assert main(["predict", "--model", str(model_dir), "--out", str(tmp_path / "f.txt")]) == 1


def test_backtest_prints_model_beside_baselines(shop_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["backtest", "--data", str(shop_dir / "sales.csv"), "--freq", "M", "--horizon", "2", "--windows", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    for name in ("lightgbm", "naive", "seasonal_naive", "window_average", "croston_sba", "tsb"):
        assert name in out
    assert main([*args[:-1], "40"]) == 1
