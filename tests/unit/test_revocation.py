"""Key and token revocation: the rules, and how long a worker may still believe a revoked one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import jwt
import pytest

from adapters.db import utcnow
from adapters.shops.fake import FakeShopStore
from adapters.shops.port import KeyKind, Shop, ShopKey
from adapters.shops.rules import (
    hash_key,
    hint_of,
    is_last_active_secret,
    shown_hint,
    token_is_current,
)
from gateway.auth import InvalidToken, KeyDirectory, ShopperTokens, TokenVersions
from gateway.settings import Settings, SettingsError
from gateway.shared import ALL_SHOPS, LocalState, RedisState
from tests.unit.test_response_cache import REDIS_URL

SECRET = "s" * 64


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingStore(FakeShopStore):
    """The fake store, counting the reads a worker's caches are meant to spare."""

    def __init__(self) -> None:
        super().__init__()
        self.key_reads = 0
        self.version_reads: list[tuple[int, list[int]]] = []

    async def shop_for_key(self, key_hash: str) -> tuple[Shop, KeyKind] | None:
        self.key_reads += 1
        return await super().shop_for_key(key_hash)

    async def token_versions(self, shop_id: int, shopper_ids: Sequence[int]) -> list[int | None]:
        self.version_reads.append((shop_id, list(shopper_ids)))
        return await super().token_versions(shop_id, shopper_ids)


def key(id_: int, kind: KeyKind, revoked: bool = False, shop_id: int = 1) -> ShopKey:
    return ShopKey(id_, shop_id, kind, "abcd", utcnow(), utcnow() if revoked else None)


async def a_shop(store: FakeShopStore) -> Shop:
    return await store.create_shop("s", "S", {KeyKind.PUBLISHABLE: hash_key("pk_s"), KeyKind.SECRET: hash_key("sk_s")})


def test_a_hint_is_the_keys_last_four_characters_after_its_kind():
    assert hint_of("sk_abcdefgh1234") == "1234"
    assert shown_hint(KeyKind.SECRET, "1234") == "sk_…1234"
    assert shown_hint(KeyKind.PUBLISHABLE, None) == "pk_… (no hint)"


@pytest.mark.parametrize(("target", "others", "last"), [
    (key(1, KeyKind.SECRET), [], True),
    (key(1, KeyKind.SECRET), [key(2, KeyKind.PUBLISHABLE)], True),
    (key(1, KeyKind.SECRET), [key(2, KeyKind.SECRET, revoked=True)], True),
    (key(1, KeyKind.SECRET), [key(2, KeyKind.SECRET, shop_id=2)], True),
    (key(1, KeyKind.SECRET), [key(2, KeyKind.SECRET)], False),
    (key(1, KeyKind.PUBLISHABLE), [], False),
    (key(1, KeyKind.SECRET, revoked=True), [], False),
])
def test_the_last_active_secret_key(target: ShopKey, others: list[ShopKey], last: bool):
    assert is_last_active_secret(target, [target, *others]) is last


def test_a_token_is_current_only_at_its_shoppers_version():
    assert token_is_current(0, 0) and token_is_current(3, 3)
    assert not token_is_current(0, 1) and not token_is_current(2, 1) and not token_is_current(0, None)


async def test_a_key_hit_is_believed_for_the_bound_and_no_longer():
    # given a hit, held with a 2 s bound
    store, clock = CountingStore(), Clock()
    shop = await a_shop(store)
    keys = KeyDirectory(store, 2.0, clock)
    assert (await keys.access_for("pk_s")).shop == shop  # type: ignore[union-attr]
    # when the key is revoked and nobody tells this worker
    await store.revoke_key(store.keys[hash_key("pk_s")].id, utcnow())
    clock.now += 1.9
    believed = await keys.access_for("pk_s")
    clock.now += 0.2
    # then
    assert believed is not None and await keys.access_for("pk_s") is None
    assert store.key_reads == 2


async def test_a_bound_above_five_seconds_is_held_to_five():
    store, clock = CountingStore(), Clock()
    await a_shop(store)
    keys = KeyDirectory(store, 30.0, clock)
    await keys.access_for("pk_s")
    await store.revoke_key(store.keys[hash_key("pk_s")].id, utcnow())
    clock.now += 5.01
    assert await keys.access_for("pk_s") is None


