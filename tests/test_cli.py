"""The jimu command line, run as a newcomer would run it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.db import Database
from adapters.shops.rules import hash_key
from gateway.cli import app
from gateway.graphql import build_schema
from gateway.settings import Settings
from gateway.shared import RedisState
from gateway.wiring import sql_adapters
from tests.factories import catalog, product, sku
from tests.unit.test_response_cache import REDIS_URL

runner = CliRunner()


async def jimu(*args: str, env: dict[str, str]):
    """Run the CLI off the event loop, as its own asyncio.run needs."""
    return await asyncio.to_thread(runner.invoke, app, list(args), env={"COLUMNS": "200", **env})


@pytest.fixture
def env(database_url: str, db: Database) -> dict[str, str]:
    return {"JIMU_DATABASE_URL": database_url}


def write(tmp_path: Path, data: object, name: str = "catalog.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


async def products_of(database_url: str, key: str) -> list[str]:
    adapters = sql_adapters(Settings(database_url=database_url))
    try:
        found = await adapters.shops.shop_for_key(hash_key(key))
        if found is None:
            return []
        from adapters.goods.port import ProductQuery
        from adapters.paging import Window

        page = await adapters.goods.search_products(found[0].id, ProductQuery(), Window(100))
        return [p.handle for p, _ in page.items]
    finally:
        await adapters.close()


async def test_import_loads_a_file_and_a_second_run_changes_nothing(tmp_path: Path, env, database_url: str):
    # given
    path = write(tmp_path, catalog("cli-shop", [product("p1"), product("p2")]))
    # when
    first = await jimu("import", str(path), env=env)
    second = await jimu("import", str(path), env=env)
    # then
    assert first.exit_code == 0, first.output
    assert "products" in first.output and "nothing changed" not in first.output
    assert second.exit_code == 0 and "nothing changed" in second.output
    assert sorted(await products_of(database_url, "pk_test_cli-shop")) == ["p1", "p2"]


async def test_a_bad_file_is_reported_row_by_row_and_nothing_is_written(tmp_path: Path, env, database_url: str):
    # given: one good product and one bad one
    data = catalog("bad-shop", [product("good"), product("bad", skus=[sku("B", price=1.5)])])
    path = write(tmp_path, data)
    # when
    result = await jimu("import", str(path), env=env)
    # then
    assert result.exit_code == 1
    assert "products[1].skus[0].price" in result.output and "catalog.json" in result.output
    assert await products_of(database_url, "pk_test_bad-shop") == []


@pytest.mark.parametrize(("content", "reason"), [(None, "no such file"), ("{oops", "not JSON"), (b"\xff\xfe", "UTF-8")])
def test_unreadable_files_are_reported(tmp_path: Path, env, content, reason):
    path = tmp_path / "x.json"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["import", str(path)], env={"COLUMNS": "200", **env})
    assert result.exit_code == 1 and reason in result.output


async def test_shop_create_prints_keys_that_open_the_shop(env, database_url: str):
    # when
    result = await jimu("shop", "create", "new-brand", "--name", "New Brand", env=env)
    again = await jimu("shop", "create", "new-brand", "--name", "Again", env=env)
    bad = await jimu("shop", "create", "Not Valid", "--name", "x", env=env)
    # then
    assert result.exit_code == 0, result.output
    keys = dict(line.split(":", 1) for line in result.output.splitlines() if line.startswith(("publishable", "secret")))
    adapters = sql_adapters(Settings(database_url=database_url))
    try:
        for kind, key in keys.items():
            found = await adapters.shops.shop_for_key(hash_key(key.strip()))
            assert found is not None and found[0].handle == "new-brand" and found[1].value == kind
    finally:
        await adapters.close()
    assert again.exit_code == 1 and "exists already" in again.output
    assert bad.exit_code == 2


def test_export_schema_prints_the_served_sdl():
    result = runner.invoke(app, ["export-schema"])
    assert result.exit_code == 0
    assert result.output.strip() == build_schema().as_str().strip()


def test_bad_settings_stop_the_command_with_their_name(tmp_path: Path):
    result = runner.invoke(app, ["import", str(tmp_path / "x.json")], env={"JIMU_ENV": "staging"})
    assert result.exit_code == 2 and "JIMU_ENV" in result.output


async def test_an_import_with_redis_tells_the_running_workers(tmp_path: Path, env, database_url: str):
    # given a worker listening on Redis, holding an entry of the shop there
    worker = RedisState(REDIS_URL)
    await worker._redis.flushdb()
    await worker.wait_subscribed()
    told: list[int] = []
    worker.subscribe(told.append)
    path = write(tmp_path, catalog("cli", [product("p1", skus=[sku("P1-A")])]))
    assert (await jimu("import", str(path), env=env)).exit_code == 0
    adapters = sql_adapters(Settings(database_url=database_url))
    [shop] = await adapters.shops.shops_by_handle(["cli"])
    await adapters.close()
    assert shop is not None
    await worker.put(shop.id, "some-answer", b"cached", 60)
    # when the catalog changes
    path = write(tmp_path, catalog("cli", [product("p1", skus=[sku("P1-A", price=999)])]))
    result = await jimu("import", str(path), env={**env, "JIMU_REDIS_URL": REDIS_URL})
    # then
    assert result.exit_code == 0, result.output
    for _ in range(50):
        if told:
            break
        await asyncio.sleep(0.05)
    try:
        assert told == [shop.id]
        assert await worker.get("some-answer") is None
    finally:
        await worker.close()
