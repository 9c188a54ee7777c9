"""What the Plastinka function handlers share: events, storage from the environment, the attempt lifecycle.

Importing this package is cheap: storage (aioboto3), the reporter (httpx) and pydantic models load on first use.
"""

from plastinka_function_runtime.archive import ArchiveError, pack_directory, unpack_archive
from plastinka_function_runtime.attempt import Attempt, FunctionContext, Outcome, is_transient, run_attempt
from plastinka_function_runtime.environment import ConfigurationError, storage_settings
from plastinka_function_runtime.events import RequestError, decode_event, parse_request
from plastinka_function_runtime.stats import Meter, next_invocation_is_cold, peak_memory_mb

__all__ = [
    "ArchiveError",
    "Attempt",
    "ConfigurationError",
    "FunctionContext",
    "Meter",
    "Outcome",
    "RequestError",
    "decode_event",
    "is_transient",
    "next_invocation_is_cold",
    "pack_directory",
    "parse_request",
    "peak_memory_mb",
    "run_attempt",
    "storage_settings",
    "unpack_archive",
]
