"""The shop store's keys and token versions: the same contract for the SQL and fake stores."""

from __future__ import annotations

import asyncio

import pytest

from adapters.db import utcnow
from adapters.shops.port import KeyKind, KeyNotFound, LastSecretKey, Shop
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters


async def a_shop(adapters: Adapters, handle: str = "keys") -> Shop:
    return await adapters.shops.create_shop(
        handle, handle.title(), {KeyKind.PUBLISHABLE: hash_key(f"pk_{handle}_1"), KeyKind.SECRET: hash_key(f"sk_{handle}_1")},
        {KeyKind.PUBLISHABLE: "k_1p", KeyKind.SECRET: "k_1s"},
    )


async def test_a_shops_keys_are_listed_oldest_first_with_their_hints(adapters: Adapters):
    # given
    shop = await a_shop(adapters)
    # when
    added = await adapters.shops.add_key(shop.id, KeyKind.SECRET, hash_key("sk_keys_2"), "eys2")
    keys = await adapters.shops.keys_of(shop.id)
    # then
    assert [(k.kind, k.hint, k.active) for k in keys] == [
        (KeyKind.PUBLISHABLE, "k_1p", True), (KeyKind.SECRET, "k_1s", True), (KeyKind.SECRET, "eys2", True)]
    assert added == keys[2]
    assert await adapters.shops.keys_by_id([keys[2].id, 10**9, keys[0].id]) == [keys[2], None, keys[0]]
    assert await adapters.shops.add_key(10**9, KeyKind.SECRET, hash_key("sk_nowhere"), "here") is None


async def test_a_revoked_key_opens_nothing_and_a_second_revocation_keeps_the_first_time(adapters: Adapters):
    # given
    shop = await a_shop(adapters)
    [publishable, _] = await adapters.shops.keys_of(shop.id)
    # when
    first = await adapters.shops.revoke_key(publishable.id, utcnow())
    again = await adapters.shops.revoke_key(publishable.id, utcnow())
    # then
    assert first.revoked_at is not None and again == first
    assert await adapters.shops.shop_for_key(hash_key("pk_keys_1")) is None
    assert (await adapters.shops.shop_for_key(hash_key("sk_keys_1"))) == (shop, KeyKind.SECRET)
    assert (await adapters.shops.keys_of(shop.id))[0] == first


async def test_a_key_is_revoked_for_its_own_shop_only(adapters: Adapters):
    # given
    panda, other = await a_shop(adapters, "panda"), await a_shop(adapters, "other")
    [other_key, _] = await adapters.shops.keys_of(other.id)
    # when / then
    with pytest.raises(KeyNotFound):
        await adapters.shops.revoke_key(other_key.id, utcnow(), shop_id=panda.id)
    with pytest.raises(KeyNotFound):
        await adapters.shops.revoke_key(10**9, utcnow())
    assert (await adapters.shops.keys_of(other.id))[0].active


async def test_the_last_active_secret_key_stays_when_asked_to_keep_one(adapters: Adapters):
    # given
    shop = await a_shop(adapters)
    [_, secret] = await adapters.shops.keys_of(shop.id)
    # when / then
    with pytest.raises(LastSecretKey):
        await adapters.shops.revoke_key(secret.id, utcnow(), shop.id, keep_a_secret=True)
    assert (await adapters.shops.keys_of(shop.id))[1].active
    assert (await adapters.shops.revoke_key(secret.id, utcnow(), shop.id)).revoked_at is not None  # the CLI's way


async def test_two_secret_keys_revoked_at_once_leave_one(adapters: Adapters):
    # given two active secret keys
    shop = await a_shop(adapters)
    await adapters.shops.add_key(shop.id, KeyKind.SECRET, hash_key("sk_keys_2"), "eys2")
    secrets = [k for k in await adapters.shops.keys_of(shop.id) if k.kind is KeyKind.SECRET]
    # when each is revoked at once, each keeping a secret key
    outcomes = await asyncio.gather(
        *(adapters.shops.revoke_key(k.id, utcnow(), shop.id, keep_a_secret=True) for k in secrets),
        return_exceptions=True)
    # then one went, one stayed
    assert sorted(type(o).__name__ for o in outcomes) == ["LastSecretKey", "ShopKey"]
    assert [k.active for k in await adapters.shops.keys_of(shop.id) if k.kind is KeyKind.SECRET].count(True) == 1


async def test_revoking_tokens_moves_the_shoppers_version_on(adapters: Adapters):
    # given
    shop, other = await a_shop(adapters), await a_shop(adapters, "other")
    alice = await adapters.shops.shopper_for_subject(shop.id, "dev:alice")
    bob = await adapters.shops.shopper_for_subject(shop.id, "dev:bob")
    # when
    once = await adapters.shops.revoke_tokens(shop.id, alice.id)
    await asyncio.gather(*(adapters.shops.revoke_tokens(shop.id, alice.id) for _ in range(3)))
    # then
    assert alice.token_version == 0 and once is not None and once.token_version == 1
    assert await adapters.shops.token_versions(shop.id, [bob.id, alice.id, 10**9]) == [0, 4, None]
    assert (await adapters.shops.shopper_for_subject(shop.id, "dev:alice")).token_version == 4
    assert await adapters.shops.revoke_tokens(other.id, alice.id) is None
    assert await adapters.shops.token_versions(other.id, [alice.id]) == [None]
