"""``plastinka-api demo`` against a running server: progress, a forecast table and a saved plot.

The server runs the stand-in handlers (``plastinka_testing.stand_ins``): the demo's own HTTP flow is under
test here; the real handlers are exercised by ``test_local_runtime.py``.
"""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from plastinka_api.demo import DemoError, run
from plastinka_api.settings import Settings
from plastinka_testing.api_process import free_port
from plastinka_testing.servers import ADMIN_KEY, api_server
from plastinka_testing.stand_ins import STAND_IN_FUNCTIONS

pytestmark = pytest.mark.slow


def test_demo_prints_a_forecast_and_saves_a_plot(tmp_path: Path) -> None:
    env = {"PLASTINKA_FUNCTIONS_DIR": str(STAND_IN_FUNCTIONS)}
    with api_server(tmp_path / "var", env) as server:
        out = io.StringIO()
        settings = Settings(_env_file=None, data_dir=tmp_path / "demo")  # type: ignore[call-arg]
        plot = run(server.url, ADMIN_KEY, out=out, settings=settings, timeout_s=120)
        with pytest.raises(DemoError, match="401"):
            run(server.url, "pk_wrong", out=io.StringIO(), settings=settings, timeout_s=30)
    text = out.getvalue()
    assert "1. upload sales.xlsx with stock.xlsx" in text
    assert ": succeeded 100%" in text
    assert "forecast rows" in text and "item_id" in text
    assert plot.exists() and plot.read_bytes().startswith(b"\x89PNG")
    assert str(plot) in text


def test_demo_starts_a_server_when_none_answers_and_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLASTINKA_FUNCTIONS_DIR", str(STAND_IN_FUNCTIONS))
    monkeypatch.setenv("PLASTINKA_SAMPLE_DATASET", "false")
    monkeypatch.setenv("PLASTINKA_DATA_DIR", str(tmp_path / "var"))
    port = free_port()
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", port=port)  # type: ignore[call-arg]
    out = io.StringIO()
    plot = run(None, None, out=out, settings=settings, timeout_s=120)
    assert f"no server on http://127.0.0.1:{port}: starting one" in out.getvalue()
    assert plot.exists()
    key = (tmp_path / "var" / "demo.key").read_text()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    run(None, None, out=io.StringIO(), settings=settings, timeout_s=120)
    assert (tmp_path / "var" / "demo.key").read_text() == key
