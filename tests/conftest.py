"""Fixtures shared by every test.

The database is SQLite by default; set ``JIMU_TEST_DATABASE_URL`` (as .ci/run
does) to run the same suite on PostgreSQL. It is migrated once per run with the
real migrations and emptied before each test that uses it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from adapters.catalog.format import parse_catalog
from adapters.db import Database, utcnow
from gateway.app import create_app
from gateway.demo import demo_files
from gateway.migrate import upgrade
from gateway.settings import Settings
from gateway.tables import metadata
from gateway.wiring import Adapters, fake_adapters, sql_adapters
from tests.factories import load_json

Gql = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("JIMU_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'jimu-test.db'}"

    async def migrate() -> None:
        db = Database(url)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await _empty(database)
    yield database
    await database.dispose()


async def _empty(database: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    async with database.write() as session:
        if database.dialect == "postgresql":
            # One round trip of DELETEs (children first) and sequences set back to 1: about 4 ms,
            # where TRUNCATE ... RESTART IDENTITY, which makes every table's files anew, took
            # 120 ms, and with some 900 tests on this fixture that was two minutes of the suite.
            deletes = "".join(f"DELETE FROM {table}; " for table in tables)
            await session.execute(text(
                f"DO $$ BEGIN {deletes}PERFORM setval(format('%I.%I', schemaname, sequencename), 1, false) "
                "FROM pg_sequences WHERE schemaname = current_schema(); END $$"))
        else:
            for table in tables:
                await session.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Stories read their own writes at once: the response and reference caches (stale
    # for up to a second by design) are off here and on in the tests written for them.
    return Settings(database_url=database_url, response_cache_seconds=0, reference_cache_seconds=0)


@pytest.fixture
def sql(settings: Settings, db: Database) -> Adapters:
    return sql_adapters(settings, db)


@pytest.fixture(params=["fake", "sql"])
def adapters(request: pytest.FixtureRequest, settings: Settings) -> Adapters:
    """Each implementation of the ports in turn: the contract suite runs on both."""
    if request.param == "fake":
        return fake_adapters(settings)
    return request.getfixturevalue("sql")


async def load_demo(adapters: Adapters) -> None:
    for path in demo_files():
        await adapters.catalog.apply(parse_catalog(load_json(path), utcnow()), utcnow())


@pytest.fixture
async def demo(sql: Adapters) -> Adapters:
    await load_demo(sql)
    return sql


@pytest.fixture
async def client(settings: Settings, demo: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(settings, demo) as c:
        yield c


def api_client(settings: Settings, adapters: Adapters) -> httpx.AsyncClient:
    app = create_app(settings, adapters)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jimu.test")


@pytest.fixture
def gql(client: httpx.AsyncClient) -> Gql:
    return make_gql(client)


def make_gql(client: httpx.AsyncClient) -> Gql:
    async def run(
        query: str,
        variables: dict[str, Any] | None = None,
        key: str | None = "pk_demo_panda",
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = dict(headers or {})
        if key is not None:
            headers["X-Jimu-Key"] = key
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    return run


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


__all__ = ["Gql", "codes", "load_demo", "make_gql", "api_client", "Path"]
