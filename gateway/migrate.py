"""Schema migrations with alembic, run on a connection we hand it.

Handing alembic our own connection (instead of letting env.py make an engine
and an event loop) lets the same code run from the CLI, the server start-up
and the test fixtures, inside a running event loop or not.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.engine import Connection

from adapters.db import Database

SCRIPTS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


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


@cache
def head() -> str | None:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def revision(db: Database) -> str | None:
    """The revision the database is at (None before the first migration)."""
    async with db.engine.connect() as conn:
        # not MigrationContext.configure: it logs two lines each time, and readiness asks often
        if not await conn.run_sync(lambda sync: sa_inspect(sync).has_table(VERSION_TABLE)):
            return None
        return (await conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))).scalar()


def behind(current: str | None) -> bool:
    """Whether a database at ``current`` lacks migrations this code has. One at a revision
    this code does not know was migrated by newer code (a rolling deploy): not behind."""
    if current == head():
        return False
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    return current is None or current in known
