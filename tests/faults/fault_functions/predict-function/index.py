"""Fault-injecting stand-in handler (see ../_faulty.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _faulty import predict


def handler(event, context):  # type: ignore[no-untyped-def]
    return predict(event, context)
