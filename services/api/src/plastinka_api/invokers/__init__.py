"""Running the serverless functions: one ``FunctionInvoker`` interface, a Yandex Cloud and a local runtime."""

from plastinka_api.invokers.base import (
    FunctionInvoker,
    InvocationError,
    InvocationRejectedError,
    InvocationResult,
    InvocationUnavailableError,
    Payload,
    UnknownFunctionError,
)
from plastinka_api.invokers.cloud_api import CloudApi, CloudCredentials, FunctionResolutionError, ResolvedFunction
from plastinka_api.invokers.local import LocalFunction, LocalFunctionInvoker, LocalRun
from plastinka_api.invokers.recording import AttemptRecord, InvocationRecorder, LoggingRecorder, MemoryRecorder
from plastinka_api.invokers.retry import RetryPolicy
from plastinka_api.invokers.yandex import YandexFunction, YandexFunctionInvoker, YandexInvokerSettings

__all__ = [
    "AttemptRecord",
    "CloudApi",
    "CloudCredentials",
    "FunctionInvoker",
    "FunctionResolutionError",
    "InvocationError",
    "InvocationRecorder",
    "InvocationRejectedError",
    "InvocationResult",
    "InvocationUnavailableError",
    "LocalFunction",
    "LocalFunctionInvoker",
    "LocalRun",
    "LoggingRecorder",
    "MemoryRecorder",
    "Payload",
    "ResolvedFunction",
    "RetryPolicy",
    "UnknownFunctionError",
    "YandexFunction",
    "YandexFunctionInvoker",
    "YandexInvokerSettings",
]
