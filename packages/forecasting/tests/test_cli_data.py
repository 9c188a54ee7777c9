"""The ``validate`` and ``generate-sample`` commands: exit codes, output, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from plastinka_forecasting.cli import main


def test_generate_then_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "shop"
    code = main(
        [
            "generate-sample",
            "--items",
            "80",
            "--months",
            "18",
            "--out",
            str(out),
            "--seed",
            "4",
            "--dirty",
            "0.02",
            "--truth",
        ]
    )
    assert code == 0
    generated = capsys.readouterr()
    assert "sales.csv" in generated.out
    assert "generating 80 items x 18 months" in generated.err
    assert {p.name for p in out.iterdir()} == {"sales.csv", "stock.csv", "truth.csv"}

    code = main(["validate", "--data", str(out / "sales.csv"), "--stock", str(out / "stock.csv"), "--limit", "2"])
    assert code == 0
    report = capsys.readouterr()
    lines = report.out.splitlines()
    assert lines[0].startswith("usable: ")
    assert "items in stock" in lines[0]
    assert lines[1].startswith("sales rows: ") and ", stock rows: " in lines[1] and "copies sold: " in lines[1]
    assert any(line.startswith("rows read: ") for line in lines)
    assert lines[-1].startswith("... and ")
    assert "reading" in report.err


def test_validate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["generate-sample", "--items", "30", "--months", "12", "--out", str(tmp_path), "--format", "xlsx"])
    capsys.readouterr()
    assert main(["validate", "--data", str(tmp_path / "sales.xlsx"), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["rows"] == body["sales_rows"] == body["rows_read"] - body["dropped"]
    assert body["stocked_items"] is None and body["stock_rows"] is None
    assert body["issues_total"] == sum(body["issue_counts"].values())
    assert body["copies_sold"] > 0 and body["copies_returned"] == 0
    assert body["truncated"] is (len(body["issues"]) < body["issues_total"])


def test_generate_sample_old_header_cp1251(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["generate-sample", "--items", "20", "--months", "6", "--out", str(tmp_path), "--sale-date-header", "old"]
    assert main([*args, "--encoding", "cp1251", "--separator", ","]) == 0
    header = (tmp_path / "sales.csv").read_bytes().decode("cp1251").splitlines()[0]
    assert header.endswith(",Дата продажи")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "no such file"),
        (lambda d: (d / "sales.csv").write_bytes(b""), "sales.csv: the file is empty"),
        (lambda d: (d / "sales.csv").write_text("a;b\n1;2\n"), "sales.csv: no header row"),
        (lambda d: (d / "sales.csv").mkdir(), "is a directory"),
    ],
)
def test_validate_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], setup, message: str) -> None:  # type: ignore[no-untyped-def]
    setup(tmp_path)
    assert main(["validate", "--data", str(tmp_path / "sales.csv")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("plastinka-forecast: error: ")
    assert message in err[-1]


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["generate-sample", "--items", "0", "--out", "x"])
    assert caught.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
    assert main(["generate-sample", "--out", "x", "--dirty", "1.5"]) == 1
    assert main(["generate-sample", "--out", "x", "--start", "2999-01"]) == 1
    assert capsys.readouterr().err.splitlines()[-1].endswith("run past today; choose an earlier start")


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "sales.xlsx"
    bad.write_bytes(b"PK\x03\x04 definitely not a workbook")
    result = subprocess.run(
        [sys.executable, "-m", "plastinka_forecasting.cli", "validate", "--data", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1]
        == "plastinka-forecast: error: sales.xlsx: not a valid xlsx file (damaged zip archive)"
    )
