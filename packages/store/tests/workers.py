"""Child processes for the concurrency tests (run as scripts, so they are real OS processes).

python workers.py claim URL THREADS GO_FILE  -> prints READY, waits for GO_FILE, then prints the ids it claimed
python workers.py crash URL JOBS             -> commits work, then hangs inside a transition; prints READY
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from plastinka_schemas import JobKind
from plastinka_store import JobRepository, RetryPolicy, create_engine, migrate


def claim(url: str, threads: int, go_file: str) -> None:
    engine = create_engine(url, pool_size=threads, max_overflow=0)
    repo = JobRepository(engine, RetryPolicy())
    with engine.connect():  # open the first connection before the start signal
        pass
    claimed: list[str] = []
    lock = threading.Lock()
    print("READY", flush=True)
    while not Path(go_file).exists():
        time.sleep(0.005)

    def work() -> None:
        while True:
            jobs = repo.claim_due(limit=3, kinds=[JobKind.TRAINING])
            if not jobs:
                return
            with lock:
                claimed.extend(job.id for job in jobs)
            time.sleep(0.001)  # a dispatcher invokes what it claimed before claiming more

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    print(f"claimed {len(claimed)} in {time.perf_counter() - started:.2f}s", file=sys.stderr)
    print(json.dumps(claimed))


def crash(url: str, jobs: int) -> None:
    engine = create_engine(url)
    repo = JobRepository(engine, RetryPolicy())
    dataset = sys.stdin.readline().strip()
    ids = [repo.create_training_job(owner="alice", dataset_id=dataset)[0].id for _ in range(jobs)]
    claimed = repo.claim_due(limit=jobs // 2, kinds=[JobKind.TRAINING])
    target = claimed[0].id
    assert repo.mark_running(target, 1)
    print(json.dumps({"ids": ids, "claimed": [job.id for job in claimed], "target": target}), flush=True)

    def hang(_session: Any) -> None:
        print("READY", flush=True)
        time.sleep(600)  # killed with SIGKILL here, the succeeded UPDATE and its event written but uncommitted

    repo.succeed(target, 1, manifest={"artifacts": {}}, also=hang)


def migrate_when_told(url: str, go_file: str) -> None:
    print("READY", flush=True)
    while not Path(go_file).exists():
        time.sleep(0.002)
    migrate(url)


if __name__ == "__main__":
    command, url, *rest = sys.argv[1:]
    if command == "claim":
        claim(url, int(rest[0]), rest[1])
    elif command == "migrate":
        migrate_when_told(url, rest[0])
    elif command == "crash":
        crash(url, int(rest[0]))
    else:
        raise SystemExit(f"unknown command {command}")
