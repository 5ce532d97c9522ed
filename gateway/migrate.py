"""Schema migrations with alembic, run on a connection we hand it.

Handing alembic our own connection (instead of letting env.py make an engine
and an event loop) lets the same code run from the CLI, the server start-up
and the test fixtures, inside a running event loop or not.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from adapters.db import Database

SCRIPTS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database) -> None:
    """Bring the database to the newest schema; a no-op when it is there already."""
    async with db.engine.connect() as conn:
        await conn.execution_options(jimu_write=True)
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
        await conn.commit()
