"""Child-process entry of the local runtime: run ``index.handler(event, context)`` like the cloud does.

Executed by path with any interpreter (the API's own, or a virtualenv built from a function zip), so it imports
nothing from plastinka. The parent writes one JSON spec to stdin; the handler's return value (or the error, in the
platform's ``errorType``/``errorMessage``/``stackTrace`` shape) goes to ``result_path``; exit status 1 means the
handler raised.
"""

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any


class Context:
    """Mirrors the Yandex Cloud Functions Python runtime context."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.request_id = spec["request_id"]
        self.function_name = spec["function_name"]
        self.function_version = spec.get("function_version", "local")
        self.memory_limit_in_mb = spec["memory_limit_in_mb"]
        self.deadline_ms = spec["deadline_ms"]
        self.token: dict[str, Any] | None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.deadline_ms - time.time() * 1000))


def main() -> int:
    spec = json.loads(sys.stdin.read())
    function_dir = spec["function_dir"]
    sys.path.insert(0, function_dir)
    os.chdir(function_dir)
    module_name, _, attr = spec.get("entrypoint", "index.handler").rpartition(".")
    context = Context(spec["context"])
    try:
        handler = getattr(importlib.import_module(module_name), attr)
        outcome, code = handler(spec["event"], context), 0
    except BaseException as exc:
        traceback.print_exc()
        outcome = {"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": traceback.format_exc()}
        code = 1
    with Path(spec["result_path"]).open("w", encoding="utf-8") as out:
        json.dump(outcome, out, default=str)
    sys.stdout.flush()
    sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
