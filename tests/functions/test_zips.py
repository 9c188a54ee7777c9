"""The function zips: self-contained layout, exact pins, limits, native libraries, byte-identical rebuilds, and
a training and a prediction run by an isolated CPython 3.12 that sees nothing but the unpacked zip."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import stat
import subprocess
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


def isolated_python(python: str, function_dir: Path, into: Path) -> Path:
    """A wrapper running ``python -I -S``: no environment variables, no user or system site-packages, so the
    standard library and what the runner puts on ``sys.path`` (the unpacked zip) are all it can import; with
    the zip's ``shared-libs/`` on ``LD_LIBRARY_PATH``, as the cloud runtime sets it."""
    wrapper = into / f"python-{function_dir.name}"
    shared = function_dir / "shared-libs"
    wrapper.write_text(f'#!/bin/sh\nLD_LIBRARY_PATH="{shared}" exec "{python}" -I -S "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


# Run by the isolated interpreter inside an unpacked zip: import the handler and every top-level package the zip
# carries, check that each came from the zip, that libgomp was loaded from shared-libs/, and that botocore (cut to
# its S3 model) still makes an S3 client.
IMPORT_CHECK = r"""
import importlib, json, sys
root = sys.argv[1]
sys.path.insert(0, root)
assert not [p for p in sys.path if "site-packages" in p], sys.path
import index
tops = json.loads(sys.argv[2])
failed = {}
for name in tops:
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
        continue
    where = getattr(module, "__file__", None) or ""
    if not where.startswith(root):
        failed[name] = f"imported from {where}"
import numpy, lightgbm
lightgbm.train({"objective": "quantile", "alpha": 0.5, "verbose": -1, "num_threads": 2},
               lightgbm.Dataset(numpy.arange(200.0).reshape(100, 2), numpy.arange(100.0)), 3)
gomp = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libgomp" in line})
import botocore.session
client = botocore.session.get_session().create_client(
    "s3", region_name="ru-central1", endpoint_url="https://storage.yandexcloud.net",
    aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secretexample")
print(json.dumps({"failed": failed, "gomp": gomp, "s3": type(client).__name__}))
"""


def is_python312(python: str) -> bool:
    command = [python, "-c", "import sys; print(sys.version_info[:2])"]
    probe = subprocess.run(command, capture_output=True, text=True, check=False)
    return probe.stdout.strip() == "(3, 12)"


def import_check(wrapper: Path, directory: Path, cwd: Path) -> dict[str, object]:
    """Run ``IMPORT_CHECK`` with the isolated interpreter and an empty environment; its JSON report."""
    check = subprocess.run(
        [str(wrapper), "-c", IMPORT_CHECK, str(directory), json.dumps(top_level_modules(directory))],
        capture_output=True, text=True, env={}, cwd=cwd, timeout=300, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    report: dict[str, object] = json.loads(check.stdout.splitlines()[-1])
    return report


def top_level_modules(directory: Path) -> list[str]:
    """The importable top-level names of an unpacked zip: packages, modules and extension modules."""
    names = set()
    for entry in directory.iterdir():
        if entry.is_dir() and (entry / "__init__.py").exists():
            names.add(entry.name)
        elif entry.suffix == ".py" and entry.name != "index.py":
            names.add(entry.stem)
        elif entry.suffix == ".so":
            names.add(entry.name.split(".")[0])
    return sorted(names)


def test_rebuilding_gives_byte_identical_zips_and_manifest(build_module, built_zips, tmp_path):
    build_module.build_all(tmp_path)
    for name in (*[f"{n}.zip" for n in NAMES], "manifest.json"):
        assert (tmp_path / name).read_bytes() == (built_zips / name).read_bytes(), name


@pytest.mark.parametrize("name", NAMES)
def test_layout_index_at_root_our_sources_vendored_wheels_and_exact_pins(built_zips, name):
    with zipfile.ZipFile(built_zips / f"{name}.zip") as archive:
        names = archive.namelist()
        infos = archive.infolist()
        requirements = archive.read("vendored-requirements.txt").decode().splitlines()
        index = archive.read("index.py").decode()
        licence = archive.read("shared-libs/libgomp.so.1.LICENSE.txt").decode()
    assert names == sorted(names)
    assert "def handler(event, context)" in index
    module = name.replace("-", "_").replace("_function", "")
    assert f"plastinka_{module}_function/core.py" in names
    for package in ("plastinka_function_runtime", "plastinka_forecasting", "plastinka_storage", "plastinka_store"):
        assert f"{package}/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyi", "/RECORD")) or "/tests/" in n]
    assert "requirements.txt" not in names  # nothing left for the platform's builder to install
    for vendored in ("polars/__init__.py", "lightgbm/lib/lib_lightgbm.so", "numpy/__init__.py", "aioboto3/__init__.py"):
        assert vendored in names, vendored
    assert "shared-libs/libgomp.so.1" in names and "GCC RUNTIME LIBRARY EXCEPTION" in licence
    assert not [n for n in names if n.startswith("botocore/data/ec2/")]  # only S3's model
    assert not [n for n in names if n.startswith(("sqlmodel/", "sqlalchemy/", "alembic/", "matplotlib/"))]
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
        assert entry["size"] == len(data) <= build_module.MAX_ZIP_BYTES
        assert entry["vendored"] is True and entry["shared_libs"] == ["libgomp.so.1"]
        assert 0 < sum(v["zipped"] for v in entry["contents"].values()) < entry["size"]
        assert entry["runtime"] == "python312" and entry["entrypoint"] == "index.handler"
        assert entry["memory_mb"] >= 128 and entry["timeout_s"] > 0, name
    from plastinka_infra_checks import check_manifest  # the rules Terraform's deploy relies on

    assert check_manifest(built_zips / "manifest.json") == []


