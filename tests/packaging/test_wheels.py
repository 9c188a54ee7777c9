"""Each shared package builds a wheel and installs alone in an empty virtualenv, siblings resolved by name.

The wheels of every workspace package go into one directory; pip (or uv) installs a single package from there
with `--find-links`, so a sibling it needs is found by its name, never by a path. Third-party requirements come
from the package index, as for any user.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["schemas", "storage", "store", "forecasting"]
# What pydantic itself brings: plastinka-schemas must add nothing else.
PYDANTIC_CLOSURE = {"pydantic", "pydantic-core", "annotated-types", "typing-extensions", "typing-inspection"}

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheels")
    uv, pip = shutil.which("uv"), shutil.which("pip")
    for name in PACKAGES:
        source = ROOT / "packages" / name
        if uv:
            _run(uv, "build", "--quiet", "--wheel", "--out-dir", out, source)
        elif pip:
            _run(pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", out, source)
        else:
            pytest.fail("neither uv nor pip is on PATH to build wheels with")
    return out


def _fresh_venv(path: Path) -> tuple[Path, list[str]]:
    uv = shutil.which("uv")
    if uv:
        _run(uv, "venv", "--quiet", "--python", sys.executable, path)
        python = path / "bin" / "python"
        return python, [uv, "pip", "install", "--quiet", "--python", str(python)]
    _run(sys.executable, "-m", "venv", path)
    python = path / "bin" / "python"
    return python, [str(python), "-m", "pip", "install", "--quiet"]


def _installed(python: Path) -> set[str]:
    code = "import importlib.metadata as m, json; print(json.dumps([d.metadata['Name'] for d in m.distributions()]))"
    names = json.loads(_run(python, "-c", code))
    return {n.lower().replace("_", "-") for n in names} - {"pip", "setuptools", "wheel"}


def test_wheels_declare_siblings_by_name_only(wheelhouse: Path) -> None:
    import zipfile

    for wheel in wheelhouse.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            text = archive.read(metadata).decode()
        requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
        assert not [r for r in requires if "file:" in r or " @ " in r], (wheel.name, requires)


@pytest.mark.parametrize("name", PACKAGES)
def test_package_installs_and_imports_alone(name: str, wheelhouse: Path, tmp_path: Path) -> None:
    python, install = _fresh_venv(tmp_path / "venv")
    _run(*install, "--find-links", wheelhouse, f"plastinka-{name}")
    module = f"plastinka_{name}"
    out = _run(python, "-c", f"import {module}; print(len({module}.__all__))")
    assert int(out) > 0
    installed = _installed(python)
    assert f"plastinka-{name}" in installed
    if name == "schemas":
        assert installed - {"plastinka-schemas"} <= PYDANTIC_CLOSURE, installed
