"""A test function: records what it was given, then does what the payload asks (fail, block, spawn, sleep)."""

import json
import subprocess
import sys
import time
from pathlib import Path


def handler(event, context):
    payload = json.loads(event) if isinstance(event, str | bytes) else event
    out = Path(payload["out"])
    seen = {
        "event_type": type(event).__name__,
        "payload": payload,
        "cwd": str(Path.cwd()),
        "request_id": context.request_id,
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    if "started" in payload:
        Path(payload["started"]).touch()
    print(f"echo stdout {context.request_id}")
    print(f"echo stderr {context.request_id}", file=sys.stderr)
    if "journal" in payload:
        with Path(payload["journal"]).open("a") as journal:
            journal.write(f"start {payload['n']}\n")
    if "wait_for" in payload:
        while not Path(payload["wait_for"]).exists():
            time.sleep(0.02)
    if "spawn" in payload:
        child = subprocess.Popen(["sleep", "300"])
        Path(payload["spawn"]).write_text(str(child.pid))
    if "sleep" in payload:
        time.sleep(payload["sleep"])
    if "journal" in payload:
        with Path(payload["journal"]).open("a") as journal:
            journal.write(f"end {payload['n']}\n")
    out.write_text(json.dumps(seen))
    if "raise" in payload:
        raise ValueError(payload["raise"])
    return {"ok": True, "n": payload.get("n")}
