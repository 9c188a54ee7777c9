"""Fixtures of the zip tests: the build module, the built zips, and the CPython 3.12 that runs them isolated."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "infra" / "functions" / "build.py"


def load_build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plastinka_functions_build", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def build_module() -> ModuleType:
    return load_build_module()


@pytest.fixture(scope="session")
def built_zips(build_module, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build_module.build_all(out)
    return out


def target_python() -> str:
    """A CPython 3.12 like the cloud runtime when this machine has one, else the interpreter running the tests."""
    candidates = sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    found = shutil.which("python3.12")
    for candidate in [*map(str, candidates), *([found] if found else [])]:
        probe = subprocess.run([candidate, "-c", "import sys"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return sys.executable


@pytest.fixture(scope="session")
def python312() -> str:
    """The interpreter the isolated zip runs use (a CPython 3.12 when the machine has one)."""
    return target_python()
