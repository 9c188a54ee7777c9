"""The child side of :func:`~plastinka_forecasting.ingest.check_upload`: ``python -m`` this module, a JSON request
on stdin, one JSON answer on stdout. The address space is capped before the files are read."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import polars as pl

from ._errors import DataError, reraise_interrupt
from ._limits import IngestLimits
from ._load import load_sales_bytes
from ._report import dataset_report


def _status(field: str) -> int | None:
    """A size from /proc/self/status, in bytes; None off Linux."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return None


def cap_memory(budget: int) -> None:
    """Cap the address space (RLIMIT_AS) so that this process's resident size stays under ``budget`` bytes: it may
    grow by the budget less what it already holds. Past the cap an allocation fails, in Python as MemoryError, in
    polars' Rust code as an abort; either way this process alone ends."""
    try:
        import resource  # noqa: PLC0415 - POSIX only
    except ImportError:  # Windows: no cap, the checks before it still hold
        return

    # Threads reserve address space when they start: start polars' pool first, so the idle size includes it.
    pl.DataFrame({"warm": [1, 2]}).select(pl.col("warm").sum())
    size, resident = _status("VmSize"), _status("VmRSS")
    if size is None or resident is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + max(budget - resident, 0)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    except (ValueError, OSError):  # a platform that will not lower it (macOS may refuse): no cap
        return


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    sales, stock = request["sales"], request["stock"]
    try:
        data = load_sales_bytes(
            Path(sales["path"]).read_bytes(),
            sales["name"],
            Path(stock["path"]).read_bytes() if stock else None,
            stock["name"] if stock else None,
            limits=IngestLimits(**request["limits"]),
        )
        report = dataset_report(data, max_issues=request["max_issues"])
        return {
            "report": report.model_dump(mode="json"),
            "item_ids": data.attributes.get_column("item_id").to_list(),
            "aliases": data.report.aliases,
        }
    except DataError as error:
        return {"refused": {"file": error.file, "row": error.row, "column": error.column, "reason": error.reason}}
    except MemoryError:
        return {"memory": True}
    except BaseException as error:  # a Rust panic outside the readers' own guards is still the file's doing
        reraise_interrupt(error)
        if type(error).__name__ != "PanicException":
            raise
        names = sales["name"] if not stock else f"{sales['name']} or {stock['name']}"
        reason = "the file cannot be read (its parser failed on it)"
        return {"refused": {"file": names, "row": None, "column": None, "reason": reason}}


def main() -> None:
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the answer
    request = json.load(sys.stdin)
    cap_memory(request["memory_bytes"])
    json.dump(_answer(request), answer, ensure_ascii=False)
    answer.close()


if __name__ == "__main__":
    main()
