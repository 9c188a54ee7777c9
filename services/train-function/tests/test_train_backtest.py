"""The training job's backtest: the trained configuration beside every baseline, shortened by the deadline."""

import asyncio
import hashlib
import json
from datetime import date

import pytest

import plastinka_train_function
from plastinka_forecasting.api import train
from plastinka_forecasting.backtest import MODEL_NAME, backtest
from plastinka_forecasting.baselines import BASELINES
from plastinka_forecasting.ingest import load_sales_bytes
from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_schemas import TrainRequest
from plastinka_storage import LocalObjectStore, dataset_key, job_attempt_prefix
from plastinka_train_function import backtesting
from plastinka_train_function.backtesting import feasible_windows, run_backtest


class ShrinkingContext:
    """The platform's context, with ``seconds[i]`` left at the i-th question (the last one repeats)."""

    def __init__(self, *seconds):
        self.request_id = "req-backtest"
        self._left = list(seconds)

    def get_remaining_time_in_millis(self):
        left = self._left.pop(0) if len(self._left) > 1 else self._left[0]
        return int(left * 1000)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("PLASTINKA_STORAGE_BACKEND", "local")
    monkeypatch.setenv("PLASTINKA_STORAGE_DIR", str(tmp_path / "storage"))
    return LocalObjectStore(tmp_path / "storage")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_shop(generate_shop(30, 20, seed=4, start=date(2021, 1, 1)), tmp_path_factory.mktemp("shop"))


def put(store, path):
    data = path.read_bytes()
    return asyncio.run(store.put_bytes(dataset_key(hashlib.sha256(data).hexdigest(), path.name), data))


def train_request(store, files, url, job_id="job-bt"):
    return TrainRequest(
        job_id=job_id,
        attempt=1,
        callback_url=url,
        callback_token="callback-token-0123456789",
        output_prefix=job_attempt_prefix(job_id, 1),
        dataset=put(store, files.sales),
        stock=put(store, files.stock),
        horizon=3,
    )


def backtest_report(store, event):
    ref = event["manifest"]["artifacts"]["backtest"]
    assert ref["key"].startswith("jobs/") and ref["key"].endswith(".json")
    return json.loads(asyncio.run(store.get_bytes(ref["key"], expected_sha256=ref["sha256"])))


def test_training_writes_a_backtest_of_the_model_beside_every_baseline(store, files, callback_sink):
    request = train_request(store, files, callback_sink.url)

    assert plastinka_train_function.handle(request.model_dump_json(), ShrinkingContext(900))["status"] == "succeeded"

    final = callback_sink.events[-1]
    report = backtest_report(store, final)
    assert [row["method"] for row in report["rows"]] == [MODEL_NAME, *BASELINES]
    assert report["windows"] == report["windows_requested"] == 3 and report["note"] is None
    assert report["cutoffs"] == sorted(report["cutoffs"]) and len(set(report["cutoffs"])) == 3
    assert report["horizon"] == report["step"] == 3 and report["frequency"] == "M"
    for row in report["rows"]:
        assert row["n"] > 0 and row["mae"] >= 0 and 0 <= row["coverage"] <= 1 and 0 < row["pit80"] <= 1
        assert {"rmsse", "spl", "bias", "units"} - set(row) == {"units"}
    assert "copies" in report["units"]["mae"]
    assert final["summary"]["backtest_windows"] == 3
    stockouts = report["order_stockouts"]
    assert stockouts["cover_months"] == 3 and [r["service_level"] for r in stockouts["rows"]] == [0.5, 0.8, 0.9, 0.95]
    for row in stockouts["rows"]:
        assert 0 <= row["stockout_rate"] <= 1 and row["target"] == pytest.approx(1 - row["service_level"])
        assert row["suggestions"] > 0
    metrics = json.loads(asyncio.run(store.get_bytes(final["manifest"]["artifacts"]["metrics"]["key"])))
    assert metrics["order_stockouts"] == stockouts


def test_the_windows_are_the_packages_rolling_origin_backtest(files):
    sales = load_sales_bytes(files.sales.read_bytes(), files.sales.name, files.stock.read_bytes(), files.stock.name)
    model = train(sales, horizon=3)

    ours = run_backtest(sales, model, time_left=lambda: 600.0)

    reference = backtest(sales, frequency=model.frequency, horizon=3, windows=3, params=model.params).table
    expected = {row["method"]: row for row in reference.iter_rows(named=True)}
    assert [c.isoformat() for c in backtest(sales, frequency="M", horizon=3, windows=3).cutoffs] == ours["cutoffs"]
    for row in ours["rows"]:
        for column in ("n", "mae", "rmsse", "spl", "coverage", "pit80", "bias"):
            assert row[column] == pytest.approx(expected[row["method"]][column], abs=1e-6), (row["method"], column)


def test_near_the_deadline_the_backtest_is_skipped_and_the_result_says_so(store, files, callback_sink):
    request = train_request(store, files, callback_sink.url, job_id="job-late")
    # Plenty of time when training is planned; 30 s (the reserve for storing and reporting) once it is done.
    context = ShrinkingContext(900, 30)

    assert plastinka_train_function.handle(request.model_dump_json(), context)["status"] == "succeeded"

    report = backtest_report(store, callback_sink.events[-1])
    assert report["windows"] == 0 and report["rows"] == []
    assert report["note"].startswith("ran 0 of 3 windows") and "deadline" in report["note"]


def test_a_window_starts_only_when_it_fits_in_the_time_left(files):
    sales = load_sales_bytes(files.sales.read_bytes(), files.sales.name)
    model = train(sales, horizon=3)
    left = [600.0, 600.0, 0.0]

    report = run_backtest(sales, model, time_left=lambda: left.pop(0))

    assert report["windows"] == 2 and len(report["cutoffs"]) == 2
    assert report["note"].startswith("ran 2 of 3 windows")
    assert [row["method"] for row in report["rows"]] == [MODEL_NAME, *BASELINES]


def test_short_histories_get_fewer_windows():
    assert feasible_windows(20, 3, 3) == 3
    assert feasible_windows(8, 3, 3) == 1  # one cut-off, 3 periods after the first 3 (+ the partial end)
    assert feasible_windows(5, 3, 3) == 0
    assert feasible_windows(12, 2, 10) == 4


def test_a_history_too_short_for_any_window_is_noted(tmp_path):
    files = write_shop(generate_shop(15, 4, seed=2, start=date(2022, 1, 1)), tmp_path)
    sales = load_sales_bytes(files.sales.read_bytes(), files.sales.name)
    model = train(sales, horizon=3)

    report = run_backtest(sales, model, time_left=lambda: 600.0)

    assert report["windows"] == 0 and report["rows"] == []
    assert "fit 0 of 3 windows" in report["note"]


def test_a_shop_too_large_for_the_pit_grid_gets_no_pit80_and_the_rest_of_the_table(files, monkeypatch):
    sales = load_sales_bytes(files.sales.read_bytes(), files.sales.name, files.stock.read_bytes(), files.stock.name)
    model = train(sales, horizon=3)
    monkeypatch.setattr(backtesting, "PIT_MAX_ROWS", 10)

    report = run_backtest(sales, model, time_left=lambda: 600.0, windows=1)

    assert all(row["pit80"] is None and row["coverage"] is not None for row in report["rows"])
    assert "Null when a window has over" in report["units"]["pit80"]
