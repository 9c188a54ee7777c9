"""The train handler end to end: a synthetic shop export in a local store -> a loadable model and its events."""

import asyncio
import hashlib
import json
import sys
from pathlib import Path

import pytest

import plastinka_train_function
from plastinka_forecasting.artifacts import load_model
from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_function_runtime import unpack_archive
from plastinka_storage import job_status_key
from plastinka_testing.handlers import HandlerContext, put_input, train_request
from plastinka_train_function import DeadlineError, plan_time

FUNCTION_DIR = Path(__file__).parents[1]


@pytest.fixture
def store(handler_store):
    return handler_store


@pytest.fixture
def shop(tmp_path, store):
    files = write_shop(generate_shop(25, 18, seed=3), tmp_path / "shop", fmt="csv")
    return put_input(store, files.sales), put_input(store, files.stock)


def request_for(sales, stock, url, **overrides):
    return train_request("job-train", sales, url, stock=stock, horizon=2, **overrides)


def test_training_stores_a_verifiable_model_and_reports_it(store, shop, callback_sink, tmp_path):
    request = request_for(*shop, callback_sink.url)

    result = plastinka_train_function.handle(request.model_dump_json(), HandlerContext("req-train"))

    assert result["status"] == "succeeded", callback_sink.events[-1]
    types = callback_sink.types()
    assert types[0] == "running" and types[-1] == "succeeded" and "progress" in types
    final = callback_sink.events[-1]
    artifacts = final["manifest"]["artifacts"]
    assert set(artifacts) == {"model", "model_meta", "metrics", "backtest"}
    for ref in artifacts.values():
        assert ref["key"].startswith("jobs/job-train/attempt-1/")
        assert hashlib.sha256(asyncio.run(store.get_bytes(ref["key"]))).hexdigest() == ref["sha256"]
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    unpack_archive(asyncio.run(store.get_bytes(artifacts["model"]["key"])), model_dir)
    model = load_model(model_dir)
    assert model.horizon == 2
    assert hashlib.sha256((model_dir / "meta.json").read_bytes()).hexdigest() == artifacts["model_meta"]["sha256"]
    metrics = json.loads(asyncio.run(store.get_bytes(artifacts["metrics"]["key"])))
    assert metrics["validation"]["rows_used"] > 0
    assert metrics["backtest_summary"]["windows"] == 3
    assert final["summary"]["horizon"] == 2 and final["summary"]["tuned"] is False
    assert final["stats"]["peak_memory_mb"] > 0
    status = json.loads(asyncio.run(store.get_bytes(job_status_key("job-train", 1))))
    assert status == final


def test_bad_data_fails_the_job_and_the_handler_returns(store, callback_sink, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_text("nothing;useful\n1;2\n")
    ref = put_input(store, junk)

    request = request_for(ref, None, callback_sink.url)
    result = plastinka_train_function.handle(request.model_dump_json(), HandlerContext("req-train"))

    assert result == {"status": "failed"}
    failed = callback_sink.events[-1]
    assert failed["type"] == "failed" and failed["error_type"] == "DataError"
    assert failed["retryable"] is False


def test_bad_params_fail_the_job(store, shop, callback_sink):
    request = request_for(*shop, callback_sink.url, params={"num_leaves": "many"})
    assert plastinka_train_function.handle(request.model_dump_json(), HandlerContext("req-train"))["status"] == "failed"
    assert callback_sink.events[-1]["type"] == "failed"


def test_the_time_plan_respects_the_deadline(shop):
    request = request_for(*shop, None, tune=True, time_budget_s=600)
    tune, budget = plan_time(900, request)
    assert tune and budget == 600
    tune, budget = plan_time(120, request)
    assert tune and budget < 120 - 30
    tune, _ = plan_time(40, request)
    assert not tune  # too little left to tune: train with defaults
    with pytest.raises(DeadlineError):
        plan_time(20, request)


def test_importing_index_does_not_import_the_heavy_libraries():
    import subprocess

    code = (
        "import sys, index; heavy = [m for m in ('polars', 'lightgbm', 'aioboto3', 'numpy') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=FUNCTION_DIR, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_public_names_resolve_once():
    names = plastinka_train_function.__all__
    assert len(names) == len(set(names))
    assert all(hasattr(plastinka_train_function, n) for n in names)
