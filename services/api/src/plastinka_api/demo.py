"""``plastinka-api demo``: the whole flow over HTTP, as a user's script would run it.

upload a shop export -> train -> predict -> results: progress on the way, a forecast table and a saved fan
chart at the end. Talks to a running server, or starts one (in a child process) when none answers.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import httpx

from plastinka_api.bootstrap import SAMPLE_ITEMS, SAMPLE_MONTHS
from plastinka_api.settings import Settings
from plastinka_forecasting.synthetic import write_sample as write

TERMINAL = {"succeeded", "failed", "cancelled", "dead_letter"}


class DemoError(RuntimeError):
    pass


def _say(out: TextIO, text: str) -> None:
    print(text, file=out, flush=True)


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _demo_key(data_dir: Path) -> str:
    """The admin key a self-started server is given, kept beside its database (mode 0600) so repeated demo
    runs reuse one key instead of adding a new one each time."""
    path = data_dir / "demo.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = "pk_demo_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key


@contextlib.contextmanager
def _server(settings: Settings, base_url: str, out: TextIO) -> Iterator[str | None]:
    """Yield an admin key for a server this context started, or None when one was already running."""
    if _healthy(base_url):
        yield None
        return
    key = _demo_key(settings.data_dir)
    env = {**os.environ, "PLASTINKA_BOOTSTRAP_ADMIN_KEY": key, "PLASTINKA_PORT": str(settings.port)}
    _say(out, f"no server on {base_url}: starting one (data in {settings.data_dir.resolve()})")
    log_path = settings.data_dir / "demo-server.log"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "plastinka_api", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120
            while not _healthy(base_url):
                if process.poll() is not None:
                    raise DemoError(f"the server exited with {process.returncode}; see {log_path}")
                if time.monotonic() > deadline:
                    raise DemoError(f"the server did not answer within 120 s; see {log_path}")
                time.sleep(0.3)
            yield key
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise DemoError(
            f"{response.request.method} {response.request.url.path} -> {response.status_code}: {response.text[:500]}"
        )
    return response.json()


def _wait(client: httpx.Client, job_id: str, out: TextIO, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        status = _check(client.get(f"/api/v1/status/{job_id}", params={"wait": 10}))
        line = f"  {job_id}: {status['status']}"
        if status.get("progress") is not None:
            line += f" {status['progress']:.0%}"
        if status.get("events"):
            message = status["events"][-1].get("message")
            if message:
                line += f" - {message}"
        if line != last:
            _say(out, line)
            last = line
        if status["status"] in TERMINAL:
            if status["status"] != "succeeded":
                raise DemoError(f"job {job_id} ended {status['status']}: {status.get('error')}")
            return dict(status)
        if time.monotonic() > deadline:
            raise DemoError(f"job {job_id} still {status['status']} after {timeout_s:.0f} s")


def _table(rows: list[dict[str, Any]], out: TextIO) -> None:
    if not rows:
        _say(out, "(no forecast rows)")
        return
    quantiles = list(rows[0]["quantiles"])
    header = ["item_id", "period", "mean", *quantiles]
    cells = [
        [str(r["item_id"])[:32], str(r["period"]), f"{r['mean']:.2f}", *(f"{r['quantiles'][q]:.2f}" for q in quantiles)]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    _say(out, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for c in cells:
        _say(out, "  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))


def _backtest(training: dict[str, Any], out: TextIO) -> None:
    """The training result's backtest table: our model beside the baselines, lower is better but coverage."""
    rows = training.get("backtest") or []
    described = training.get("metrics", {}).get("backtest") or {}
    if not rows:
        _say(out, f"   no backtest table{': ' + described['note'] if described.get('note') else ''}")
        return
    _say(out, f"   backtest over {described.get('windows', '?')} rolling windows (MAE, bias in copies per month):")
    _say(out, f"   {'method':<16}{'MAE':>8}{'RMSSE':>8}{'SPL':>8}{'cover80':>9}{'pit80':>8}{'bias':>8}")
    for row in rows:
        cells = [row.get(k) for k in ("mae", "rmsse", "spl", "coverage", "pit80", "bias")]
        widths = (8, 8, 8, 9, 8, 8)
        text = "".join(
            f"{v:>{w}.3f}" if isinstance(v, int | float) else f"{'-':>{w}}" for v, w in zip(cells, widths, strict=True)
        )
        _say(out, f"   {str(row.get('method'))[:16]:<16}{text}")
    _say(out, "   cover80 counts every zero as inside; pit80 is the fair coverage on mostly-zero sales (aim 0.80)")


