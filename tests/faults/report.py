"""The fault matrix report: runs ``tests/faults`` (unless ``--last``) and prints each case's outcome.

hatch run faults:report            # runs the suite, then prints the matrix
hatch run faults:report --last     # prints the matrix of the last run
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from plastinka_testing.faults import render_matrix

HERE = Path(__file__).parent
RESULTS = Path(os.environ.get("PLASTINKA_FAULTS_RESULTS", HERE / ".matrix.jsonl"))


def main(argv: list[str]) -> int:
    code = 0
    if "--last" not in argv:
        command = [sys.executable, "-m", "pytest", str(HERE), "-q", "-p", "no:cacheprovider", *argv]
        code = subprocess.call(command)
    if not RESULTS.exists():
        print("no fault matrix results yet")
        return code or 1
    rows = [json.loads(line) for line in RESULTS.read_text("utf-8").splitlines() if line.strip()]
    print(render_matrix(rows))
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
