"""Fixtures of the zip tests: the build module, built zips, and one clean virtualenv per requirements set."""

from __future__ import annotations

import hashlib
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


class CleanVenvs:
    """Virtualenvs holding only a zip's requirements.txt, one per distinct file (train and predict share one)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = target_python()
        self._made: dict[str, Path] = {}

    def for_requirements(self, requirements: Path) -> Path:
        digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
        if digest not in self._made:
            venv = self.root / digest
            uv = shutil.which("uv")
            if uv:
                subprocess.run([uv, "venv", "--quiet", "--python", self.python, str(venv)], check=True)
                install = [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
            else:
                subprocess.run([self.python, "-m", "venv", str(venv)], check=True)
                install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            subprocess.run([*install, "-r", str(requirements)], check=True)
            self._made[digest] = venv
        return self._made[digest] / "bin" / "python"


@pytest.fixture(scope="session")
def clean_venvs(tmp_path_factory) -> CleanVenvs:
    return CleanVenvs(tmp_path_factory.mktemp("venvs"))
