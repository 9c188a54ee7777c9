"""The package's public names resolve, and every setting is documented in the README."""

from __future__ import annotations

from pathlib import Path

import plastinka_api
from plastinka_api.settings import Settings

README = Path(__file__).resolve().parents[3] / "README.md"


def test_all_names_resolve_once() -> None:
    assert len(plastinka_api.__all__) == len(set(plastinka_api.__all__))
    for name in plastinka_api.__all__:
        assert getattr(plastinka_api, name) is not None


def test_every_setting_is_in_the_readme_table() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"| `PLASTINKA_{name.upper()}` |" not in text]
    assert missing == []


def test_readme_quick_start_is_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]
    assert commands == ["pip install hatch && hatch run serve", "hatch test"]
