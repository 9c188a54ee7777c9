"""The synchronous Yandex Cloud SDK calls the invoker needs: an IAM token and a function's invoke URL.

Everything here blocks; the async invoker calls it through ``asyncio.to_thread``. Each RPC carries a timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from yandex.cloud.iam.v1.iam_token_service_pb2 import CreateIamTokenRequest
from yandex.cloud.iam.v1.iam_token_service_pb2_grpc import IamTokenServiceStub
from yandex.cloud.serverless.functions.v1.function_pb2 import Function, Version
from yandex.cloud.serverless.functions.v1.function_service_pb2 import (
    GetFunctionRequest,
    GetFunctionVersionByTagRequest,
)
from yandex.cloud.serverless.functions.v1.function_service_pb2_grpc import FunctionServiceStub
from yandexcloud._auth_fabric import ServiceAccountAuth
from yandexcloud._sdk import SDK

YC_API_ENDPOINT = "api.cloud.yandex.net"

# A static IAM token (from the metadata service or the CLI) carries no expiry we can see: assume the platform's.
STATIC_TOKEN_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class IamToken:
    value: str
    expires_at: datetime
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class ResolvedFunction:
    function_id: str
    http_invoke_url: str
    tag: str
    version_id: str


class FunctionResolutionError(Exception):
    """The function or its tagged version is missing or not active: a configuration error, not transient."""


@dataclass(frozen=True, slots=True)
class CloudCredentials:
    """One of: a service-account authorized key (the ``yc iam key create`` JSON) or a ready IAM token."""

    service_account_key: Mapping[str, str] | None = None
    iam_token: str | None = None

    def __post_init__(self) -> None:
        if (self.service_account_key is None) == (self.iam_token is None):
            raise ValueError("give exactly one of service_account_key or iam_token")


class CloudApi:
    """The SDK lookups; ``functions_endpoint`` overrides endpoint discovery (loopback fakes, private endpoints).

    The service-account key is used only to mint IAM tokens. FunctionService calls carry the invoker's own cached
    token (an SDK object built for that token), so one token serves the lookups and the invoke call alike and the
    SDK does not mint tokens of its own in the background.
    """

    def __init__(
        self,
        credentials: CloudCredentials,
        *,
        api_endpoint: str = YC_API_ENDPOINT,
        root_certificates: bytes | None = None,
        functions_endpoint: str | None = None,
        insecure: bool = False,
        rpc_timeout_s: float = 10.0,
    ) -> None:
        self._credentials = credentials
        self._api_endpoint = api_endpoint
        self._root_certificates = root_certificates
        self._rpc_timeout_s = rpc_timeout_s
        self._functions_endpoint = functions_endpoint
        self._insecure = insecure
        self._minting_sdk: SDK | None = None
        self._functions: tuple[str, SDK, FunctionServiceStub] | None = None

    def create_iam_token(self) -> IamToken:
        now = datetime.now(UTC)
        if self._credentials.iam_token is not None:
            return IamToken(self._credentials.iam_token, now + STATIC_TOKEN_LIFETIME, now)
        key = dict(self._credentials.service_account_key or {})
        if self._minting_sdk is None:
            self._minting_sdk = self._sdk(service_account_key=key)
        # The SDK builds the PS256 JWT (kid = key id, iss = service account, aud = the IAM token URL).
        request: CreateIamTokenRequest = ServiceAccountAuth(key, self._api_endpoint).get_token_request()
        response = self._minting_sdk.client(IamTokenServiceStub).Create(request, timeout=self._rpc_timeout_s)
        expires_at = response.expires_at.ToDatetime(tzinfo=UTC) if response.HasField("expires_at") else None
        return IamToken(response.iam_token, expires_at or now + STATIC_TOKEN_LIFETIME, now)

    def resolve(self, function_id: str, tag: str, token: str) -> ResolvedFunction:
        stub = self._function_service(token)
        try:
            function: Function = stub.Get(GetFunctionRequest(function_id=function_id), timeout=self._rpc_timeout_s)
            version: Version = stub.GetVersionByTag(
                GetFunctionVersionByTagRequest(function_id=function_id, tag=tag), timeout=self._rpc_timeout_s
            )
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
                raise FunctionResolutionError(f"function {function_id} tag {tag}: {exc.details()}") from exc
            raise
        if function.status != Function.Status.ACTIVE:
            raise FunctionResolutionError(f"function {function_id} is {Function.Status.Name(function.status)}")
        if version.status != Version.Status.ACTIVE:
            raise FunctionResolutionError(f"version {version.id} of {function_id} is not active")
        if not function.http_invoke_url:
            raise FunctionResolutionError(f"function {function_id} has no http_invoke_url")
        return ResolvedFunction(function_id, function.http_invoke_url, tag, version.id)

    def close(self) -> None:
        for sdk in (self._minting_sdk, self._functions[1] if self._functions else None):
            if sdk is not None:
                _close_channels(sdk)

    def _sdk(self, **credentials: Any) -> SDK:
        return SDK(
            user_agent="plastinka-api",
            endpoint=self._api_endpoint,
            root_certificates=self._root_certificates,
            **credentials,
        )

    def _function_service(self, token: str) -> FunctionServiceStub:
        if self._functions is None or self._functions[0] != token:
            if self._functions is not None:
                _close_channels(self._functions[1])
            sdk = self._sdk(iam_token=token)
            stub = sdk.client(FunctionServiceStub, endpoint=self._functions_endpoint, insecure=self._insecure)
            self._functions = (token, sdk, stub)
        return self._functions[2]


def _close_channels(sdk: SDK) -> None:
    # The SDK caches its gRPC channels privately and has no close(); release them when that cache is there.
    cache = getattr(getattr(sdk, "_channels", None), "_channels", {})
    for channel in list(cache.values()):
        channel.close()