async def test_a_revocation_told_drops_the_shops_key_hits_at_once():
    # given hits of two shops
    store, clock, shared = CountingStore(), Clock(), LocalState()
    shop = await a_shop(store)
    other = await store.create_shop("o", "O", {KeyKind.PUBLISHABLE: hash_key("pk_o")})
    keys = KeyDirectory(store, 5.0, clock)
    shared.on_revoked(keys.revoked)
    await keys.access_for("pk_s")
    await keys.access_for("pk_o")
    # when a key of the first is revoked and the worker told
    await store.revoke_key(store.keys[hash_key("pk_s")].id, utcnow())
    await shared.revoked(shop.id)
    # then the first is read again (and refused), the other is still held
    assert await keys.access_for("pk_s") is None
    assert (await keys.access_for("pk_o")).shop == other  # type: ignore[union-attr]
    assert store.key_reads == 3


async def test_a_key_lookup_that_began_before_a_revocation_is_not_kept():
    # given a lookup in flight
    store, clock = CountingStore(), Clock()
    shop = await a_shop(store)
    keys = KeyDirectory(store, 5.0, clock)
    gate = asyncio.Event()
    read = store.shop_for_key

    async def slow(key_hash: str) -> tuple[Shop, KeyKind] | None:
        found = await read(key_hash)
        await gate.wait()
        return found

    store.shop_for_key = slow  # type: ignore[method-assign]
    lookup = asyncio.create_task(keys.access_for("pk_s"))
    await asyncio.sleep(0)
    # when the key is revoked meanwhile
    await store.revoke_key(store.keys[hash_key("pk_s")].id, utcnow())
    keys.revoked(shop.id, None)
    gate.set()
    await lookup
    # then the next request reads it again
    store.shop_for_key = read  # type: ignore[method-assign]
    assert await keys.access_for("pk_s") is None


async def test_token_versions_of_one_turn_are_read_in_one_query_per_shop_and_held():
    # given three shoppers of one shop
    store, clock = CountingStore(), Clock()
    shop = await a_shop(store)
    ids = [(await store.shopper_for_subject(shop.id, f"dev:{n}")).id for n in range(3)]
    versions = TokenVersions(store, 2.0, clock)
    # when many requests ask at once, then again within the bound
    first = await asyncio.gather(*(versions.current(shop.id, i) for i in ids * 5), versions.current(shop.id, 10**9))
    again = await versions.current(shop.id, ids[0])
    # then
    assert first == [0] * 15 + [None] and again == 0
    assert store.version_reads == [(shop.id, [*ids, 10**9])]


async def test_a_token_version_is_believed_for_the_bound_or_until_told():
    # given a held version
    store, clock = CountingStore(), Clock()
    shop = await a_shop(store)
    alice, bob = (await store.shopper_for_subject(shop.id, "dev:a")).id, (await store.shopper_for_subject(shop.id, "dev:b")).id
    versions = TokenVersions(store, 2.0, clock)
    await versions.current(shop.id, alice)
    await versions.current(shop.id, bob)
    # when both are revoked, and the worker told of alice only
    await store.revoke_tokens(shop.id, alice)
    await store.revoke_tokens(shop.id, bob)
    versions.revoked(shop.id, alice)
    # then alice's is read again at once, bob's once the bound is past
    assert await versions.current(shop.id, alice) == 1
    assert await versions.current(shop.id, bob) == 0
    clock.now += 2.01
    assert await versions.current(shop.id, bob) == 1
    versions.revoked(ALL_SHOPS, None)  # a lost subscription: nothing held is believed
    await versions.current(shop.id, bob)
    assert len(store.version_reads) == 5


async def test_a_token_newer_than_the_held_version_is_checked_again_not_refused():
    # given a worker holding alice's version 0, and a shopper it held as missing
    store, clock = CountingStore(), Clock()
    shop = await a_shop(store)
    alice = (await store.shopper_for_subject(shop.id, "dev:a")).id
    versions = TokenVersions(store, 5.0, clock)
    tokens = ShopperTokens(SECRET, 60, versions)
    assert await versions.current(shop.id, alice) == 0 and await versions.current(shop.id, alice + 1) is None
    # when alice signs out everywhere and in again on another worker, and the new shopper signs up there
    await store.revoke_tokens(shop.id, alice)
    bob = (await store.shopper_for_subject(shop.id, "dev:b")).id
    assert bob == alice + 1
    # then this worker, told nothing, takes both fresh tokens at once and still refuses the old one
    assert await tokens.verify(tokens.issue(shop.id, alice, 1), shop.id) == alice
    assert await tokens.verify(tokens.issue(shop.id, bob, 0), shop.id) == bob
    with pytest.raises(InvalidToken, match="revoked"):
        await tokens.verify(tokens.issue(shop.id, alice, 0), shop.id)


