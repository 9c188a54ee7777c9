"""Run the API image's build and start-up steps without a Docker engine, from the Dockerfile itself.

Stage 1's ``COPY`` sources are copied into a scratch context and its ``pip wheel`` step runs in a fresh virtual
environment; the runtime stage's ``pip install`` runs in another one against those wheels only; then the
``ENTRYPOINT``/``CMD`` starts with the runtime stage's ``ENV`` (host, port and data dir moved to scratch values)
and the ``HEALTHCHECK`` command is polled until it passes. What this cannot cover: the base image, apt packages,
the non-root user. It downloads the third-party wheels from the package index, so it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from plastinka_infra_checks.dockerfile_rules import Instruction, parse_dockerfile, stages

_SKIP_PARTS = {"__pycache__", "tests", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv", "dist", "build"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _venv(python: str, path: Path) -> Path:
    subprocess.run([python, "-m", "venv", str(path)], check=True)  # noqa: S603
    return path / "bin"


def _shell(command: str, *, bin_dir: Path, cwd: Path, replace: dict[str, str]) -> None:
    """A RUN line through bash, BuildKit mount flags dropped, the venv first on PATH, paths remapped."""
    words = [w for w in shlex.split(command) if not w.startswith("--mount=")]
    line = shlex.join(words)
    for old, new in replace.items():
        line = line.replace(old, new)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    print(f"+ {line}", flush=True)
    subprocess.run(["bash", "-c", line], cwd=cwd, env=env, check=True)  # noqa: S603, S607


def _env_of(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in stage:
        if ins.name == "ENV":
            for token in shlex.split(ins.value):
                name, _, value = token.partition("=")
                env[name] = value
    return env


def _exec_form(value: str) -> list[str]:
    """A JSON exec-form argument list (``["a", "b"]``); HEALTHCHECK options before ``CMD`` are dropped."""
    start = value.index("[")
    return [str(v) for v in json.loads(value[start:])]


def smoke(repo: Path, dockerfile: Path, python: str, timeout_s: float) -> int:
    """Build and start the image's contents; 0 when the health check passes within ``timeout_s``."""
    built = stages(parse_dockerfile(dockerfile))
    wheels_stage, runtime = built[0], built[-1]
    with tempfile.TemporaryDirectory(prefix="plastinka-image-") as tmp:
        scratch = Path(tmp)
        context, wheels, data = scratch / "src", scratch / "wheels", scratch / "data"
        data.mkdir()
        for ins in wheels_stage:
            if ins.name == "COPY":
                source, target = ins.value.split()[:2]
                ignore = shutil.ignore_patterns(*_SKIP_PARTS, "*.pyc")
                shutil.copytree(repo / source, context / target, ignore=ignore)
        remap = {"/wheels": str(wheels)}
        build_bin = _venv(python, scratch / "build-venv")
        for ins in wheels_stage:
            if ins.name == "RUN":
                _shell(ins.value, bin_dir=build_bin, cwd=context, replace=remap)
        run_bin = _venv(python, scratch / "runtime-venv")
        for ins in runtime:
            if ins.name == "RUN" and "pip install" in ins.value:
                _shell(ins.value, bin_dir=run_bin, cwd=scratch, replace=remap)
        port = _free_port()
        env = {
            **os.environ,
            **_env_of(runtime),
            "PLASTINKA_HOST": "127.0.0.1",
            "PLASTINKA_PORT": str(port),
            "PLASTINKA_DATA_DIR": str(data),
            "PLASTINKA_INVOKER": "none",
            "PATH": f"{run_bin}{os.pathsep}{os.environ['PATH']}",
        }
        entry = next(i for i in runtime if i.name == "ENTRYPOINT")
        cmd = next(i for i in runtime if i.name == "CMD")
        health = _exec_form(next(i for i in runtime if i.name == "HEALTHCHECK").value)
        argv = [str(run_bin / _exec_form(entry.value)[0]), *_exec_form(entry.value)[1:], *_exec_form(cmd.value)]
        print(f"+ {shlex.join(argv)}  (port {port})", flush=True)
        server = subprocess.Popen(argv, cwd=data, env=env)  # noqa: S603
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if server.poll() is not None:
                    print(f"the API exited with {server.returncode} before it was healthy", file=sys.stderr)
                    return 1
                probe = subprocess.run(health, env=env, capture_output=True, check=False)  # noqa: S603
                if probe.returncode == 0:
                    print(f"healthy: {shlex.join(health[:2])} ... passed on port {port}")
                    return 0
                time.sleep(1.0)
            print(f"not healthy within {timeout_s:.0f}s", file=sys.stderr)
            return 1
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="plastinka-image-smoke", description=__doc__)
    parser.add_argument("--repo", type=Path, default=Path())
    parser.add_argument("--dockerfile", type=Path, default=Path("infra/docker/Dockerfile"))
    parser.add_argument("--python", default="python3.12", help="the image's interpreter (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for health (default: %(default)s)")
    args = parser.parse_args(argv)
    return smoke(args.repo.resolve(), args.dockerfile, args.python, args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
