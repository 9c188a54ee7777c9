"""Fault matrix fixtures: the backends, and the matrix record that ``report.py`` (and the terminal summary)
print. API servers, the stand-in functions and the shop come from the plastinka_testing plugin."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plastinka_testing.faults import render_matrix

HERE = Path(__file__).parent

#: Where each case's outcome is written (one JSON object per line); report.py reads it.
RESULTS = Path(os.environ.get("PLASTINKA_FAULTS_RESULTS", HERE / ".matrix.jsonl"))
_rows: list[dict[str, Any]] = []


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The database settings of one API (a per-test PostgreSQL database, or SQLite under the data dir)."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return {"PLASTINKA_DATABASE_URL": url, "name": "postgres"}
    return {"name": "sqlite"}


@pytest.fixture
def matrix(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The case's row of the matrix: the test fills ``case``, ``backend`` and ``outcome``."""
    row: dict[str, Any] = {"test": request.node.nodeid}
    _rows.append(row)
    yield row


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        for row in _rows:
            if row["test"] == item.nodeid and "passed" not in row:
                row["passed"] = report.passed


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _rows:
        with RESULTS.open("w", encoding="utf-8") as out:
            for row in _rows:
                out.write(json.dumps(row) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _rows and not os.environ.get("PLASTINKA_FAULTS_NO_SUMMARY"):
        terminalreporter.write_sep("=", "fault matrix")
        terminalreporter.write_line(render_matrix(_rows))
