"""A fresh PostgreSQL database per test, on a real server.

The server is, in order: ``$PLASTINKA_TEST_POSTGRES_URL``; the local server on 127.0.0.1:5432 (user
``postgres``, trust auth) if it answers; else a throwaway cluster (``initdb`` + ``pg_ctl`` from
``/usr/lib/postgresql/*/bin``) on a free loopback port in a temp dir, run as the ``postgres`` OS user when we
are root. ``PLASTINKA_TEST_POSTGRES=throwaway`` skips straight to the throwaway cluster. When none works the
test is skipped, or failed when ``CI=true``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = [
    "ENV_MODE",
    "ENV_URL",
    "LOCAL_URL",
    "PostgresDatabase",
    "PostgresServer",
    "PostgresUnavailable",
    "ThrowawayCluster",
    "find_postgres_bin",
    "postgres_database",
    "postgres_server",
    "postgres_url",
    "resolve_server",
]

ENV_URL = "PLASTINKA_TEST_POSTGRES_URL"
ENV_MODE = "PLASTINKA_TEST_POSTGRES"
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_OS_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started."""


def _unavailable(message: str) -> None:
    """Skip, except on CI (``CI=true``) where a missing peer is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _answers(dsn: str, timeout_s: int = 3) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=timeout_s, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def find_postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``pg_ctl`` (else ``$PATH``)."""

    def version(path: Path) -> tuple[int, ...]:
        try:
            return tuple(int(part) for part in path.parent.name.split("."))
        except ValueError:
            return (0,)

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ThrowawayCluster:
    """A PostgreSQL cluster in a temp dir on a loopback port, removed by :meth:`stop`."""

    root: Path
    bin_dir: Path
    port: int
    as_user: str | None
    running: bool = field(default=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout_s: float = 120) -> None:
        prefix = ["runuser", "-u", self.as_user, "--"] if self.as_user else []
        result = subprocess.run(  # noqa: S603 - fixed binaries, arguments we build
            [*prefix, *args], capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: {result.stderr.strip()[-2000:]}\n{tail}")

    @classmethod
    def start(cls, bin_dir: Path | None = None) -> ThrowawayCluster:
        bin_dir = bin_dir or find_postgres_bin()
        if bin_dir is None:
            raise PostgresUnavailable("no initdb/pg_ctl found under /usr/lib/postgresql/*/bin or on PATH")
        as_user: str | None = None
        root = Path(tempfile.mkdtemp(prefix="plastinka-pg-"))
        if os.geteuid() == 0:
            # initdb refuses to run as root: hand the directory to the postgres OS user and run as them.
            try:
                account = pwd.getpwnam(_OS_USER)
            except KeyError:
                shutil.rmtree(root, ignore_errors=True)
                raise PostgresUnavailable(f"running as root and there is no {_OS_USER!r} OS user") from None
            os.chown(root, account.pw_uid, account.pw_gid)
            as_user = _OS_USER
        cluster = cls(root=root, bin_dir=bin_dir, port=_free_port(), as_user=as_user)
        try:
            cluster._run(
                str(bin_dir / "initdb"),
                "-D",
                str(cluster.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            )
            options = (
                f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {root} "
                "-c fsync=off -c full_page_writes=off -c max_connections=200"
            )
            cluster._run(
                str(bin_dir / "pg_ctl"),
                "-D",
                str(cluster.data_dir),
                "-l",
                str(root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
            cluster.running = True
        except (PostgresUnavailable, OSError, subprocess.TimeoutExpired) as exc:
            cluster.stop()
            raise PostgresUnavailable(f"cannot start a throwaway PostgreSQL cluster: {exc}") from exc
        atexit.register(cluster.stop)
        return cluster

    def stop(self) -> None:
        if self.running:
            with contextlib.suppress(PostgresUnavailable, OSError, subprocess.TimeoutExpired):
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True)
class PostgresDatabase:
    """One test's database: ``dsn`` for libpq/psycopg, ``url`` for SQLAlchemy (psycopg 3 driver)."""

    name: str
    dsn: str
    url: str


@dataclass
class PostgresServer:
    """A reachable server and the maintenance DSN used to create and drop test databases."""

    dsn: str
    cluster: ThrowawayCluster | None = None

    def _dsn_for(self, database: str) -> str:
        return make_conninfo(self.dsn, dbname=database)

    def create_database(self) -> PostgresDatabase:
        name = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        params = conninfo_to_dict(self.dsn)
        user = params.get("user") or "postgres"
        password = f":{params['password']}" if params.get("password") else ""
        host = params.get("host") or "127.0.0.1"
        port = params.get("port") or "5432"
        url = f"postgresql+psycopg://{user}{password}@{host}:{port}/{name}"
        return PostgresDatabase(name=name, dsn=self._dsn_for(name), url=url)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            # FORCE ends sessions a test leaked (or a killed child left behind) instead of failing the drop.
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()


def resolve_server() -> PostgresServer:
    """Find or start a server (see the module docstring); raises :class:`PostgresUnavailable`."""
    mode = os.environ.get(ENV_MODE, "").strip().lower()
    if mode not in {"", "throwaway"}:
        raise PostgresUnavailable(f"{ENV_MODE} must be empty or 'throwaway', not {mode!r}")
    if mode != "throwaway":
        configured = os.environ.get(ENV_URL, "").strip()
        if configured:
            dsn = configured.replace("postgresql+psycopg://", "postgresql://", 1)
            if not _answers(dsn):
                raise PostgresUnavailable(f"{ENV_URL} is set but the server does not answer")
            return PostgresServer(dsn=dsn)
        if _answers(LOCAL_URL):
            return PostgresServer(dsn=LOCAL_URL)
    cluster = ThrowawayCluster.start()
    if not _answers(cluster.url, timeout_s=10):
        cluster.stop()
        raise PostgresUnavailable("the throwaway cluster started but does not answer")
    return PostgresServer(dsn=cluster.url, cluster=cluster)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test session (skips, or fails on CI, when there is none)."""
    try:
        server = resolve_server()
    except PostgresUnavailable as exc:
        _unavailable(f"no PostgreSQL server: {exc}")
        raise  # unreachable: _unavailable always raises
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[PostgresDatabase]:
    """A fresh, empty database for this test, dropped afterwards."""
    database = postgres_server.create_database()
    try:
        yield database
    finally:
        postgres_server.drop_database(database.name)


@pytest.fixture
def postgres_url(postgres_database: PostgresDatabase) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://``) of a fresh database for this test."""
    return postgres_database.url
