"""Makes the shared test kit (``apikit.py``) importable under pytest's importlib mode and registers its
fixtures."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from apikit import api, settings_factory, shop_files  # noqa: F401
