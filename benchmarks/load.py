"""Load: N concurrent clients submitting small training jobs, then polling their status, against a real API
process (uvicorn) on SQLite and on PostgreSQL.

The functions are the real Yandex invoker path on loopback: the gRPC fakes of plastinka-testing resolve the
function, and a small in-process HTTP endpoint plays the invoke URL: it answers 202 and runs the real
function-runtime attempt lifecycle (running event, artifacts with sha256 written to the shared local store,
status object, signed ``succeeded`` callback) around trivial work, in a thread pool. So every job goes through
dispatch, callbacks and manifest verification, at a speed where the API is the bottleneck.

Prints submissions/s and status reads/s with p50/p99 latency and errors, then drains and confirms every job
finished ``succeeded`` on attempt 1 with its work run exactly once.

    hatch run faults:load [--db sqlite|postgres|both] [--clients 32] [--seconds 10] [--workers 1]

The load generator shares the machine's cores with the server: on 2 cores the figures are what one box
serving its own clients reaches, not the server's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_function_runtime import Attempt, Outcome, run_attempt
from plastinka_schemas import TrainRequest
from plastinka_testing.api_process import serve_api
from plastinka_testing.postgres import resolve_server
from plastinka_testing.yandex import FakeYandexCloud

ADMIN_KEY = "pk_load_admin_NW4_S5CuQr5EzNlhTmvIP3m7zYrPIPU1HmqMiYHe3lU"  # a bootstrap key must be strong
SECRET = "load-shared-secret-" + "z" * 30


@dataclass
class FastFunction:
    """The invoke URL of a function whose work is trivial; counts how often each job's work ran."""

    storage_dir: Path
    ran: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="function")
        self.env = {"PLASTINKA_STORAGE_BACKEND": "local", "PLASTINKA_STORAGE_DIR": str(self.storage_dir)}
        function = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request_id = f"req-{random.getrandbits(48):x}"
                function.pool.submit(function.run, body, request_id)
                self.send_response(202)
                self.send_header("X-Request-Id", request_id)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/fast"

    def run(self, body: bytes, request_id: str) -> None:
        class Context:
            def __init__(self) -> None:
                self.request_id = request_id
                self.memory_limit_in_mb = 128

            def get_remaining_time_in_millis(self) -> int:
                return 60_000

        try:
            run_attempt(body, Context(), TrainRequest, self.work, env=self.env)
        except Exception as exc:
            print(f"function run failed: {exc!r}", file=sys.stderr)

    def work(self, attempt: Attempt) -> Outcome:
        with self.lock:
            self.ran[attempt.request.job_id] += 1
        job = attempt.request.job_id.encode()
        return Outcome(
            artifacts={
                "model": attempt.write("model", ".bin", b"load-model:" + job, "x/bin"),
                "model_meta": attempt.write("model-meta", ".json", b'{"load": true}', "application/json"),
            },
            summary={"load": True},
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.pool.shutdown(wait=True)


@contextmanager
def api(data_dir: Path, env: dict[str, str], workers: int, profile: Path | None = None) -> Iterator[str]:
    settings = {
        "PLASTINKA_DATA_DIR": str(data_dir),
        "PLASTINKA_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "PLASTINKA_SECRET_KEY": SECRET,
        "PLASTINKA_SAMPLE_DATASET": "false",
        "PLASTINKA_WORKERS": str(workers),
        "PLASTINKA_DISPATCH_INTERVAL_S": "0.1",
        "PLASTINKA_DISPATCH_BATCH": "50",
        # One owner is the whole load here: its quotas must not turn the throughput test into 429s.
        "PLASTINKA_MAX_QUEUED_JOBS_PER_OWNER": "1000000",
        "PLASTINKA_MAX_RUNNING_JOBS_PER_OWNER": "1000000",
        **env,
    }
    # py-spy's collapsed stacks of the server (and its worker threads); SIGINT makes it write them.
    spy = ("py-spy", "record", "--format", "raw", "--subprocesses", "-o", str(profile), "--")
    prefix = () if profile is None else spy
    try:
        with serve_api(settings, data_dir / "api.log", prefix=prefix, stop_signal=signal.SIGINT) as (url, _):
            yield url
    except AssertionError as exc:  # a start-up failure, with the log's tail
        raise SystemExit(str(exc)) from exc


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def line(self) -> str:
        ok = len(self.latencies)
        lat = sorted(self.latencies) or [0.0]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        errors = sum(self.errors.values())
        detail = f" {dict(self.errors)}" if errors else ""
        return (
            f"  {self.name:<26} {ok / self.seconds:8.1f}/s  p50 {statistics.median(lat) * 1000:6.1f} ms"
            f"  p99 {p99 * 1000:6.1f} ms  ok {ok:6d}  errors {errors}{detail}"
        )


async def _clients(url: str, clients: int, seconds: float, phase: Phase, step: Any) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(url, headers=headers, connector=connector) as session:
        stop = time.perf_counter() + seconds

        async def client() -> None:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    ok, label = await step(session)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    ok, label = False, type(exc).__name__
                if ok:
                    phase.latencies.append(time.perf_counter() - started)
                else:
                    phase.errors[label] += 1

        begun = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        phase.seconds = time.perf_counter() - begun


async def load(url: str, dataset_id: str, clients: int, seconds: float) -> tuple[list[Phase], list[str]]:
    jobs: list[str] = []
    submit = Phase("submissions")

    async def submit_one(session: aiohttp.ClientSession) -> tuple[bool, str]:
        body = {"dataset_id": dataset_id, "horizon": 2}
        async with session.post("/api/v1/training", json=body) as response:
            payload = await response.read()
            if response.status != 202:
                return False, str(response.status)
            jobs.append(json.loads(payload)["job_id"])
            return True, ""

    await _clients(url, clients, seconds, submit, submit_one)
    reads = Phase("status reads")

    async def read_one(session: aiohttp.ClientSession) -> tuple[bool, str]:
        async with session.get(f"/api/v1/status/{random.choice(jobs)}") as response:
            await response.read()
            return response.status == 200, str(response.status)

    await _clients(url, clients, seconds, reads, read_one)
    return [submit, reads], jobs


async def _reads_only(url: str, jobs: list[str], clients: int, seconds: float, phase: Phase) -> None:
    async def read_one(session: aiohttp.ClientSession) -> tuple[bool, str]:
        async with session.get(f"/api/v1/status/{random.choice(jobs)}") as response:
            await response.read()
            return response.status == 200, str(response.status)

    await _clients(url, clients, seconds, phase, read_one)


def drain(url: str, jobs: list[str], function: FastFunction, timeout_s: float = 600) -> str:
    """Wait until no job is active; then every job must be succeeded, attempt 1, its work run once."""
    active = ["queued", "dispatched", "running", "retry_wait"]
    started = time.monotonic()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60) as client:
        while True:
            page = client.get("/api/v1/status", params={"status": active, "limit": 1}).json()
            if page["total"] == 0:
                break
            if time.monotonic() - started > timeout_s:
                return f"NOT DRAINED: {page['total']} jobs still active after {timeout_s:.0f} s"
            time.sleep(0.5)
        drained = time.monotonic() - started
        done = client.get("/api/v1/status", params={"status": ["succeeded"], "limit": 1000}).json()
        succeeded = {item["job_id"]: item for item in done["items"]}
        offset = 1000
        while offset < done["total"]:
            more = client.get("/api/v1/status", params={"status": ["succeeded"], "limit": 1000, "offset": offset})
            succeeded |= {item["job_id"]: item for item in more.json()["items"]}
            offset += 1000
    problems = []
    missing = [job for job in jobs if job not in succeeded]
    if missing:
        problems.append(f"{len(missing)} not succeeded (e.g. {missing[:3]})")
    retried = [job for job in jobs if job in succeeded and succeeded[job]["attempt"] != 1]
    if retried:
        problems.append(f"{len(retried)} needed more than one attempt")
    runs = Counter(function.ran[job] for job in jobs)
    if set(runs) != {1}:
        problems.append(f"work runs per job: {dict(runs)}")
    verdict = "OK" if not problems else "PROBLEM: " + "; ".join(problems)
    return f"{verdict}: {len(jobs)} jobs, each succeeded exactly once (drained in {drained:.1f} s)"


