"""Stand-in function handlers for the e2e and fault suites: the real attempt lifecycle of
plastinka-function-runtime (status events, status object, signed callbacks, artifact checksums) around trivial
work, so a test can run dozens of jobs in seconds. Point ``PLASTINKA_FUNCTIONS_DIR`` at :data:`STAND_IN_FUNCTIONS`.

Behaviour is switched by environment variables (the API's environment reaches the local runtime's processes):

* ``PLASTINKA_TEST_LEDGER=<path>``: each run appends ``<job_id> <attempt>`` there, so a test can count runs.
* ``PLASTINKA_TEST_WORK_S=<s>``: training takes that long (a timeout, or a window for killing the API).
* ``PLASTINKA_TEST_CRASH_ATTEMPT=<n>``: training attempt n dies without a word (``os._exit``).
* ``PLASTINKA_TEST_CORRUPT_ATTEMPT=<n>``: attempt n overwrites its model after writing it, so the manifest's
  sha256 no longer matches the stored bytes.
* ``PLASTINKA_TEST_CALLBACKS=drop|duplicate|reorder|replay``: callbacks never sent (only the status object is
  left), each sent twice, ``running``/progress held back until after the final event, or every event sent
  again after the attempt ended.
"""

from pathlib import Path

from plastinka_testing.stand_ins._handlers import predict, train

__all__ = ["STAND_IN_FUNCTIONS", "predict", "train"]

#: The folder holding ``train-function/`` and ``predict-function/``, each with an ``index.py``.
STAND_IN_FUNCTIONS = Path(__file__).parent
