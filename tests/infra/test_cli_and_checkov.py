"""The one command (`plastinka-infra-check`), checkov's report handling, and the package's public names."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import plastinka_infra_checks
from plastinka_infra_checks import parse_report, run_checkov
from plastinka_infra_checks.cli import main
from plastinka_infra_checks.terraform_fmt import check_format

REPO = Path(__file__).resolve().parents[2]

Edit = Callable[[Path, str, str], None]


def test_all_names_resolve_once() -> None:
    names = plastinka_infra_checks.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(plastinka_infra_checks, name) is not None


def test_the_repository_passes_without_checkov(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(REPO / "infra"), "--terraform", ""]) == 0
    out = capsys.readouterr().out
    assert "terraform: parsed" in out and "0 finding(s)" in out


def test_a_broken_tree_fails_and_says_where(infra_copy: Path, edit: Edit, capsys: pytest.CaptureFixture[str]) -> None:
    edit(infra_copy / "docker" / "Dockerfile", "USER 10001:10001\n", "")
    edit(infra_copy / "terraform" / "storage.tf", 'sse_algorithm     = "aws:kms"', 'sse_algorithm     = "AES256"')
    assert main(["--root", str(infra_copy), "--terraform", ""]) == 1
    err = capsys.readouterr().err
    assert "[docker-user]" in err and "[bucket-sse] yandex_storage_bucket." in err


def _report(failed: list[dict[str, object]], skipped: list[dict[str, object]]) -> list[dict[str, object]]:
    return [
        {
            "check_type": "terraform",
            "results": {"passed_checks": [], "failed_checks": failed, "skipped_checks": skipped, "parsing_errors": []},
            "summary": {"passed": 3, "failed": len(failed), "skipped": len(skipped)},
        },
        {"check_type": "dockerfile", "results": {"parsing_errors": ["/docker/Dockerfile"]}, "summary": {"passed": 2}},
    ]


def _check(check_id: str, comment: str | None = None) -> dict[str, object]:
    result: dict[str, object] = {"result": "SKIPPED" if comment is not None else "FAILED"}
    if comment is not None:
        result["suppress_comment"] = comment
    return {
        "check_id": check_id,
        "check_name": "Ensure something",
        "file_path": "/terraform/storage.tf",
        "file_line_range": [8, 40],
        "resource": "yandex_storage_bucket.data",
        "check_result": result,
    }


def test_checkov_failures_unexplained_skips_and_parse_errors_are_findings() -> None:
    report = parse_report(
        _report(
            [_check("CKV_YC_3")],
            # checkov 3.3 reports a reasonless `#checkov:skip=ID` as "No comment provided" (seen on this tree)
            [_check("CKV_YC_17", "served by a CDN"), _check("CKV_YC_9", ""), _check("CKV_YC_1", "No comment provided")],
        )
    )
    assert (report.passed, report.failed, report.skipped) == (5, 1, 3)
    found = {(f.rule, f.message.split()[0]) for f in report.findings}
    assert ("checkov", "CKV_YC_3") in found
    assert ("checkov-skip-reason", "CKV_YC_9") in found
    assert ("checkov-skip-reason", "CKV_YC_1") in found
    assert not any("CKV_YC_17" in f.message for f in report.findings)
    assert any(f.rule == "checkov-parse" for f in report.findings)
    assert report.skips[0] == "CKV_YC_17 /terraform/storage.tf:8 yandex_storage_bucket.data: served by a CDN"


def test_a_single_framework_report_is_a_dict() -> None:
    report = parse_report(_report([], [])[0])
    assert (report.passed, report.findings) == (3, [])


def _fake_checkov(tmp_path: Path, body: str) -> str:
    script = tmp_path / "checkov"
    script.write_text(f"#!{sys.executable}\n{body}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def _fake_recording_argv(tmp_path: Path, then: str) -> tuple[str, Path]:
    """A fake tool that writes its arguments to a file, then runs ``then``: the tool and that file."""
    argv_file = tmp_path / "argv"
    body = f"import json, sys\nopen({str(argv_file)!r}, 'w').write(' '.join(sys.argv[1:]))\n{then}"
    return _fake_checkov(tmp_path, body), argv_file


def test_run_checkov_passes_the_offline_flags_and_reads_stdout(tmp_path: Path) -> None:
    fake, argv_file = _fake_recording_argv(
        tmp_path, "print(json.dumps({'results': {'failed_checks': []}, 'summary': {'passed': 7}}))"
    )
    report = run_checkov(fake, REPO / "infra")
    assert (report.passed, report.findings) == (7, [])
    argv = argv_file.read_text(encoding="utf-8")
    assert "--skip-download" in argv and "--output json" in argv and str(REPO / "infra") in argv


def test_a_crashing_or_missing_checkov_is_a_finding(tmp_path: Path) -> None:
    crash = _fake_checkov(tmp_path, "import sys\nsys.stderr.write('ImportError: hcl2\\n')\nsys.exit(2)")
    [finding] = run_checkov(crash, REPO / "infra").findings
    assert finding.rule == "checkov" and "ImportError: hcl2" in finding.message
    [missing] = run_checkov(os.fspath(tmp_path / "nope"), REPO / "infra").findings
    assert "could not run" in missing.message


def test_terraform_fmt_lists_unformatted_files_and_reports_a_failure(tmp_path: Path) -> None:
    fake, argv_file = _fake_recording_argv(tmp_path, "print('storage.tf')\nprint('terraform.tfvars')\nsys.exit(3)")
    findings = check_format(fake, REPO / "infra" / "terraform")
    assert [f.where for f in findings] == ["storage.tf", "terraform.tfvars"]
    assert {f.rule for f in findings} == {"terraform-fmt"}
    assert argv_file.read_text(encoding="utf-8").startswith("fmt -check -list=true -recursive")
    broken = _fake_checkov(tmp_path, "import sys\nsys.stderr.write('Error: bad syntax\\n')\nsys.exit(2)")
    [finding] = check_format(broken, REPO / "infra" / "terraform")
    assert "exited 2" in finding.message and "bad syntax" in finding.message
    fine = _fake_checkov(tmp_path, "")
    assert check_format(fine, REPO / "infra" / "terraform") == []
