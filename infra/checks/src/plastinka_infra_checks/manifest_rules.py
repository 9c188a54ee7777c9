"""Check a functions build manifest (``dist/functions/manifest.json``) against the deployment's conventions."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from plastinka_infra_checks.findings import Finding
from plastinka_infra_checks.terraform_rules import EXPECTED_ENTRYPOINT, EXPECTED_RUNTIME, FUNCTION_ARTIFACTS

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_ZIP_BYTES = 100_000_000  # infra/functions/build.py's limit: under 128 MB whether Yandex means 10^6 or 2^20


def manifest_entries(manifest: Any) -> list[dict[str, Any]]:
    """The per-function entries, whether the manifest is ``{"functions": [...]}`` or a bare list."""
    entries = manifest.get("functions", []) if isinstance(manifest, dict) else manifest
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_manifest(path: Path, *, verify_zips: bool = True) -> list[Finding]:
    """Both artifacts present, with runtime, entrypoint, a zip named after them, sha256 and size of that zip."""
    where = str(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [Finding("manifest", where, f"unreadable: {exc}")]
    findings: list[Finding] = []
    entries = {str(e.get("name")): e for e in manifest_entries(manifest)}
    for name in FUNCTION_ARTIFACTS:
        entry = entries.get(name)
        if entry is None:
            findings.append(Finding("manifest", where, f"no entry named {name}"))
            continue
        findings.extend(_entry_findings(path.parent, f"{where}:{name}", name, entry, verify_zips))
    return sorted(findings)


def _entry_findings(base: Path, where: str, name: str, entry: dict[str, Any], verify: bool) -> Iterator[Finding]:
    if entry.get("runtime") != EXPECTED_RUNTIME:
        yield Finding("manifest-runtime", where, f"runtime is {entry.get('runtime')!r}, not {EXPECTED_RUNTIME}")
    if entry.get("entrypoint") != EXPECTED_ENTRYPOINT:
        got = entry.get("entrypoint")
        yield Finding("manifest-entrypoint", where, f"entrypoint is {got!r}, not {EXPECTED_ENTRYPOINT}")
    zip_name = str(entry.get("zip", ""))
    if not (zip_name.endswith(".zip") and Path(zip_name).name.startswith(name)):
        yield Finding("manifest-zip", where, f"zip {zip_name!r} is not a {name}*.zip file")
    sha = str(entry.get("sha256", ""))
    if not _SHA256.match(sha):
        yield Finding("manifest-sha256", where, "sha256 is not 64 lowercase hex digits")
    size = entry.get("size")
    if not isinstance(size, int) or size <= 0:
        yield Finding("manifest-size", where, "size must be a positive byte count")
    elif size > MAX_ZIP_BYTES:
        yield Finding("manifest-size", where, f"{size} bytes is over {MAX_ZIP_BYTES} (headroom under 128 MB/MiB)")
    if entry.get("vendored") is not True:
        yield Finding("manifest-vendored", where, "the zip must carry its dependencies (the builder installs nothing)")
    if verify and zip_name.endswith(".zip"):
        zip_path = base / zip_name
        if not zip_path.is_file():
            yield Finding("manifest-zip", where, f"{zip_path} does not exist")
        else:
            if _SHA256.match(sha) and _sha256(zip_path) != sha:
                yield Finding("manifest-sha256", where, f"{zip_path} does not hash to the recorded sha256")
            if isinstance(size, int) and zip_path.stat().st_size != size:
                yield Finding("manifest-size", where, f"{zip_path} is not {size} bytes")
