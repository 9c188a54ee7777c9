"""The page and the docs' vendored assets ship inside the API's wheel (package data), licences included, so an
installed API serves them with no checkout and no CDN."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from plastinka_api.web.service import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_api_wheel_ships_every_static_file(tmp_path: Path) -> None:
    uv, pip = shutil.which("uv"), shutil.which("pip")
    source, out = str(ROOT / "services" / "api"), str(tmp_path)
    if uv:
        command = [uv, "build", "--quiet", "--wheel", "--out-dir", out, source]
    elif pip:
        command = [pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", out, source]
    else:
        pytest.fail("neither uv nor pip is on PATH to build the wheel with")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("plastinka_api-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"plastinka_api/web/static/{p.relative_to(STATIC_DIR).as_posix()}" for p in STATIC_DIR.rglob("*") if p.is_file()
    }
    assert expected - names == set()
    for licence in ("vendor/swagger-ui/LICENSE", "vendor/swagger-ui/NOTICE", "vendor/redoc/LICENSE"):
        assert f"plastinka_api/web/static/{licence}" in names
