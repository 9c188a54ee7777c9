"""The synchronous Yandex Cloud SDK calls the invoker needs: an IAM token and a function's invoke URL.

Everything here blocks; the async invoker calls it through ``asyncio.to_thread``. Only the SDK's public surface
is used (``yandexcloud.SDK``, ``SDK.client`` and the generated stubs), and every network call has a deadline:
each RPC carries a timeout, and the endpoint discovery the SDK runs inside ``SDK.client`` (which takes none) is
bounded by running it in a worker thread that the caller stops waiting for.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
import jwt
from yandex.cloud.iam.v1.iam_token_service_pb2 import CreateIamTokenRequest
from yandex.cloud.iam.v1.iam_token_service_pb2_grpc import IamTokenServiceStub
from yandex.cloud.serverless.functions.v1.function_pb2 import Function, Version
from yandex.cloud.serverless.functions.v1.function_service_pb2 import (
    GetFunctionRequest,
    GetFunctionVersionByTagRequest,
)
from yandex.cloud.serverless.functions.v1.function_service_pb2_grpc import FunctionServiceStub

# The documented entry point. yandexcloud's __init__ imports it without an __all__, so mypy --strict does not
# count it as exported; it is the public name all the same.
from yandexcloud import SDK  # type: ignore[attr-defined]

YC_API_ENDPOINT = "api.cloud.yandex.net"
JWT_LIFETIME = timedelta(hours=1)  # the longest a service-account JWT may live for IamTokenService.Create
T = TypeVar("T")

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


class CloudApiTimeout(grpc.RpcError):  # type: ignore[misc, unused-ignore]
    """A call with no deadline of its own (the SDK's endpoint discovery) did not finish in time: transient."""

    def __init__(self, what: str, timeout_s: float) -> None:
        super().__init__(f"{what} took over {timeout_s:g}s")
        self._details = f"{what} took over {timeout_s:g}s"

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.DEADLINE_EXCEEDED

    def details(self) -> str:
        return self._details


def within(timeout_s: float, what: str, call: Callable[[], T]) -> T:
    """``call()``, or ``CloudApiTimeout`` once ``timeout_s`` has passed (the call is left to finish in a daemon
    thread: a blocking gRPC call cannot be interrupted from outside)."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"plastinka-{what}", daemon=True).start()
    if not done.wait(timeout_s):
        raise CloudApiTimeout(what, timeout_s)
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def service_account_jwt(key: Mapping[str, str], api_endpoint: str, now: datetime | None = None) -> str:
    """The PS256 JWT that IamTokenService.Create exchanges for an IAM token (kid = key id, iss = service account,
    aud = the IAM token URL of ``api_endpoint``), as Yandex documents it."""
    issued = now or datetime.now(UTC)
    claims = {
        "iss": key["service_account_id"],
        "aud": f"https://iam.{api_endpoint}/iam/v1/tokens",
        "iat": issued,
        "exp": issued + JWT_LIFETIME,
    }
    return jwt.encode(claims, key["private_key"], algorithm="PS256", headers={"kid": key["id"]})


@dataclass(frozen=True, slots=True)
class CloudCredentials:
    """One of: a service-account authorized key (the ``yc iam key create`` JSON), a ready IAM token, or the
    metadata service of the VM or serverless container the API runs in (the account attached to it)."""

    service_account_key: Mapping[str, str] | None = None
    iam_token: str | None = None
    metadata_url: str | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.service_account_key, self.iam_token, self.metadata_url) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of service_account_key, iam_token or metadata_url")


class CloudApi:
    """The SDK lookups; ``functions_endpoint`` overrides endpoint discovery (loopback fakes, private endpoints).

    The service-account key is used only to mint IAM tokens. FunctionService calls carry the invoker's own cached
    token (an SDK object built for that token), so one token serves the lookups and the invoke call alike and the
    SDK does not mint tokens of its own in the background. The SDK has no public close: an SDK object built for an
    old token is dropped, and its channels close when it is collected.
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
        self._minting: IamTokenServiceStub | None = None
        self._functions: tuple[str, FunctionServiceStub] | None = None

    def create_iam_token(self) -> IamToken:
        now = datetime.now(UTC)
        if self._credentials.iam_token is not None:
            return IamToken(self._credentials.iam_token, now + STATIC_TOKEN_LIFETIME, now)
        if self._credentials.metadata_url is not None:
            return self._metadata_token(self._credentials.metadata_url, now)
        key = dict(self._credentials.service_account_key or {})
        if self._minting is None:
            sdk = self._sdk(service_account_key=key)
            self._minting = within(self._rpc_timeout_s, "endpoint-discovery", lambda: sdk.client(IamTokenServiceStub))
        request = CreateIamTokenRequest(jwt=service_account_jwt(key, self._api_endpoint, now))
        response = self._minting.Create(request, timeout=self._rpc_timeout_s)
        expires_at = response.expires_at.ToDatetime(tzinfo=UTC) if response.HasField("expires_at") else None
        return IamToken(response.iam_token, expires_at or now + STATIC_TOKEN_LIFETIME, now)

    def _metadata_token(self, url: str, now: datetime) -> IamToken:
        """``{"access_token", "expires_in"}`` from the metadata service, within the RPC timeout."""
        request = urllib.request.Request(url, headers={"Metadata-Flavor": "Google"})  # noqa: S310 - a fixed http URL
        try:
            with urllib.request.urlopen(request, timeout=self._rpc_timeout_s) as response:  # noqa: S310
                body = json.loads(response.read())
        except (OSError, ValueError) as exc:  # URLError, timeouts and a bad body: the service may come back
            raise CloudApiTimeout(f"metadata token ({exc})", self._rpc_timeout_s) from exc
        lifetime = timedelta(seconds=float(body.get("expires_in", STATIC_TOKEN_LIFETIME.total_seconds())))
        return IamToken(str(body["access_token"]), now + lifetime, now)

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
        self._minting = None
        self._functions = None

    def _sdk(self, **credentials: Any) -> Any:
        return SDK(
            user_agent="plastinka-api",
            endpoint=self._api_endpoint,
            root_certificates=self._root_certificates,
            **credentials,
        )

    def _function_service(self, token: str) -> FunctionServiceStub:
        if self._functions is None or self._functions[0] != token:
            sdk = self._sdk(iam_token=token)
            stub = within(
                self._rpc_timeout_s,
                "endpoint-discovery",
                lambda: sdk.client(FunctionServiceStub, endpoint=self._functions_endpoint, insecure=self._insecure),
            )
            self._functions = (token, stub)
        return self._functions[1]
