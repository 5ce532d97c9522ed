"""The jimu command line, run as a newcomer would run it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from adapters.db import Database
from adapters.shops.rules import hash_key
from gateway.cli import _prepare, app
from gateway.demo import demo_files
from gateway.graphql import build_schema
from gateway.settings import Settings
from gateway.shared import RedisState
from gateway.wiring import Adapters, remote_secrets, sql_adapters
from tests.conftest import api_client, make_gql
from tests.factories import catalog, load_json, product, sku
from tests.stories import sell_diapers
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


async def products_of(database_url: str, key: str, handles: list[str]) -> list[str]:
    """Which of these products the shop opened by ``key`` holds."""
    adapters = sql_adapters(Settings(database_url=database_url))
    try:
        found = await adapters.shops.shop_for_key(hash_key(key))
        if found is None:
            return []
        products = await adapters.goods.products_by_handle(found[0].id, handles)
        return [p.handle for p in products if p is not None]
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
    assert await products_of(database_url, "pk_test_cli-shop", ["p1", "p2"]) == ["p1", "p2"]


async def test_a_bad_file_is_reported_row_by_row_and_nothing_is_written(tmp_path: Path, env, database_url: str):
    # given one good product and one bad one
    data = catalog("bad-shop", [product("good"), product("bad", skus=[sku("B", price=1.5)])])
    path = write(tmp_path, data)
    # when
    result = await jimu("import", str(path), env=env)
    # then
    assert result.exit_code == 1
    assert "products[1].skus[0].price" in result.output and "catalog.json" in result.output
    assert "price is in fen, an integer: 150 for 1.50" in result.output
    assert await products_of(database_url, "pk_test_bad-shop", ["good", "bad"]) == []


async def test_every_fault_of_a_file_is_shown_in_one_run(tmp_path: Path, env):
    # given a type error, a duplicate SKU code and a coupon naming a SKU that is not in the file
    data = catalog("bad-shop", [product("a", skus=[sku("A", price="159.00")]), product("b", skus=[sku("A")])],
                   coupons=[{"code": "C", "title": "t", "kind": "AMOUNT_OFF", "discount": 100, "totalQuantity": 1,
                             "validDays": 1, "scope": "SKUS", "skuCodes": ["NOPE"]}])
    # when
    result = await jimu("import", str(write(tmp_path, data)), env=env)
    # then
    assert result.exit_code == 1
    assert "Nothing was imported: 3 problem(s)" in result.output
    for path, reason in [("products[0].skus[0].price", "price is in fen, an integer: 15900 for 159.00"),
                         ("products[1].skus[0].code", "SKU code 'A' is already used at products[0].skus[0].code"),
                         ("coupons[0].skuCodes[0]", "no SKU 'NOPE' in this file")]:
        assert any(path in line and reason in line for line in result.output.splitlines()), (path, result.output)


async def test_the_report_says_what_the_import_did_to_stock(tmp_path: Path, env):
    # given
    def stocked(a: int) -> Path:
        return write(tmp_path, catalog("cli", [product("p", skus=[sku("A", stock={"N": a}), sku("B", stock={"N": 3})])],
                                       warehouses=[{"code": "N", "regions": ["1"]}]))
    # when
    first = await jimu("import", str(stocked(5)), env=env)
    kept = await jimu("import", str(stocked(9)), env=env)
    added = await jimu("import", str(stocked(9)), "--stock", "add", env=env)
    set_ = await jimu("import", str(stocked(9)), "--stock", "SET", env=env)
    # then
    assert "stock: 2 rows created" in first.output
    assert ("stock: 2 kept as they are (the file's figure differs for 1: use --stock set or --stock add)"
            in kept.output)
    assert "nothing changed" in kept.output
    assert "stock: 2 received, 12 units" in added.output
    assert "stock: 2 set (2 changed)" in set_.output  # 14 and 6 on hand back to 9 and 3
    bad = await jimu("import", str(stocked(9)), "--stock", "replace", env=env)
    assert bad.exit_code == 2 and "--stock" in bad.output


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
    assert "@key" not in result.output and "_entities" not in result.output


def test_export_schema_federation_prints_the_subgraph_sdl():
    result = runner.invoke(app, ["export-schema", "--federation"])
    assert result.exit_code == 0
    assert result.output.strip() == build_schema(federation=True).as_str().strip()
    assert '@key(fields: "handle"' in result.output and "_service: _Service!" in result.output


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


AVAILABLE = 'query($s: String!) { sku(code: $s) { availability(region: "1") { quantityAvailable } } }'


async def diapers_in_beijing(client: httpx.AsyncClient, sql: Adapters) -> tuple[int, tuple[int, int, int]]:
    """DIAPER-L54's availability in Beijing over the API, and BJ-01's (on hand, reserved, sold)."""
    answer = await make_gql(client)(AVAILABLE, {"s": "DIAPER-L54"})
    [shop] = await sql.shops.shops_by_handle(["panda-care"])
    assert shop is not None
    [found] = await sql.goods.skus_by_code(shop.id, ["DIAPER-L54"])
    assert found is not None
    [level] = [lv for lv in await sql.inventory.levels(shop.id, found.id) if lv.warehouse_code == "BJ-01"]
    return answer["data"]["sku"]["availability"]["quantityAvailable"], (level.on_hand, level.reserved, level.sold)


async def test_importing_the_demo_again_after_a_sale_keeps_the_sale(
    tmp_path: Path, env, database_url: str, settings: Settings, sql: Adapters
):
    # given the demo shop imported, and two packs sold through the API
    [panda] = [path for path in demo_files() if path.stem == "panda"]
    assert (await jimu("import", str(panda), env=env)).exit_code == 0
    async with api_client(settings, sql) as client:
        await sell_diapers(client, 2)
        assert await diapers_in_beijing(client, sql) == (498, (500, 0, 2))

        # when the file is imported again, and the demo start loads it again
        again = await jimu("import", str(panda), env=env)
        await asyncio.to_thread(asyncio.run, _prepare(Settings(database_url=database_url), True))
        # then the sold stock stays sold
        assert again.exit_code == 0 and "stock: 12 kept as they are" in again.output
        assert await diapers_in_beijing(client, sql) == (498, (500, 0, 2))

        # when goods arrive: the file's figures are added
        added = await jimu("import", str(panda), "--stock", "add", env=env)
        assert added.exit_code == 0 and "units" in added.output
        assert await diapers_in_beijing(client, sql) == (998, (1000, 0, 2))

        # when a file sets on hand below what is sold, it is refused where it stands, and nothing is written
        data = load_json(panda)
        data["products"][0]["skus"][0]["stock"]["BJ-01"] = 1
        data["products"][0]["title"] = "renamed"
        refused = await jimu("import", str(write(tmp_path, data)), "--stock", "set", env=env)
        assert refused.exit_code == 1
        line = next(ln for ln in refused.output.splitlines() if "products[0].skus[0].stock.BJ-01" in ln)
        assert "the file sets on hand to 1 but 2 are reserved or sold: available would be -1" in line
        assert await diapers_in_beijing(client, sql) == (998, (1000, 0, 2))
        [shop] = await sql.shops.shops_by_handle(["panda-care"])
        assert shop is not None
        [product_] = await sql.goods.products_by_handle(shop.id, ["diaper-soft"])
        assert product_ is not None and product_.title != "renamed"


async def test_shop_remote_set_show_and_clear(env, database_url: str):
    # given a shop
    assert (await jimu("shop", "create", "erp-brand", "--name", "ERP Brand", env=env)).exit_code == 0
    secret = "s" * 24
    # when its stock is set to come from its own system, then shown
    put = await jimu("shop", "remote", "set", "erp-brand", "--secret", secret,
                     "--inventory", "http://127.0.0.1:8801/erp", env=env)
    shown = await jimu("shop", "remote", "show", "erp-brand", env=env)
    # then it is stored with its secret sealed as the adapters open it, and shown without it
    assert put.exit_code == 0, put.output
    assert "goods from jimu, stock from http://127.0.0.1:8801/erp" in put.output
    adapters = sql_adapters(Settings(database_url=database_url))
    try:
        [stored] = [r for r in await adapters.remotes.remotes() if r.shop_handle == "erp-brand"]
    finally:
        await adapters.close()
    assert (stored.goods_url, stored.inventory_url) == (None, "http://127.0.0.1:8801/erp")
    assert remote_secrets(Settings(database_url=database_url)).open(stored.secret) == secret
    assert shown.exit_code == 0 and "stock from http://127.0.0.1:8801/erp" in shown.output
    assert secret not in put.output + shown.output
    # and what cannot be set is refused, saying which option, with nothing changed
    for args, said in [([], "give --goods, --inventory or both"),
                       (["--goods", "ftp://erp.example"], "--goods"),
                       (["--inventory", "https://erp.example/?x=1"], "without a query"),
                       (["--goods", "https://erp.example"], "at least 16 characters")]:
        short = ["--secret", "short"] if "16" in said else ["--secret", secret]
        refused = await jimu("shop", "remote", "set", "erp-brand", *short, *args, env=env)
        assert refused.exit_code == 2 and said in refused.output, (args, refused.output)
    assert (await jimu("shop", "remote", "set", "no-such-shop", "--secret", secret, "--goods",
                       "https://erp.example", env=env)).exit_code != 0
    assert "goods from jimu, stock from http://127.0.0.1:8801/erp" in \
        (await jimu("shop", "remote", "show", "erp-brand", env=env)).output
    # when cleared, the shop is served from jimu again; a second clear says there was nothing
    cleared = await jimu("shop", "remote", "clear", "erp-brand", env=env)
    again = await jimu("shop", "remote", "clear", "erp-brand", env=env)
    assert "served from jimu's database again" in cleared.output and "had no remotes" in again.output
    assert "goods and stock from jimu's database" in (await jimu("shop", "remote", "show", "erp-brand", env=env)).output


async def test_an_import_writes_nothing_a_shops_own_system_serves_instead(tmp_path: Path, env, database_url: str):
    # given a shop imported with stock, whose stock then comes from its own system
    with_stock = catalog("erp-shop", [product("p1", skus=[sku("P1", stock={"W": 5})])],
                         warehouses=[{"code": "W", "regions": ["*"]}])
    path = write(tmp_path, with_stock)
    assert (await jimu("import", str(path), env=env)).exit_code == 0
    assert (await jimu("shop", "remote", "set", "erp-shop", "--secret", "s" * 24, "--inventory",
                       "http://127.0.0.1:8801/erp", env=env)).exit_code == 0
    # when the file with stock figures is imported again, then it is refused at each figure
    refused = await jimu("import", str(path), env=env)
    assert refused.exit_code == 1 and "Nothing was imported" in refused.output
    assert "products[0].skus[0].stock" in refused.output and "kept by its own system" in refused.output
    # and without them it imports
    without = catalog("erp-shop", [product("p1", "Renamed", skus=[sku("P1")])], warehouses=[{"code": "W", "regions": ["*"]}])
    assert (await jimu("import", str(write(tmp_path, without, "plain.json")), env=env)).exit_code == 0
    # when the goods come from its own system too, a file with products is refused
    assert (await jimu("shop", "remote", "set", "erp-shop", "--secret", "s" * 24, "--goods", "http://127.0.0.1:8801/erp",
                       "--inventory", "http://127.0.0.1:8801/erp", env=env)).exit_code == 0
    goods = await jimu("import", str(write(tmp_path, without, "plain.json")), env=env)
    assert goods.exit_code == 1 and "goods are served by its own system" in goods.output
    # and a file of the shop alone still imports (its name, keys, delivery, coupons are jimu's)
    assert (await jimu("import", str(write(tmp_path, catalog("erp-shop", []), "shop.json")), env=env)).exit_code == 0
