"""End-to-end fixtures: the API as a real process (``python -m plastinka_api serve``) on a loopback port."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from e2ekit import shop  # noqa: F401
