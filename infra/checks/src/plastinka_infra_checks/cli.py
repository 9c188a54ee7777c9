"""``plastinka-infra-check``: every offline check of ``infra/`` in one command, non-zero exit on any finding."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from plastinka_infra_checks.checkov import run_checkov
from plastinka_infra_checks.dockerfile_rules import check_dockerfile
from plastinka_infra_checks.findings import Finding
from plastinka_infra_checks.hcl import HclError, load_directory
from plastinka_infra_checks.manifest_rules import check_manifest
from plastinka_infra_checks.terraform_fmt import check_format
from plastinka_infra_checks.terraform_rules import check_terraform


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plastinka-infra-check", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("infra"), help="the infra/ directory (default: %(default)s)")
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="functions build manifest to check too (default: dist/functions/manifest.json when it exists)",
    )
    parser.add_argument("--checkov", default=None, help="checkov executable; checkov is skipped when not given")
    parser.add_argument(
        "--terraform",
        default=shutil.which("terraform"),
        help="terraform executable for `fmt -check` (default: the one on PATH; skipped when there is none)",
    )
    return parser


def run(
    root: Path, manifest: Path | None, checkov: str | None, terraform: str | None = None
) -> tuple[list[Finding], list[str]]:
    """All findings plus human-readable notes of what ran."""
    notes: list[str] = []
    findings: list[Finding] = []
    terraform_dir = root / "terraform"
    try:
        config = load_directory(terraform_dir)
    except HclError as exc:
        findings.append(Finding("hcl-parse", str(terraform_dir), str(exc)))
    else:
        notes.append(f"terraform: parsed {len(config.files)} files, {len(config.blocks)} blocks")
        findings.extend(check_terraform(config))
    if terraform:
        findings.extend(check_format(terraform, terraform_dir))
        notes.append(f"terraform fmt -check: ran {terraform}")
    else:
        notes.append("terraform fmt -check: skipped (no terraform binary on PATH)")
    dockerfile = root / "docker" / "Dockerfile"
    findings.extend(check_dockerfile(dockerfile))
    notes.append(f"dockerfile: {dockerfile} parsed (static checks only: no Docker engine here)")
    if manifest is not None:
        findings.extend(check_manifest(manifest))
        notes.append(f"manifest: {manifest} checked")
    if checkov:
        report = run_checkov(checkov, root)
        findings.extend(report.findings)
        notes.append(f"checkov: {report.passed} passed, {report.failed} failed, {report.skipped} skipped")
        notes.extend(f"checkov skip: {s}" for s in report.skips)
    return sorted(findings), notes


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    manifest = args.manifest
    if manifest is None and Path("dist/functions/manifest.json").is_file():
        manifest = Path("dist/functions/manifest.json")
    findings, notes = run(args.root, manifest, args.checkov, args.terraform)
    for note in notes:
        print(note)
    for finding in findings:
        print(finding, file=sys.stderr)
    print(f"infra checks: {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
