"""Offline validation of Plastinka's infrastructure code: Terraform, the API Dockerfile, the functions manifest."""

from plastinka_infra_checks.checkov import CheckovReport, parse_report, run_checkov
from plastinka_infra_checks.dockerfile_rules import check_dockerfile, parse_dockerfile
from plastinka_infra_checks.findings import Finding
from plastinka_infra_checks.hcl import Block, HclError, Moved, TerraformConfig, load_directory
from plastinka_infra_checks.manifest_rules import check_manifest, manifest_entries
from plastinka_infra_checks.terraform_rules import (
    EXPECTED_ENTRYPOINT,
    EXPECTED_RUNTIME,
    FUNCTION_ARTIFACTS,
    check_terraform,
)

__all__ = [
    "EXPECTED_ENTRYPOINT",
    "EXPECTED_RUNTIME",
    "FUNCTION_ARTIFACTS",
    "Block",
    "CheckovReport",
    "Finding",
    "HclError",
    "Moved",
    "TerraformConfig",
    "check_dockerfile",
    "check_manifest",
    "check_terraform",
    "load_directory",
    "manifest_entries",
    "parse_dockerfile",
    "parse_report",
    "run_checkov",
]
