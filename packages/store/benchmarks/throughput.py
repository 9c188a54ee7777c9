"""Print how fast the job repository moves jobs, on SQLite and (if reachable) the local PostgreSQL.

    python packages/store/benchmarks/throughput.py [--jobs 400] [--processes 2] [--threads 8]

Figures: creates/s (one transaction each), a full lifecycle per job (claim, running, progress, succeed) in
one thread, and claims/s with several processes x threads racing on the same queue.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.orm import Session

from plastinka_schemas import JobKind
from plastinka_store import Dataset, JobRepository, RetryPolicy, create_engine, migrate

WORKER = Path(__file__).resolve().parents[1] / "tests" / "workers.py"
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _fill(repo: JobRepository, jobs: int) -> float:
    with Session(repo.engine) as session, session.begin():
        session.add(Dataset(id="ds_bench", owner="o", filename="f", sha256="0" * 64, size_bytes=1, object_key="k"))
    started = time.perf_counter()
    for _ in range(jobs):
        repo.create_training_job(owner="o", dataset_id="ds_bench")
    return jobs / (time.perf_counter() - started)


def bench(url: str, jobs: int, processes: int, threads: int) -> dict[str, float]:
    migrate(url)
    engine = create_engine(url)
    repo = JobRepository(engine, RetryPolicy())
    figures = {"creates_per_s": _fill(repo, jobs)}

    started = time.perf_counter()
    lifecycles = 0
    while lifecycles < jobs // 2 and (claimed := repo.claim_due(limit=1, kinds=[JobKind.TRAINING])):
        job = claimed[0]
        repo.mark_running(job.id, job.attempt)
        repo.progress(job.id, job.attempt, 0.5)
        repo.succeed(job.id, job.attempt, manifest={})
        lifecycles += 1
    figures["lifecycles_per_s"] = lifecycles / (time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as tmp:
        go = Path(tmp) / "go"
        procs = [
            subprocess.Popen(  # noqa: S603 - our own worker script and URL
                [sys.executable, str(WORKER), "claim", url, str(threads), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(processes)
        ]
        for proc in procs:
            assert proc.stdout is not None
            proc.stdout.readline()
        started = time.perf_counter()
        go.touch()
        claimed_total = sum(len(json.loads(proc.communicate()[0])) for proc in procs)
        figures["racing_claims_per_s"] = claimed_total / (time.perf_counter() - started)
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        targets = {"sqlite": f"sqlite:///{Path(tmp) / 'bench.db'}"}
        name = f"bench_{uuid.uuid4().hex[:12]}"
        try:
            with psycopg.connect(LOCAL_PG, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            targets["postgresql"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        except psycopg.Error:
            print("postgresql: no local server, skipped")
        try:
            for backend, url in targets.items():
                figures = bench(url, args.jobs, args.processes, args.threads)
                shown = ", ".join(f"{key} {value:,.0f}" for key, value in figures.items())
                print(f"{backend}: {shown}  ({args.jobs} jobs, {args.processes} processes x {args.threads} threads)")
        finally:
            if "postgresql" in targets:
                with psycopg.connect(LOCAL_PG, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
