"""Fair work (issue 16, finding 3) on a real API process with the local runtime and the fast stand-in functions:
one owner's burst, mostly cancelled, neither runs its cancelled jobs nor keeps another owner waiting.

Owner A submits 50 trainings and cancels 45 of them; owner B then submits one. With one function slot, the
stand-ins' ledger (what really ran) and the function log (when each run ended) show that no cancelled job
ever started a function and that B's job was dispatched within one dispatch interval of the slot freeing,
ahead of A's remaining queue.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from plastinka_store import CloudFunctionLog
from plastinka_testing.faults import FAST_ENGINE, ledger
from plastinka_testing.servers import API, api_server, upload, wait_for

pytestmark = [pytest.mark.slow]

DISPATCH_INTERVAL_S = 1.0
BURST, KEPT = 50, 5


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _dispatched_at(status: dict[str, object]) -> datetime:
    events = status["events"]
    assert isinstance(events, list)
    return max(_at(e["at"]) for e in events if e["kind"] == "dispatched")


def test_a_cancelled_burst_never_runs_and_does_not_starve_another_owner(
    tmp_path: Path, shop: tuple[Path, Path]
) -> None:
    env = {
        **FAST_ENGINE,
        "PLASTINKA_DISPATCH_INTERVAL_S": str(DISPATCH_INTERVAL_S),
        "PLASTINKA_FUNCTION_CONCURRENCY": "1",
        "PLASTINKA_TEST_LEDGER": str(tmp_path / "ledger.txt"),
        "PLASTINKA_TEST_WORK_S": "1",
    }
    with api_server(tmp_path / "api", env) as server, server.client() as admin:
        keys = {}
        for owner in ("a", "b"):
            created = admin.post(f"{API}/keys", json={"name": owner, "role": "analyst", "owner": owner})
            assert created.status_code == 201, created.text
            keys[owner] = created.json()["key"]
        with server.client(keys["a"]) as a, server.client(keys["b"]) as b:
            ds_a, ds_b = upload(a, *shop)["id"], upload(b, *shop)["id"]

            def submit(i: int) -> str:
                response = a.post(f"{API}/training", json={"dataset_id": ds_a, "horizon": 1 + i % 12})
                assert response.status_code == 202, response.text
                return str(response.json()["job_id"])

            with ThreadPoolExecutor(8) as pool:
                list(pool.map(submit, range(BURST)))
            listed = a.get(f"{API}/training", params={"limit": 100}).json()["items"]
            assert len(listed) == BURST
            newest_first = [job["job_id"] for job in listed]
            cancelled, kept = newest_first[: BURST - KEPT], newest_first[BURST - KEPT :]
            for job in cancelled:
                response = a.post(f"{API}/training/{job}/cancel")
                assert response.status_code == 200 and response.json()["status"] == "cancelled", response.text

            mine = b.post(f"{API}/training", json={"dataset_id": ds_b})
            assert mine.status_code == 202, mine.text
            job_b = mine.json()["job_id"]
            submitted_b = _at(b.get(f"{API}/status/{job_b}").json()["created_at"])

            final = {job: wait_for(a, job, timeout_s=120) for job in kept}
            final[job_b] = wait_for(b, job_b, timeout_s=120)
            assert {s["status"] for s in final.values()} == {"succeeded"}, final
            for job in cancelled:
                status = a.get(f"{API}/status/{job}").json()
                assert status["status"] == "cancelled"
                assert [e["kind"] for e in status["events"]] == ["created", "cancelled"], status["events"]

    ran = [job for job, _ in ledger(tmp_path)]
    assert sorted(ran) == sorted([*kept, job_b]), "a cancelled job started a function"

    # B's job went ahead of every job A still had waiting when B submitted ...
    dispatched = {job: _dispatched_at(status) for job, status in final.items()}
    waiting_then = [job for job in kept if dispatched[job] > submitted_b]
    assert all(dispatched[job_b] < dispatched[job] for job in waiting_then), (dispatched, submitted_b)
    # ... within one dispatch interval of the slot freeing (the end of the run before it, or B's submission).
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'api' / 'plastinka.db'}")
    with Session(engine) as session:
        ends = [row.finished_at for row in session.scalars(sa.select(CloudFunctionLog)) if row.finished_at]
    engine.dispose()
    freed = max([submitted_b, *(end for end in ends if end <= dispatched[job_b])])
    print(f"B dispatched {(dispatched[job_b] - freed).total_seconds():.3f} s after its slot freed")
    assert (dispatched[job_b] - freed).total_seconds() < DISPATCH_INTERVAL_S, (dispatched[job_b], freed)
