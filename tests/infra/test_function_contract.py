"""Terraform's function settings agree with what each function project declares for its zip and manifest."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from plastinka_infra_checks import EXPECTED_ENTRYPOINT, EXPECTED_RUNTIME, FUNCTION_ARTIFACTS, load_directory

REPO = Path(__file__).resolve().parents[2]


def declared(artifact: str) -> dict[str, object]:
    """The ``[tool.plastinka.function]`` table infra/functions/build.py turns into the manifest entry."""
    data = tomllib.loads((REPO / "services" / artifact / "pyproject.toml").read_text(encoding="utf-8"))
    table: dict[str, object] = data["tool"]["plastinka"]["function"]
    return table


@pytest.mark.parametrize("artifact", FUNCTION_ARTIFACTS)
def test_each_function_project_declares_the_conventions_terraform_enforces(artifact: str) -> None:
    table = declared(artifact)
    assert table["name"] == artifact
    assert (table["runtime"], table["entrypoint"]) == (EXPECTED_RUNTIME, EXPECTED_ENTRYPOINT)
    assert (REPO / "services" / artifact / "index.py").is_file()


@pytest.mark.parametrize("artifact", FUNCTION_ARTIFACTS)
def test_terraform_defaults_size_each_function_as_its_project_does(artifact: str) -> None:
    config = load_directory(REPO / "infra" / "terraform")
    functions = config.locals["functions"]
    [(key, spec)] = [(k, v) for k, v in functions.items() if v["artifact"] == artifact]
    variables = {v.labels[0]: v.body for v in config.of_kind("variable")}
    memory_var = spec["memory_mb"].removeprefix("${var.").removesuffix("}")
    timeout_var = spec["timeout_s"].removeprefix("${var.").removesuffix("}")
    assert memory_var == f"{key}_memory_mb" and timeout_var == f"{key}_timeout_s"
    table = declared(artifact)
    assert variables[memory_var]["default"] == table["memory_mb"]
    assert variables[timeout_var]["default"] == table["timeout_s"]
