"""A functions build manifest is checked against the zips it names and the conventions Terraform relies on."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from plastinka_infra_checks import EXPECTED_ENTRYPOINT, EXPECTED_RUNTIME, check_manifest

REPO = Path(__file__).resolve().parents[2]


def build(tmp_path: Path, **override: object) -> Path:
    """Two real zips with an index.py, and a manifest that describes them."""
    entries = []
    for name in ("train-function", "predict-function"):
        zpath = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(zpath, "w") as zf:
            zf.writestr("index.py", "def handler(event, context):\n    return {}\n")
        data = zpath.read_bytes()
        entry = {
            "name": name,
            "zip": zpath.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "entrypoint": EXPECTED_ENTRYPOINT,
            "runtime": EXPECTED_RUNTIME,
            "memory_mb": 1024,
            "timeout_s": 600,
            "vendored": True,
        }
        entry.update(override)
        entries.append(entry)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"functions": entries}), encoding="utf-8")
    return manifest


def test_a_consistent_manifest_passes(tmp_path: Path) -> None:
    assert check_manifest(build(tmp_path)) == []


@pytest.mark.parametrize(
    ("override", "rule"),
    [
        ({"runtime": "python311"}, "manifest-runtime"),
        ({"entrypoint": "main.handler"}, "manifest-entrypoint"),
        ({"sha256": "0" * 64}, "manifest-sha256"),
        ({"sha256": "not-hex"}, "manifest-sha256"),
        ({"size": 1}, "manifest-size"),
        ({"size": 100_000_001}, "manifest-size"),
        ({"vendored": False}, "manifest-vendored"),
        ({"zip": "other.zip"}, "manifest-zip"),
    ],
)
def test_each_manifest_rule_fires(tmp_path: Path, override: dict[str, object], rule: str) -> None:
    assert rule in {f.rule for f in check_manifest(build(tmp_path, **override))}


def test_a_changed_zip_no_longer_matches_its_sha256(tmp_path: Path) -> None:
    manifest = build(tmp_path)
    with zipfile.ZipFile(tmp_path / "train-function.zip", "a") as zf:
        zf.writestr("extra.py", "")
    assert {"manifest-sha256", "manifest-size"} <= {f.rule for f in check_manifest(manifest)}


def test_a_missing_function_or_an_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    manifest = build(tmp_path)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["functions"] = data["functions"][:1]
    manifest.write_text(json.dumps(data), encoding="utf-8")
    assert any("predict-function" in f.message for f in check_manifest(manifest))
    manifest.write_text("{", encoding="utf-8")
    assert [f.rule for f in check_manifest(manifest)] == ["manifest"]


def test_terraform_reads_only_fields_the_manifest_carries(tmp_path: Path) -> None:
    """Every ``manifest_functions[...].<field>`` Terraform reads is a field a checked manifest must have."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "infra" / "terraform").glob("*.tf"))
    read = set(re.findall(r"manifest_functions\[[^\]]+\]\.(\w+)", text))
    assert read >= {"sha256", "zip", "runtime", "entrypoint"}
    entry = json.loads(build(tmp_path).read_text(encoding="utf-8"))["functions"][0]
    assert read <= set(entry)
