"""/readyz: ready only when the database answers at this code's schema (and Redis, when configured)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
from alembic import command

from adapters.db import Database
from gateway.migrate import alembic_config, head
from gateway.settings import Settings
from gateway.wiring import fake_adapters
from tests.conftest import api_client


async def ready(settings: Settings, adapters=None) -> httpx.Response:
    async with api_client(settings, adapters) as client:
        return await client.get("/readyz")


async def test_ready_at_head(settings: Settings, sql):
    answer = await ready(settings, sql)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


async def test_not_ready_while_migrations_are_behind_yet_alive(tmp_path: Path):
    # given a database one migration behind this code
    url = f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}"
    db = Database(url)
    async with db.engine.connect() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0008"))
        await conn.commit()
    await db.dispose()
    settings = Settings(database_url=url)
    # when asked, then it is alive but not ready, and says what to run
    async with api_client(settings, None) as client:
        healthy, readiness = await client.get("/healthz"), await client.get("/readyz")
    assert healthy.status_code == 200
    assert readiness.status_code == 503 and readiness.headers["cache-control"] == "no-store"
    migrations = readiness.json()["checks"]["migrations"]
    assert migrations.startswith("behind: at 0008") and head() in migrations and "jimu migrate" in migrations


async def test_not_ready_when_the_database_does_not_answer(settings: Settings):
    async def down() -> bool:
        return False

    answer = await ready(settings, replace(fake_adapters(settings), ping=down))
    assert answer.status_code == 503 and answer.json()["checks"]["database"] == "does not answer"


async def test_not_ready_when_the_configured_redis_does_not_answer(settings: Settings, sql):
    # given Redis configured at a port where nothing listens
    answer = await ready(replace(settings, redis_url="redis://127.0.0.1:1/0"), sql)
    assert answer.status_code == 503
    assert answer.json()["checks"] == {"database": "ok", "migrations": "ok", "redis": "does not answer"}


async def test_ready_with_redis_when_it_answers(settings: Settings, sql):
    answer = await ready(replace(settings, redis_url="redis://127.0.0.1:6379/9"), sql)
    assert answer.status_code == 200 and answer.json()["checks"]["redis"] == "ok"


async def test_not_ready_when_the_database_goes_between_the_checks(settings: Settings, sql):
    async def gone() -> str | None:
        raise ConnectionError("the database went away")

    answer = await ready(settings, replace(sql, revision=gone))
    assert answer.status_code == 503 and answer.json()["checks"]["migrations"].startswith("unknown")