def test_size_limits_are_enforced(build_module):
    build = build_module
    build.check_limits("ok", 3_000_000, 10_000_000, vendored=False)
    with pytest.raises(build.BuildError, match="direct-upload"):
        build.check_limits("big", 3_600_000, 10_000_000, vendored=False)
    build.check_limits("bucket", 100_000_000, 600 * 2**20, vendored=True)
    with pytest.raises(build.BuildError, match="zipped"):
        build.check_limits("big", 100_000_001, 600 * 2**20, vendored=True)  # headroom under 128 MB and 128 MiB
    with pytest.raises(build.BuildError, match="unzipped"):
        build.check_limits("big", 90_000_000, 700 * 2**20, vendored=True)


def test_markers_are_evaluated_for_the_cloud_runtime(build_module):
    build = build_module
    from packaging.requirements import Requirement

    assert build._applies(Requirement('tomli; python_version < "3.11"'), []) is False
    assert build._applies(Requirement('uvloop; sys_platform == "linux"'), []) is True
    assert build._applies(Requirement('pywin32; sys_platform == "win32"'), []) is False
    assert build._applies(Requirement('psycopg; extra == "postgres"'), ["postgres"]) is True


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_an_isolated_python312_runs_train_and_predict_from_the_zips_alone(
    built_zips, python312, callback_sink, tmp_path
):
    python = python312
    if not await asyncio.to_thread(is_python312, python):
        pytest.skip("needs a CPython 3.12, the runtime the zips are built for")
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
        wrapper = isolated_python(python, directory, tmp_path)
        report = await asyncio.to_thread(import_check, wrapper, directory, tmp_path)
        assert report["failed"] == {}, report["failed"]
        assert report["gomp"] == [str(directory / "shared-libs" / "libgomp.so.1")], report["gomp"]
        assert report["s3"] == "S3"
        functions[name] = LocalFunction(path=directory, python=str(wrapper), timeout_s=600, memory_mb=2048)
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
    assert "site-packages" not in run.stderr


