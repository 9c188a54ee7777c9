"""The API as a real process on loopback: started, waited for and stopped the way an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["free_port", "log_tail", "serve_api"]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def serve_api(
    settings: Mapping[str, str],
    log: Path,
    *,
    port: int | None = None,
    startup_timeout_s: float = 120.0,
    prefix: Sequence[str] = (),
    stop_signal: signal.Signals = signal.SIGTERM,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``python -m plastinka_api serve`` with ``PLASTINKA_*`` ``settings`` until ``/health`` answers.

    Yields the base URL and the process; on exit the process gets ``stop_signal`` (killed after 20 s). The
    server's output goes to ``log``, whose tail is in every start-up failure message. ``prefix`` runs the
    server under another command (a profiler, say, which may want ``SIGINT`` to write its output).
    """
    port = port or free_port()
    env = {**os.environ, "PLASTINKA_HOST": "127.0.0.1", "PLASTINKA_PORT": str(port), **settings}
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [*prefix, sys.executable, "-m", "plastinka_api", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited with {process.returncode}:\n{log_tail(log)}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not start:\n{log_tail(log)}")
            time.sleep(0.1)
        yield url, process
    finally:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
