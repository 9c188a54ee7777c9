"""Alembic environment: runs on the connection handed over by :func:`plastinka_store.db.migrate`."""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import AutoString

from plastinka_store.columns import EnumString, UTCDateTime
from plastinka_store.db import create_engine
from plastinka_store.tables import metadata

config = context.config


def render_item(kind: str, obj: Any, _ctx: AutogenContext) -> str | Literal[False]:
    """Write our column types as the plain SQLAlchemy types they store, so revisions never import us."""
    if kind == "type":
        if isinstance(obj, UTCDateTime):
            return "sa.DateTime(timezone=True)"
        if isinstance(obj, EnumString | AutoString):
            length = obj.impl.length if isinstance(obj, EnumString) else obj.length
            return f"sa.String(length={length})"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = config.attributes.get("connection")
if _connection is not None:
    run(_connection)
else:
    _url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if _url is None:
        raise RuntimeError("no database: pass a URL to plastinka_store.db.migrate")
    _engine = create_engine(_url)
    try:
        with _engine.begin() as _conn:
            run(_conn)
    finally:
        _engine.dispose()
