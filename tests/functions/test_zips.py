"""The function zips: layout, exact pins, limits, byte-identical rebuilds, and a run from a clean virtualenv."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest

from plastinka_api.invokers import LocalFunction, LocalFunctionInvoker, MemoryRecorder
from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_schemas import ArtifactRef, PredictRequest, TrainRequest
from plastinka_storage import LocalObjectStore, dataset_key, job_attempt_prefix, job_status_key

NAMES = ("train-function", "predict-function")


def unpack(zip_path: Path, into: Path) -> Path:
    into.mkdir(parents=True)
    assert not any(into.iterdir())
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(into)
    return into


def isolated_env(**extra: str) -> dict[str, str]:
    """Only what a process needs: nothing that could point it at the workspace's packages."""
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return {**keep, "PYTHONNOUSERSITE": "1", **extra}


def test_rebuilding_gives_byte_identical_zips_and_manifest(build_module, built_zips, tmp_path):
    build_module.build_all(tmp_path)
    for name in (*[f"{n}.zip" for n in NAMES], "manifest.json"):
        assert (tmp_path / name).read_bytes() == (built_zips / name).read_bytes(), name


@pytest.mark.parametrize("name", NAMES)
def test_layout_index_at_root_our_sources_and_exact_pins(built_zips, name):
    with zipfile.ZipFile(built_zips / f"{name}.zip") as archive:
        names = archive.namelist()
        infos = archive.infolist()
        requirements = archive.read("requirements.txt").decode().splitlines()
        index = archive.read("index.py").decode()
    assert names == sorted(names)
    assert "def handler(event, context)" in index
    module = name.replace("-", "_").replace("_function", "")
    assert f"plastinka_{module}_function/core.py" in names
    for package in ("plastinka_function_runtime", "plastinka_forecasting", "plastinka_storage", "plastinka_jobs"):
        assert f"{package}/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/tests/" in n]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    pins = [line for line in requirements if line and not line.startswith("#")]
    assert pins and all("==" in pin and ";" not in pin for pin in pins)
    assert not [pin for pin in pins if pin.startswith("plastinka")]
    for needed in ("lightgbm", "polars", "aioboto3", "httpx", "pydantic", "tenacity"):
        assert any(pin.startswith(f"{needed}==") for pin in pins), needed


