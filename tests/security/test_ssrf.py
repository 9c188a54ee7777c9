"""Finding 2: callback URLs cannot reach inside.

Refused at submission (422 naming ``body.callback_url``, nothing written) and again at every delivery, where
the connection is pinned to the address that was checked. Every URL here is an IP literal or a name refused
before resolution, or is resolved by a stand-in resolver: no test resolves a public name or sends a packet
beyond loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from plastinka_api import egress
from plastinka_api.egress import EgressPolicy
from plastinka_api.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, verify
from plastinka_testing.security import SecureServer, event, secure_server, training_manifest
from plastinka_testing.servers import API, post_dataset
from plastinka_testing.yandex import CallbackSink, loopback_certificate

INSIDE = [
    "http://127.0.0.1:9911/x",
    "http://localhost:9911/x",
    "http://LOCALHOST./x",
    "http://api.localhost/x",
    "http://[::1]:9911/x",
    "http://2130706433:9911/x",
    "http://0x7f000001:9911/x",
    "http://0177.0.0.1:9911/x",
    "http://127.1:9911/x",
    "http://0.0.0.0:9911/x",
    "http://0/x",
    "http://[::]/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/x",
    "http://10.0.0.1/x",
    "http://172.16.5.4/x",
    "http://192.168.1.1/x",
    "http://100.64.0.1/x",
    "http://100.100.100.200/latest/meta-data",
    "http://224.0.0.1/x",
    "http://255.255.255.255/x",
    "http://240.0.0.1/x",
    "http://[fe80::1]/x",
    "http://[fd00:ec2::254]/latest/meta-data",
    "http://[fc00::1]/x",
    "http://[ff02::1]/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[::ffff:169.254.169.254]/x",
    "http://[::127.0.0.1]/x",
    "http://[64:ff9b::a9fe:a9fe]/x",  # NAT64 of 169.254.169.254
    "http://[2002:7f00:1::]/x",  # 6to4 of 127.0.0.1
    "https://127.0.0.1/x",
]


def test_classification_of_addresses() -> None:
    for text in ("8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111"):
        assert egress.is_public(ipaddress.ip_address(text)), text
    for text in (
        "127.0.0.1",
        "10.1.2.3",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "::1",
        "::",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",
        "2002:a00:1::",
        "fd00::1",
        "ff02::1",
        "198.18.0.1",
        "192.0.2.1",
    ):
        assert not egress.is_public(ipaddress.ip_address(text)), text


def test_the_allow_list_parses_names_addresses_and_networks() -> None:
    policy = EgressPolicy.parse("Hooks.Example.COM., 127.0.0.1 10.0.0.0/8,[::1]")
    assert policy.trusts_name("hooks.example.com") and not policy.trusts_name("example.com")
    for listed in ("127.0.0.1", "10.9.9.9", "::1"):
        assert policy.trusts_address(ipaddress.ip_address(listed))
    assert not policy.trusts_address(ipaddress.ip_address("127.0.0.2"))
    assert EgressPolicy.parse("") == EgressPolicy()


@pytest.mark.parametrize("url", INSIDE)
def test_a_callback_inside_is_refused_at_submission(
    server: SecureServer, objects: dict[str, str], callback_sink: CallbackSink, url: str
) -> None:
    before = server.rows()
    with server.client(server.keys["analyst"]) as client:
        for path, body in (("training", {"dataset_id": objects["ds"]}), ("prediction", {"model_id": objects["model"]})):
            response = client.post(f"{API}/{path}", json={**body, "callback_url": url})
            assert response.status_code == 422, (url, response.text)
            assert response.json()["details"][0]["where"] == "body.callback_url"
    assert server.rows() == before
    assert callback_sink.requests == []


def test_a_public_hosts_mail_or_shell_port_is_refused_at_submission(
    server: SecureServer, objects: dict[str, str]
) -> None:
    with server.client(server.keys["analyst"]) as client:
        for url in ("http://93.184.215.14:25/x", "https://93.184.215.14:22/x"):
            response = client.post(f"{API}/training", json={"dataset_id": objects["ds"], "callback_url": url})
            assert response.status_code == 422, (url, response.text)
            detail = response.json()["details"][0]
            assert detail["where"] == "body.callback_url" and "port 80, 443 or any port from 1024" in detail["message"]


def test_web_and_unprivileged_ports_pass_and_a_trusted_host_may_use_any() -> None:
    public = Answers(["93.184.215.14"])
    for url in ("http://hooks.test/x", "https://hooks.test/x", "http://hooks.test:8080/x", "https://hooks.test:65535/"):
        assert asyncio.run(egress.check(url, EgressPolicy(), resolver=public)).address == "93.184.215.14"
    for url in ("http://hooks.test:25/x", "http://hooks.test:1023/x", "https://hooks.test:22/x"):
        with pytest.raises(egress.RefusedDestination, match="port"):
            asyncio.run(egress.check(url, EgressPolicy(), resolver=public))
    for trusted in ("hooks.test", "93.184.215.0/24"):
        destination = asyncio.run(egress.check("http://hooks.test:25/x", EgressPolicy.parse(trusted), resolver=public))
        assert destination.address == "93.184.215.14"


def test_the_api_itself_is_refused_as_a_callback(server: SecureServer, objects: dict[str, str]) -> None:
    with server.client(server.keys["analyst"]) as client:
        body = {"dataset_id": objects["ds"], "callback_url": f"{server.url}{API}/keys"}
        response = client.post(f"{API}/training", json=body)
    assert response.status_code == 422
    assert "not a public address" in response.json()["message"]


# --- delivery: checked again, pinned, no redirects ------------------------------------------------------


class Answers:
    """A stand-in resolver: the addresses each successive lookup of a name returns."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _port(sink: CallbackSink) -> int:
    return int(sink.url.rsplit(":", 1)[1].split("/", 1)[0])


