"""The throwaway-cluster path of plastinka_testing.postgres really works on this machine."""

from __future__ import annotations

import psycopg
import pytest

from plastinka_store import JobRepository, create_engine, migrate
from plastinka_testing.postgres import ENV_MODE, resolve_server


@pytest.mark.postgres
@pytest.mark.slow
def test_throwaway_cluster_serves_a_fresh_database_and_goes_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MODE, "throwaway")
    server = resolve_server()
    try:
        assert server.cluster is not None and server.cluster.port != 5432
        database = server.create_database()
        migrate(database.url)
        engine = create_engine(database.url)
        assert JobRepository(engine).expired_leases() == []
        engine.dispose()
        server.drop_database(database.name)
        with psycopg.connect(server.dsn) as conn:
            names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        assert database.name not in names
    finally:
        server.close()
    root = server.cluster.root
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.dsn, connect_timeout=2)


def test_an_unknown_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from plastinka_testing.postgres import PostgresUnavailable

    monkeypatch.setenv(ENV_MODE, "bogus")
    with pytest.raises(PostgresUnavailable):
        resolve_server()


def test_a_configured_server_that_does_not_answer_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from plastinka_testing.postgres import ENV_URL, PostgresUnavailable

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.delenv(ENV_MODE, raising=False)
    monkeypatch.setenv(ENV_URL, f"postgresql://postgres@127.0.0.1:{port}/postgres")
    with pytest.raises(PostgresUnavailable, match=ENV_URL):
        resolve_server()


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_server_fails_on_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    from plastinka_testing.postgres import _unavailable

    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome):
        _unavailable("no server")