def test_manifest_describes_each_zip(built_zips, build_module):
    manifest = json.loads((built_zips / "manifest.json").read_text())
    entries = {entry["name"]: entry for entry in manifest["functions"]}
    assert set(entries) == set(NAMES)
    for name, entry in entries.items():
        data = (built_zips / entry["zip"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data) < build_module.DIRECT_UPLOAD_LIMIT
        assert entry["runtime"] == "python312" and entry["entrypoint"] == "index.handler"
        assert entry["memory_mb"] >= 128 and entry["timeout_s"] > 0, name
    from plastinka_infra_checks import check_manifest  # the rules Terraform's deploy relies on

    assert check_manifest(built_zips / "manifest.json") == []


def test_size_limits_are_enforced(build_module):
    build = build_module
    build.check_limits("ok", 3_000_000, 10_000_000, vendored=False)
    with pytest.raises(build.BuildError, match="direct-upload"):
        build.check_limits("big", 3_600_000, 10_000_000, vendored=False)
    build.check_limits("bucket", 100 * 2**20, 600 * 2**20, vendored=True)
    with pytest.raises(build.BuildError, match="zipped"):
        build.check_limits("big", 129 * 2**20, 600 * 2**20, vendored=True)
    with pytest.raises(build.BuildError, match="unzipped"):
        build.check_limits("big", 100 * 2**20, 700 * 2**20, vendored=True)


def test_markers_are_evaluated_for_the_cloud_runtime(build_module):
    build = build_module
    from packaging.requirements import Requirement

    assert build._applies(Requirement('tomli; python_version < "3.11"'), []) is False
    assert build._applies(Requirement('uvloop; sys_platform == "linux"'), []) is True
    assert build._applies(Requirement('pywin32; sys_platform == "win32"'), []) is False
    assert build._applies(Requirement('psycopg; extra == "postgres"'), ["postgres"]) is True


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_the_zips_run_in_a_clean_virtualenv(built_zips, clean_venvs, callback_sink, tmp_path):
    storage = tmp_path / "storage"
    store = LocalObjectStore(storage)
    shop = write_shop(generate_shop(20, 18, seed=11), tmp_path / "shop", fmt="csv")
    refs = []
    for path in (shop.sales, shop.stock):
        data = path.read_bytes()
        refs.append(await store.put_bytes(dataset_key(hashlib.sha256(data).hexdigest(), path.name), data))
    sales, stock = refs
    env = isolated_env(PLASTINKA_STORAGE_BACKEND="local", PLASTINKA_STORAGE_DIR=str(storage))
    functions = {}
    for name in NAMES:
        directory = unpack(built_zips / f"{name}.zip", tmp_path / name)
        python = clean_venvs.for_requirements(directory / "requirements.txt")
        functions[name] = LocalFunction(path=directory, python=str(python), timeout_s=600, memory_mb=2048)
    recorder = MemoryRecorder()
    invoker = LocalFunctionInvoker(functions, recorder=recorder, env=env)
    common = {"callback_url": callback_sink.url, "callback_token": "zip-test-token-0123456789"}
    try:
        train = TrainRequest(
            job_id="zip-train", attempt=1, output_prefix=job_attempt_prefix("zip-train", 1),
            dataset=sales, stock=stock, horizon=2, **common,
        )  # fmt: skip
        started = await invoker.invoke("train-function", train.model_dump(mode="json"))
        run = await invoker.wait(started.invocation_id)
        assert run.returncode == 0, run.stderr
        assert run.outcome["status"] == "succeeded", callback_sink.events[-1]
        trained = callback_sink.events[-1]
        assert trained["type"] == "succeeded" and trained["invocation_id"] == started.invocation_id
        assert trained["stats"]["cold_start"] is True
        artifacts = trained["manifest"]["artifacts"]
        backtest = json.loads(await store.get_bytes(artifacts["backtest"]["key"]))
        assert backtest["rows"][0]["method"] == "lightgbm" and len(backtest["rows"]) > 1  # the zip's deps suffice

        predict = PredictRequest(
            job_id="zip-predict", attempt=1, output_prefix=job_attempt_prefix("zip-predict", 1),
            model=ArtifactRef(**artifacts["model"]), model_meta=ArtifactRef(**artifacts["model_meta"]),
            dataset=sales, stock=stock, **common,
        )  # fmt: skip
        started = await invoker.invoke("predict-function", predict.model_dump_json().encode())
        run = await invoker.wait(started.invocation_id)
        assert run.returncode == 0, run.stderr
    finally:
        await invoker.aclose()
    assert [e.status for e in recorder.entries] == [200, 200]
    types = callback_sink.types()
    assert types.count("running") == 2 and types.count("succeeded") == 2
    forecast = callback_sink.events[-1]["manifest"]["artifacts"]["forecast"]
    data = await store.get_bytes(forecast["key"], expected_sha256=forecast["sha256"])
    assert data[:4] == b"PAR1"
    assert json.loads(await store.get_bytes(job_status_key("zip-predict", 1)))["type"] == "succeeded"
    # The handler ran on the unpacked sources, not on anything installed in the test environment.
    assert "site-packages/plastinka" not in run.stderr


def test_the_build_refuses_an_environment_missing_a_dependency(build_module, monkeypatch):
    build = build_module
    from importlib import metadata

    real = metadata.distribution

    def missing_lightgbm(name):
        if name == "lightgbm":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(build.metadata, "distribution", missing_lightgbm)
    projects = build.workspace_projects()
    with pytest.raises(build.BuildError, match="lightgbm is needed"):
        build.pinned_requirements(build.first_party_closure("plastinka-train-function", projects))


def test_first_party_closure_follows_siblings_by_name(build_module):
    build = build_module
    closure = [p.name for p in build.first_party_closure("plastinka-predict-function", build.workspace_projects())]
    assert closure == sorted(closure)
    assert {"plastinka-predict-function", "plastinka-function-runtime", "plastinka-forecasting"} <= set(closure)
    assert "plastinka-api" not in closure and "plastinka-train-function" not in closure
    assert Path(build.ROOT, "services", "predict-function", "index.py").exists()


def test_vendoring_unpacks_wheels_without_tests_or_records(build_module, monkeypatch, tmp_path):
    """The --vendor path with a local wheel standing in for the PyPI download."""
    wheel = tmp_path / "wheels" / "fakepkg-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("fakepkg/__init__.py", "VALUE = 1\n")
        archive.writestr("fakepkg/tests/test_fake.py", "def test(): pass\n")
        archive.writestr("fakepkg/__pycache__/x.cpython-312.pyc", b"\0")
        archive.writestr("fakepkg-1.0.dist-info/METADATA", "Name: fakepkg\nVersion: 1.0\n")
        archive.writestr("fakepkg-1.0.dist-info/RECORD", "")
    asked = []

    def fake_download(requirements, into):
        asked.extend(requirements)
        return [wheel]

    monkeypatch.setattr(build_module, "download_wheels", fake_download)
    built = build_module.build_function("predict-function", tmp_path / "out", vendor=True)

    with zipfile.ZipFile(built.path) as archive:
        names = set(archive.namelist())
        pins = archive.read("vendored-requirements.txt").decode().split()
    assert {"fakepkg/__init__.py", "fakepkg-1.0.dist-info/METADATA", "index.py"} <= names
    assert not {n for n in names if "/tests/" in n or n.endswith((".pyc", "RECORD"))}
    assert "requirements.txt" not in names  # nothing left for the platform to install
    assert pins == asked and pins
    assert built.vendored and built.manifest_entry()["vendored"] is True
    assert built.unzipped_size > built.size > 0
