"""The Yandex path end to end on loopback: SA key -> IAM token -> FunctionService -> async POST -> the real train
handler in a subprocess -> signed status events and the status object."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from plastinka_api.invokers import (
    MemoryRecorder,
    YandexFunction,
)
from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_storage import LocalObjectStore, dataset_key, job_status_key
from plastinka_testing.handlers import train_request
from plastinka_testing.yandex import Scripted

TRAIN_DIR = Path(__file__).resolve().parents[2] / "services" / "train-function"


async def test_train_through_the_yandex_invoker_and_the_emulated_platform(
    yandex_cloud, functions_emulator, callback_sink, tmp_path
):
    storage = tmp_path / "storage"
    store = LocalObjectStore(storage)
    shop = write_shop(generate_shop(15, 15, seed=2), tmp_path / "shop", fmt="csv")
    data = shop.sales.read_bytes()
    sales = await store.put_bytes(dataset_key(hashlib.sha256(data).hexdigest(), "sales.csv"), data)
    functions_emulator.env = {**os.environ, "PLASTINKA_STORAGE_BACKEND": "local", "PLASTINKA_STORAGE_DIR": str(storage)}
    yandex_cloud.add_function("d4etrain", functions_emulator.register("d4etrain", TRAIN_DIR), {"$latest": "v7"})
    functions_emulator.script("d4etrain", Scripted(503))  # one transient refusal before the platform accepts
    recorder = MemoryRecorder()
    invoker = yandex_cloud.invoker({"train": YandexFunction("d4etrain")}, recorder)
    request = train_request("yc-train", sales, callback_sink.url, horizon=2)
    try:
        result = await invoker.invoke("train", request.model_dump(mode="json"))
    finally:
        await invoker.aclose()
    [run] = functions_emulator.wait(timeout=300)

    assert run.process.returncode == 0, run.stderr.decode()
    assert result.attempts == 2 and result.version_id == "v7"
    assert [(e.status, e.job_id) for e in recorder.entries] == [(503, "yc-train"), (202, "yc-train")]
    assert run.outcome()["status"] == "succeeded"
    final = callback_sink.events[-1]
    assert final["type"] == "succeeded"
    assert final["invocation_id"] == result.invocation_id == run.request_id
    assert callback_sink.types()[0] == "running"
    status = json.loads(await store.get_bytes(job_status_key("yc-train", 1)))
    assert status == final
    model = final["manifest"]["artifacts"]["model"]
    assert hashlib.sha256(await store.get_bytes(model["key"])).hexdigest() == model["sha256"]