def test_dns_rebinding_is_refused_at_delivery(callback_sink: CallbackSink) -> None:
    """The name was public at submission; at delivery it resolves to loopback: nothing is sent."""
    resolver = Answers(["93.184.215.14"], ["127.0.0.1"])
    sender = WebhookSender(b"k" * 32, resolver=resolver)
    url = f"http://hooks.rebind.test:{_port(callback_sink)}/hook"

    async def run() -> tuple[bool, bool, str | None]:
        await sender.check(url)  # what the submission does
        return await sender.post_once(url, "job.succeeded", {"job_id": "tj_1"})

    delivered, retryable, error = asyncio.run(run())
    assert (delivered, retryable) == (False, False)
    assert error is not None and "127.0.0.1" in error
    assert resolver.asked == ["hooks.rebind.test", "hooks.rebind.test"]
    assert callback_sink.requests == []


def test_delivery_connects_to_the_checked_address_with_the_original_host(callback_sink: CallbackSink) -> None:
    resolver = Answers(["127.0.0.1"])
    sender = WebhookSender(b"k" * 32, policy=EgressPolicy.parse("127.0.0.1"), resolver=resolver)
    port = _port(callback_sink)
    delivered, _, error = asyncio.run(
        sender.post_once(f"http://hooks.pinned.test:{port}/hook", "job.succeeded", {"job_id": "tj_1"})
    )
    assert delivered, error
    path, headers, body = callback_sink.requests[0]
    assert path == "/hook" and headers["host"] == f"hooks.pinned.test:{port}"
    assert body == b'{"job_id":"tj_1"}'


@pytest.fixture
def tls_listener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, list[str]]]:
    """An https listener on loopback whose certificate names ``localhost`` and 127.0.0.1; the webhook client
    trusts it through SSL_CERT_FILE (as an operator with a private CA would). Yields (port, request hosts)."""
    cert, key = loopback_certificate()
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hosts.append(str(self.headers.get("Host")))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hosts
    finally:
        server.shutdown()
        server.server_close()


