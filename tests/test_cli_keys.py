"""jimu key and jimu shopper, run as an operator would run them."""

from __future__ import annotations

import asyncio
import re

import pytest

from adapters.db import Database
from adapters.shops.rules import hash_key
from gateway.settings import Settings
from gateway.shared import RedisState
from gateway.wiring import sql_adapters
from tests.test_cli import jimu
from tests.unit.test_response_cache import REDIS_URL

KEY_ID = re.compile(r"gid://jimu/ShopKey/(\d+)")


@pytest.fixture
def env(database_url: str, db: Database) -> dict[str, str]:
    return {"JIMU_DATABASE_URL": database_url}


async def opens(database_url: str, key: str) -> str | None:
    """The handle of the shop the key opens, if any."""
    adapters = sql_adapters(Settings(database_url=database_url))
    try:
        found = await adapters.shops.shop_for_key(hash_key(key))
        return found[0].handle if found else None
    finally:
        await adapters.close()


async def a_shop(env: dict[str, str]) -> dict[str, str]:
    made = await jimu("shop", "create", "keyed", "--name", "Keyed", env=env)
    assert made.exit_code == 0, made.output
    return {k: v.strip() for k, v in (line.split(":", 1) for line in made.output.splitlines()
                                      if line.startswith(("publishable", "secret")))}


async def test_key_create_prints_a_key_once_and_list_names_it_by_its_hint(env, database_url: str):
    # given
    pair = await a_shop(env)
    # when
    made = await jimu("key", "create", "keyed", "--kind", "secret", env=env)
    listed = await jimu("key", "list", "keyed", env=env)
    # then
    assert made.exit_code == 0, made.output
    key = next(line for line in made.output.splitlines() if line.startswith("sk_"))
    assert await opens(database_url, key) == "keyed"
    assert listed.exit_code == 0, listed.output
    assert "3 key(s), 3 active" in listed.output and key not in listed.output
    for shown in (pair["publishable"], pair["secret"], key):
        assert f"…{shown[-4:]}" in listed.output and shown[:3] in listed.output
    assert len(set(KEY_ID.findall(listed.output))) == 3


async def test_key_revoke_refuses_the_key_and_is_idempotent(env, database_url: str):
    # given
    pair = await a_shop(env)
    ids = KEY_ID.findall((await jimu("key", "list", "keyed", env=env)).output)
    # when the publishable key is revoked, by number, then again by gid
    first = await jimu("key", "revoke", ids[0], env=env)
    again = await jimu("key", "revoke", f"gid://jimu/ShopKey/{ids[0]}", env=env)
    listed = await jimu("key", "list", "keyed", env=env)
    # then
    assert first.exit_code == 0 and "revoked" in first.output and "within 2 s" in first.output
    assert again.exit_code == 0 and "revoked already" in again.output
    assert await opens(database_url, pair["publishable"]) is None
    assert await opens(database_url, pair["secret"]) == "keyed"
    assert "2 key(s), 1 active" in listed.output


async def test_the_cli_may_revoke_the_last_secret_key_and_says_so(env, database_url: str):
    pair = await a_shop(env)
    ids = KEY_ID.findall((await jimu("key", "list", "keyed", env=env)).output)
    result = await jimu("key", "revoke", ids[1], env=env)
    assert result.exit_code == 0 and "last active secret key" in result.output
    assert await opens(database_url, pair["secret"]) is None


@pytest.mark.parametrize(("args", "code", "says"), [
    (("key", "revoke", "999999"), 1, "no key '999999'"),
    (("key", "revoke", "gid://jimu/Product/1"), 2, "KEY_ID"),
    (("key", "revoke", "-3"), 2, ""),
    (("key", "revoke", "nonsense"), 2, "KEY_ID"),
    (("key", "list", "no-such-shop"), 1, "no shop 'no-such-shop'"),
    (("key", "create", "no-such-shop", "--kind", "secret"), 1, "no shop"),
    (("key", "create", "keyed", "--kind", "root"), 2, "--kind"),
    (("key", "create", "keyed"), 2, "--kind"),
    (("shopper", "revoke-tokens", "keyed", "999999"), 1, "no shopper '999999'"),
    (("shopper", "revoke-tokens", "keyed", "gid://jimu/ShopKey/1"), 2, "SHOPPER_ID"),
    (("shopper", "revoke-tokens", "no-such-shop", "1"), 1, "no shop"),
])
async def test_bad_arguments_are_clear_errors(env, args: tuple[str, ...], code: int, says: str):
    await a_shop(env)
    result = await jimu(*args, env=env)
    assert result.exit_code == code, result.output
    assert says in result.output


async def test_shopper_revoke_tokens_moves_the_version_on_and_tells_the_workers(env, database_url: str):
    # given a shopper, and a worker listening on Redis
    await a_shop(env)
    adapters = sql_adapters(Settings(database_url=database_url))
    [shop] = await adapters.shops.shops_by_handle(["keyed"])
    assert shop is not None
    shopper = await adapters.shops.shopper_for_subject(shop.id, "dev:someone")
    worker = RedisState(REDIS_URL)
    heard: list[tuple[int, int | None]] = []
    worker.on_revoked(lambda s, p: heard.append((s, p)))
    await worker.wait_subscribed()
    try:
        # when
        result = await jimu("shopper", "revoke-tokens", "keyed", f"gid://jimu/Shopper/{shopper.id}",
                            env={**env, "JIMU_REDIS_URL": REDIS_URL})
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.02)
        # then
        assert result.exit_code == 0, result.output
        assert "told through Redis" in result.output
        assert await adapters.shops.token_versions(shop.id, [shopper.id]) == [1]
        assert heard == [(shop.id, shopper.id)]
    finally:
        await worker.close()
        await adapters.close()