async def test_a_failed_version_read_fails_the_requests_waiting_for_it_and_is_not_kept():
    store, clock = CountingStore(), Clock()
    versions = TokenVersions(store, 2.0, clock)

    async def down(shop_id: int, shopper_ids: Sequence[int]) -> list[int | None]:
        raise ConnectionError("database down")

    store.token_versions = down  # type: ignore[method-assign]
    results = await asyncio.gather(versions.current(1, 1), versions.current(1, 1), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    store.token_versions = CountingStore.token_versions.__get__(store)  # type: ignore[method-assign]
    assert await versions.current(1, 1) is None


async def test_a_token_carries_its_version_and_only_the_current_one_is_good():
    # given
    store = FakeShopStore()
    shop = await a_shop(store)
    shopper = await store.shopper_for_subject(shop.id, "dev:a")
    tokens = ShopperTokens(SECRET, 60, TokenVersions(store, 0.0))
    old = tokens.issue(shop.id, shopper.id, shopper.token_version)
    # when
    await store.revoke_tokens(shop.id, shopper.id)
    new = tokens.issue(shop.id, shopper.id, 1)
    # then
    assert await tokens.verify(new, shop.id) == shopper.id
    with pytest.raises(InvalidToken, match="revoked"):
        await tokens.verify(old, shop.id)
    with pytest.raises(InvalidToken, match="revoked"):
        await tokens.verify(tokens.issue(shop.id, 10**9), shop.id)  # no such shopper


async def test_a_token_issued_before_versions_counts_as_version_zero():
    # given a token without the ver claim
    store = FakeShopStore()
    shop = await a_shop(store)
    shopper = await store.shopper_for_subject(shop.id, "dev:a")
    now = int(time.time())
    claims = {"iss": "jimu", "sub": str(shopper.id), "shp": shop.id, "iat": now, "exp": now + 60}
    legacy = jwt.encode(claims, SECRET, algorithm="HS256")
    tokens = ShopperTokens(SECRET, 60, TokenVersions(store, 0.0))
    # when / then: good until the shopper's first revocation
    assert await tokens.verify(legacy, shop.id) == shopper.id
    await store.revoke_tokens(shop.id, shopper.id)
    with pytest.raises(InvalidToken, match="revoked"):
        await tokens.verify(legacy, shop.id)


@pytest.mark.parametrize("version", ["1", -1, 1.5, None, True])
def test_a_version_claim_that_is_not_a_count_is_refused(version: object):
    now = int(time.time())
    claims = {"iss": "jimu", "sub": "1", "shp": 1, "iat": now, "exp": now + 60, "ver": version}
    with pytest.raises(InvalidToken, match="not valid"):
        ShopperTokens(SECRET, 60).claims(jwt.encode(claims, SECRET, algorithm="HS256"), 1)


@pytest.mark.parametrize(("raw", "seconds"), [(None, 2.0), ("0", 0.0), ("5", 5.0), ("0.5", 0.5)])
def test_the_revocation_bound_setting(raw: str | None, seconds: float):
    environ = {"JIMU_ENV": "development"} if raw is None else {"JIMU_ENV": "development", "JIMU_REVOCATION_SECONDS": raw}
    assert Settings.from_env(environ).revocation_seconds == seconds


@pytest.mark.parametrize("raw", ["5.5", "30", "-1", "soon"])
def test_a_revocation_bound_past_five_seconds_is_refused(raw: str):
    with pytest.raises(SettingsError, match="JIMU_REVOCATION_SECONDS"):
        Settings.from_env({"JIMU_ENV": "development", "JIMU_REVOCATION_SECONDS": raw})


async def test_through_redis_a_revocation_reaches_another_workers_listeners_and_nothing_else():
    # given two workers' shared states
    one, other = RedisState(REDIS_URL), RedisState(REDIS_URL)
    heard: list[tuple[int, int | None]] = []
    invalidated: list[int] = []
    other.on_revoked(lambda shop, shopper: heard.append((shop, shopper)))
    other.subscribe(invalidated.append)
    await other.wait_subscribed()
    try:
        # when one tells of a key and of a shopper's tokens
        await one.revoked(7)
        await one.revoked(7, 42)
        for _ in range(100):
            if len(heard) == 2:
                break
            await asyncio.sleep(0.02)
        # then the other heard both, and dropped no cached responses
        assert heard == [(7, None), (7, 42)]
        assert invalidated == []
    finally:
        await one.close()
        await other.close()