def test_tls_checks_the_certificate_against_the_name_not_the_pinned_address(
    tls_listener: tuple[int, list[str]],
) -> None:
    port, hosts = tls_listener
    policy = EgressPolicy.parse("localhost, 127.0.0.1")
    sender = WebhookSender(b"k" * 32, policy=policy, resolver=Answers(["127.0.0.1"]))
    delivered, _, error = asyncio.run(sender.post_once(f"https://localhost:{port}/hook", "job.succeeded", {}))
    assert delivered, error
    assert hosts == [f"localhost:{port}"]
    # The certificate covers 127.0.0.1, the address connected to, but not this name: refused by the client.
    delivered, _, error = asyncio.run(sender.post_once(f"https://hooks.other.test:{port}/hook", "job.succeeded", {}))
    assert not delivered and error is not None and "certificate" in error.lower(), error
    assert hosts == [f"localhost:{port}"]


def test_redirects_are_not_followed(callback_sink: CallbackSink) -> None:
    callback_sink.answers.append(307)
    sender = WebhookSender(b"k" * 32, policy=EgressPolicy.parse("127.0.0.1"))
    delivered, retryable, error = asyncio.run(sender.post_once(callback_sink.url, "job.succeeded", {}))
    assert (delivered, retryable, error) == (False, False, "answered 307")
    assert [path for path, _, _ in callback_sink.requests] == ["/internal/jobs/events"]


def test_an_unresolvable_name_is_retried_later_not_dropped() -> None:
    async def nowhere(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    sender = WebhookSender(b"k" * 32, resolver=nowhere)
    delivered, retryable, _ = asyncio.run(sender.post_once("http://gone.test/hook", "job.succeeded", {}))
    assert (delivered, retryable) == (False, True)


# --- the operator's allow-list, end to end over a live server --------------------------------------------


@pytest.fixture(scope="module")
def trusting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureServer]:
    env = {"PLASTINKA_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "PLASTINKA_WEBHOOK_INTERVAL_S": "0.2"}
    with secure_server(tmp_path_factory.mktemp("trusting-api"), env) as running:
        yield running


def _finish_training(server: SecureServer, client: Any, dataset: str, callback_url: str) -> str:
    submitted = client.post(f"{API}/training", json={"dataset_id": dataset, "callback_url": callback_url})
    assert submitted.status_code == 202, submitted.text
    job_id = str(submitted.json()["job_id"])
    assert job_id in server.claim()
    done = server.post_event(event(job_id, 1, "succeeded", manifest=training_manifest(server, job_id, 1)))
    assert done.status_code == 200, done.text
    return job_id


def test_an_allow_listed_loopback_listener_gets_the_webhook(
    trusting: SecureServer, shop: tuple[Path, Path], callback_sink: CallbackSink
) -> None:
    with trusting.client() as client:
        created = post_dataset(client, shop[0].read_bytes(), shop[0].name, shop[1].read_bytes())
        assert created.status_code == 201, created.text
        refused = client.post(
            f"{API}/training", json={"dataset_id": created.json()["id"], "callback_url": "http://10.0.0.1/x"}
        )
        assert refused.status_code == 422  # the list opens what it names, nothing else
        owner_secret = client.post(f"{API}/keys/webhook-secret").json()["secret"].encode()
        job_id = _finish_training(trusting, client, created.json()["id"], callback_sink.url)
    deadline = time.monotonic() + 30
    while not callback_sink.events:
        assert time.monotonic() < deadline, trusting.log_tail()
        time.sleep(0.1)
    assert callback_sink.events[0]["job_id"] == job_id
    _, headers, body = callback_sink.requests[0]
    assert verify(owner_secret, int(headers[TIMESTAMP_HEADER.lower()]), body, headers[SIGNATURE_HEADER.lower()])
