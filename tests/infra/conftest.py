"""Copies of the real infra/ tree that a test may break on purpose, so each rule is seen to fire."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"


@pytest.fixture
def infra_copy(tmp_path: Path) -> Path:
    """A writable copy of infra/terraform and infra/docker."""
    root = tmp_path / "infra"
    shutil.copytree(INFRA / "terraform", root / "terraform")
    shutil.copytree(INFRA / "docker", root / "docker")
    return root


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    """Replace one exact snippet in a file, failing loudly when the snippet is gone (the fixture went stale)."""

    def _edit(path: Path, old: str, new: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return _edit
