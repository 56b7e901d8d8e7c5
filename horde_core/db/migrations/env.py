"""Alembic environment: runs on the connection the core hands over (see Database.migrate).

For `alembic revision --autogenerate` by hand, set HORDE_CORE__DATABASE_URL to a sync URL.
"""

import os

from alembic import context
from sqlalchemy import create_engine

from horde_core.models import metadata

connection = context.config.attributes.get("connection")


def _run(conn) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    url = os.environ.get("HORDE_CORE__DATABASE_URL", "sqlite:///data/horde.db")
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
