"""The throwaway-cluster path of plastinka_testing.postgres really works on this machine."""

from __future__ import annotations

import psycopg
import pytest
from plastinka_testing.postgres import ENV_MODE, resolve_server

from plastinka_jobs import JobRepository, create_engine, migrate


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