@pytest.mark.parametrize("name", NAMES)
def test_every_native_library_resolves_in_the_zip_or_the_base_set(build_module, built_zips, name):
    with zipfile.ZipFile(built_zips / f"{name}.zip") as archive:
        files = {n: archive.read(n) for n in archive.namelist() if ".so" in n}
    assert "libgomp.so.1" in build_module.elf_needed(files["lightgbm/lib/lib_lightgbm.so"])
    assert build_module.unresolved_libraries(files) == []
    del files["shared-libs/libgomp.so.1"]
    assert build_module.unresolved_libraries(files) == ["lightgbm/lib/lib_lightgbm.so: libgomp.so.1"]


def test_elf_needed_reads_the_dynamic_section_and_ignores_other_files(build_module):
    import _ctypes  # an extension module of the interpreter running the tests: an ELF shared object

    needed = build_module.elf_needed(Path(_ctypes.__file__).read_bytes())
    assert needed is not None and "libc.so.6" in needed and all(".so" in n for n in needed)
    assert build_module.elf_needed(b"#!/bin/sh\n") is None


def test_subset_patterns_match_folders_and_segments(build_module):
    match = build_module.path_matches
    assert match("scipy/_lib/_util.py", "scipy/_lib/") and not match("scipy/_lib", "scipy/_lib/")
    assert match("scipy/__init__.py", "scipy/*.py") and not match("scipy/stats/_x.py", "scipy/*.py")
    assert match("scipy-1.17.1.dist-info/METADATA", "scipy-*.dist-info/")
    subset = build_module.SUBSETS["scipy"]
    assert build_module._subset_ships(subset, "scipy/sparse/_base.py")
    assert not build_module._subset_ships(subset, "scipy/sparse/linalg/_interface.py")
    assert not build_module._subset_ships(subset, "scipy/stats/_distn_infrastructure.py")


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
    """The vendoring path with a local wheel standing in for the PyPI download."""
    wheel = tmp_path / "wheels" / "fakepkg-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("fakepkg/__init__.py", "VALUE = 1\n")
        archive.writestr("fakepkg/tests/test_fake.py", "def test(): pass\n")
        archive.writestr("fakepkg/__init__.pyi", "VALUE: int\n")
        archive.writestr("botocore/data/s3/2006-03-01/service-2.json.gz", b"s3")
        archive.writestr("botocore/data/ec2/2016-11-15/service-2.json.gz", b"ec2")
        archive.writestr("botocore/data/endpoints.json", b"{}")
        archive.writestr("fakepkg/__pycache__/x.cpython-312.pyc", b"\0")
        archive.writestr("fakepkg-1.0.dist-info/METADATA", "Name: fakepkg\nVersion: 1.0\n")
        archive.writestr("fakepkg-1.0.dist-info/RECORD", "")
    asked = []

    def fake_download(requirements, into):
        asked.extend(requirements)
        return [wheel]

    monkeypatch.setattr(build_module, "download_wheels", fake_download)
    monkeypatch.setattr(build_module, "SHARED_LIBS", ())
    built = build_module.build_function("predict-function", tmp_path / "out", vendor=True)

    with zipfile.ZipFile(built.path) as archive:
        names = set(archive.namelist())
        pins = archive.read("vendored-requirements.txt").decode().split()
    assert {"fakepkg/__init__.py", "fakepkg-1.0.dist-info/METADATA", "index.py"} <= names
    assert {"botocore/data/s3/2006-03-01/service-2.json.gz", "botocore/data/endpoints.json"} <= names
    assert not {n for n in names if "/tests/" in n or n.endswith((".pyc", ".pyi", "RECORD")) or "/ec2/" in n}
    assert "requirements.txt" not in names  # nothing left for the platform to install
    assert pins == asked and pins
    assert built.vendored and built.manifest_entry()["vendored"] is True
    assert built.unzipped_size > built.size > 0
