"""``terraform fmt -check`` where a Terraform binary exists: formatting needs no provider, unlike validate."""

from __future__ import annotations

import subprocess
from pathlib import Path

from plastinka_infra_checks.findings import Finding


def check_format(terraform: str, directory: Path, *, timeout_s: float = 60.0) -> list[Finding]:
    """One finding per file ``terraform fmt`` would rewrite, or one saying why it could not run."""
    cmd = [terraform, "fmt", "-check", "-list=true", "-recursive", "-no-color", str(directory)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [Finding("terraform-fmt", terraform, f"could not run: {exc}")]
    files = [line.strip() for line in proc.stdout.splitlines() if line.strip().endswith((".tf", ".tfvars"))]
    if proc.returncode != 0 and not files:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        return [Finding("terraform-fmt", str(directory), f"terraform fmt exited {proc.returncode}: {tail}")]
    return [Finding("terraform-fmt", name, "not in canonical format: run terraform fmt") for name in files]
