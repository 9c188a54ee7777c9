"""The package's public names: all resolve, none duplicated, and the reporter imports no database code."""

from __future__ import annotations

import subprocess
import sys

import plastinka_store


def test_all_names_resolve_and_are_unique() -> None:
    assert len(plastinka_store.__all__) == len(set(plastinka_store.__all__))
    for name in plastinka_store.__all__:
        assert getattr(plastinka_store, name) is not None, name
    assert sorted(dir(plastinka_store)) == sorted(plastinka_store.__all__)


def test_reporter_import_stays_light() -> None:
    code = (
        "import sys\n"
        "from plastinka_store import JobReporter, sign_job_token, verify_job_token\n"
        "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'alembic', 'psycopg') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