def write_sample(directory: Path) -> tuple[Path, Path]:
    """The sample shop's sales export and stock snapshot: the same shop ``serve`` registers on first start, so
    the demo's figures (items, stocked items, forecasts) are those of the dataset the server lists."""
    files = write(directory, items=SAMPLE_ITEMS, months=SAMPLE_MONTHS)
    return files.sales, files.stock


def run(
    base_url: str | None = None,
    api_key: str | None = None,
    *,
    out: TextIO = sys.stdout,
    horizon: int = 3,
    timeout_s: float = 900.0,
    settings: Settings | None = None,
) -> Path:
    """Run the flow; returns the path of the saved plot."""
    settings = settings or Settings()
    base_url = (base_url or settings.resolved_public_url).rstrip("/")
    with _server(settings, base_url, out) as started_key:
        key = api_key or started_key or os.environ.get("PLASTINKA_API_KEY")
        if not key:
            raise DemoError(f"a server already runs on {base_url}: pass its admin key with --key or PLASTINKA_API_KEY")
        headers = {"Authorization": f"Bearer {key}"}
        client = httpx.Client(base_url=base_url, headers=headers, timeout=60.0)
        with client, tempfile.TemporaryDirectory() as tmp:
            sales, stock = write_sample(Path(tmp))
            _say(out, f"1. upload {sales.name} with {stock.name}")
            with sales.open("rb") as s_handle, stock.open("rb") as k_handle:
                files = {"file": (sales.name, s_handle), "stock_file": (stock.name, k_handle)}
                dataset = _check(client.post("/api/v1/datasets", files=files))
            report = dataset["report"]
            _say(
                out,
                f"   dataset {dataset['id']}: {report['rows']} sales rows, {report['items']} items, "
                f"{report.get('copies_sold', report['rows']):g} copies sold, "
                f"{report['period_start']} .. {report['period_end']}, "
                f"{report.get('issues_total', len(report['issues']))} issues",
            )

            _say(out, f"2. train (horizon {horizon} months)")
            accepted = _check(client.post("/api/v1/training", json={"dataset_id": dataset["id"], "horizon": horizon}))
            _wait(client, accepted["job_id"], out, timeout_s)
            training = _check(client.get(f"/api/v1/results/{accepted['job_id']}"))
            model = _check(client.get(f"/api/v1/models/{training['model_id']}"))
            inner = training.get("metrics", {}).get("metrics", {})
            shown = {k: v for k, v in inner.items() if isinstance(v, int | float) and not isinstance(v, bool)}
            figures = ", ".join(f"{k}={v:g}" for k, v in list(shown.items())[:5])
            _say(
                out,
                f"   model {model['id']} (active: {model['active']}), trained on "
                f"{model['train_start']} .. {model['train_end']}: {figures}",
            )

            _backtest(training, out)

            _say(out, "3. predict")
            accepted = _check(client.post("/api/v1/prediction", json={"model_id": training["model_id"]}))
            _wait(client, accepted["job_id"], out, timeout_s)

            _say(out, "4. results")
            page = _check(client.get(f"/api/v1/results/{accepted['job_id']}", params={"limit": 1000}))
            busiest = sorted(page["rows"], key=lambda r: (-r["mean"], r["item_id"], r["period"]))[:15]
            items = len({row["item_id"] for row in page["rows"]})
            counted = f"{items} items" if page["total"] == len(page["rows"]) else f"{len(page['rows'])} rows shown"
            _say(out, f"   {page['total']} forecast rows ({counted}); the 15 with the highest expected sales:")
            _table(busiest, out)
            plot = client.get(f"/api/v1/results/{accepted['job_id']}/plot")
            if plot.status_code != 200:
                raise DemoError(f"plot -> {plot.status_code}: {plot.text[:300]}")
            plot_dir = settings.data_dir / "demo"
            plot_dir.mkdir(parents=True, exist_ok=True)
            plot_path = (plot_dir / f"forecast-{accepted['job_id']}.png").resolve()
            plot_path.write_bytes(plot.content)
            _say(out, f"   fan chart of the total saved to {plot_path}")
            return plot_path
