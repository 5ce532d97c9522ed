"""The WeChat accounts store, the same on the fake and on SQL: versions, clearing, all-or-nothing resealing."""

from __future__ import annotations

import pytest

from adapters.shops.port import KeyKind
from adapters.shops.rules import hash_key
from adapters.wechat_accounts.port import SealedAccount
from gateway.wiring import Adapters


async def a_shop(adapters: Adapters, handle: str) -> int:
    shop = await adapters.shops.create_shop(handle, handle, {KeyKind.PUBLISHABLE: hash_key(f"pk_{handle}")})
    return shop.id


async def test_each_change_is_a_new_version_and_clearing_forgets(adapters: Adapters):
    # given
    store = adapters.wechat.accounts
    shop = await a_shop(adapters, "wx-one")
    # when
    first = await store.put(SealedAccount(shop, app_id="wx1", app_secret="sealed-1"))
    second = await store.put(SealedAccount(shop, app_id="wx1", app_secret="sealed-2", sub_mch_id="1900000001"))
    # then
    assert (first.version, second.version) == (1, 2)
    assert await store.accounts_of([shop, shop + 100]) == [second, None]
    assert await store.clear(shop) and not await store.clear(shop)
    assert await store.accounts_of([shop]) == [None]


async def test_resealing_changes_every_secret_or_none(adapters: Adapters):
    # given two shops, one of whose secrets the change cannot take
    store = adapters.wechat.accounts
    one, two = await a_shop(adapters, "wx-a"), await a_shop(adapters, "wx-b")
    await store.put(SealedAccount(one, app_id="wx1", app_secret="s1", mch_id="1", private_key="k1", api_v3_key="v1"))
    await store.put(SealedAccount(two, app_id="wx2", app_secret="bad"))
    before = await store.accounts_of([one, two])

    def change(value: str) -> str:
        if value == "bad":
            raise ValueError("cannot open")
        return value + "'"

    # when / then nothing changes when one fails
    with pytest.raises(ValueError):
        await store.reseal(change)
    assert await store.accounts_of([one, two]) == before
    # and all change when none does
    await store.put(SealedAccount(two, app_id="wx2", app_secret="s2"))
    done = await store.reseal(change)
    assert (done.shops, done.secrets) == (2, 4)
    [a, b] = await store.accounts_of([one, two])
    assert a is not None and (a.app_secret, a.private_key, a.api_v3_key, a.mch_id) == ("s1'", "k1'", "v1'", "1")
    assert b is not None and b.app_secret == "s2'"