def run_one(db: str, clients: int, seconds: float, workers: int, profile: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="plastinka-load-") as tmp:
        root = Path(tmp)
        data = root / "var"
        data.mkdir()
        cloud = FakeYandexCloud(tls=True).start()
        function = FastFunction(data / "storage")
        cloud.add_function("d4eload", function.url, {"$latest": "v1"})
        (root / "sa.json").write_text(json.dumps(cloud.new_service_account_key()))
        (root / "roots.pem").write_bytes(cloud.root_certificates)
        env = {
            "PLASTINKA_INVOKER": "yandex",
            "PLASTINKA_YANDEX_TRAIN_FUNCTION_ID": "d4eload",
            "PLASTINKA_YANDEX_PREDICT_FUNCTION_ID": "d4eload",
            "PLASTINKA_YANDEX_SA_KEY_FILE": str(root / "sa.json"),
            "PLASTINKA_YANDEX_API_ENDPOINT": cloud.address,
            "PLASTINKA_YANDEX_ROOT_CERTIFICATES_FILE": str(root / "roots.pem"),
        }
        server = database = None
        if db == "postgres":
            server = resolve_server()
            database = server.create_database()
            env["PLASTINKA_DATABASE_URL"] = database.url
        try:
            with api(data, env, workers, profile) as url:
                shop = write_shop(generate_shop(items=20, months=24, seed=3, start=date(2022, 1, 1)), root, fmt="csv")
                with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60) as c:
                    files = {"file": ("sales.csv", shop.sales.read_bytes(), "text/csv")}
                    dataset = c.post("/api/v1/datasets", files=files).json()["id"]
                phases, jobs = asyncio.run(load(url, dataset, clients, seconds))
                print(f"{db}, {clients} clients, {seconds:.0f} s per phase, {workers} worker process(es):")
                for phase in phases:
                    print(phase.line())
                print("  " + drain(url, jobs, function))
                idle = Phase("status reads, engine idle")
                asyncio.run(_reads_only(url, jobs, clients, seconds, idle))
                print(idle.line())
        finally:
            function.stop()
            cloud.stop()
            if server is not None and database is not None:
                server.drop_database(database.name)
                server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="uvicorn worker processes to compare")
    parser.add_argument("--py-spy", type=Path, default=None, help="record the server with py-spy (raw stacks)")
    args = parser.parse_args()
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        for workers in args.workers:
            run_one(db, args.clients, args.seconds, workers, args.py_spy)


if __name__ == "__main__":
    main()
