"""The committed JSON Schemas are the function contract: any change to a payload shows up as a diff."""

import os
from pathlib import Path

import pytest

from plastinka_schemas.contracts import contract_schemas, render

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"


@pytest.mark.parametrize("name", sorted(contract_schemas()))
def test_committed_schema_matches(name):
    path = CONTRACTS / f"{name}.json"
    text = render(contract_schemas()[name])
    if os.environ.get("PLASTINKA_UPDATE_CONTRACTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with PLASTINKA_UPDATE_CONTRACTS=1 and commit it"
    assert path.read_text(encoding="utf-8") == text, (
        f"{name} changed: review, then regenerate with PLASTINKA_UPDATE_CONTRACTS=1"
    )


def test_no_stale_schema_files():
    committed = {p.stem for p in CONTRACTS.glob("*.json")}
    assert committed == set(contract_schemas())
