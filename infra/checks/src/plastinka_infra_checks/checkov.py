"""Run checkov over ``infra/`` as a subprocess and turn its JSON report into findings.

checkov lives in its own hatch environment (``checkov``): it requires ``bc-python-hcl2``, a fork that installs
the same ``hcl2`` module as python-hcl2, so the two cannot share one environment.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plastinka_infra_checks.findings import Finding

FRAMEWORKS = ("terraform", "dockerfile", "secrets")


@dataclass
class CheckovReport:
    """Counts per framework plus the findings: failed checks, parse errors and unexplained skips."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    findings: list[Finding] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)


def run_checkov(checkov: str, target: Path, *, timeout_s: float = 600.0) -> CheckovReport:
    """Scan ``target`` offline (``--skip-download``) and parse the report; a crash is itself a finding."""
    cmd = [checkov, "--directory", str(target), "--framework", *FRAMEWORKS, "--skip-download", "--output", "json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CheckovReport(findings=[Finding("checkov", checkov, f"could not run: {exc}")])
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        message = f"exit {proc.returncode}, no JSON: {' | '.join(tail)}"
        return CheckovReport(findings=[Finding("checkov", checkov, message)])
    return parse_report(data)


def _frameworks(data: Any) -> Iterator[dict[str, Any]]:
    items = data if isinstance(data, list) else [data]
    yield from (i for i in items if isinstance(i, dict))


def parse_report(data: Any) -> CheckovReport:
    """Fold checkov's JSON (one object, or a list with one object per framework) into a report."""
    report = CheckovReport()
    for framework in _frameworks(data):
        summary = framework.get("summary", {})
        report.passed += int(summary.get("passed", 0))
        report.failed += int(summary.get("failed", 0))
        report.skipped += int(summary.get("skipped", 0))
        results = framework.get("results", {})
        for check in results.get("failed_checks", []):
            name = f"{check['check_id']} {check.get('check_name', '')}"
            report.findings.append(Finding("checkov", _where(check), name))
        for check in results.get("skipped_checks", []):
            reason = str((check.get("check_result") or {}).get("suppress_comment") or "").strip()
            report.skips.append(f"{check['check_id']} {_where(check)}: {reason or '(no reason)'}")
            if not reason or reason.lower() == "no comment provided":
                message = f"{check['check_id']} skipped without a reason"
                report.findings.append(Finding("checkov-skip-reason", _where(check), message))
        for path in results.get("parsing_errors", []):
            report.findings.append(Finding("checkov-parse", str(path), "checkov could not parse this file"))
    return report


def _where(check: dict[str, Any]) -> str:
    lines = check.get("file_line_range") or []
    span = f":{lines[0]}" if lines else ""
    return f"{check.get('file_path', '?')}{span} {check.get('resource', '')}".strip()
