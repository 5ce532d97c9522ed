"""The remote adapters above the client: a reserve's answer checked before it is believed, and
the per-shop routing a worker keeps (rows that change under it, a secret that will not open)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from adapters.inventory.http import HttpInventory
from adapters.inventory.port import OutOfStock, WantedLine
from adapters.remote.client import (
    Endpoint,
    RemoteClient,
    RemoteUnavailable,
    breaker_key,
)
from adapters.remote.routed import Remotes
from adapters.shop_remotes.fake import FakeShopRemotes

END = Endpoint(7, "brand", "inventory", "http://erp.test", "s3cret")
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)
HELD = {"id": 5, "ref": "JM-1", "shopperId": None, "state": "ACTIVE", "expiresAt": EXPIRES.isoformat(),
        "lines": [{"skuCode": "W-1", "warehouseCode": "SH", "quantity": 1}]}


@dataclass
class _Sku:
    id: int
    code: str


class _Goods:
    """The shop's goods as HttpInventory uses them: SKU 1 is W-1."""

    async def skus_by_id(self, shop_id: int, ids: list[int]) -> list[_Sku | None]:
        return [_Sku(1, "W-1") if i == 1 else None for i in ids]

    async def skus_by_code(self, shop_id: int, codes: list[str]) -> list[_Sku | None]:
        return [_Sku(1, "W-1") if c == "W-1" else None for c in codes]


def stock(answer: httpx.Response) -> tuple[HttpInventory, RemoteClient]:
    client = RemoteClient(httpx.AsyncClient(transport=httpx.MockTransport(lambda request: answer)))
    return HttpInventory(client, END, _Goods()), client  # type: ignore[arg-type]


async def reserve(inventory: HttpInventory):
    return await inventory.reserve(7, "JM-1", None, "SH", [WantedLine(1, 1)], EXPIRES)


async def test_a_reserve_answered_as_the_contract_says_is_the_reservation():
    inventory, _ = stock(httpx.Response(200, json={"reservation": HELD}))
    held = await reserve(inventory)
    assert (held.id, held.ref, [ln.sku_id for ln in held.lines]) == (5, "JM-1", [1])


@pytest.mark.parametrize("answer", [
    httpx.Response(200, json={"reservation": None}),
    httpx.Response(200, json={"reservation": {**HELD, "ref": "JM-2"}}),
    httpx.Response(409, json={"error": {"code": "SOMETHING_NEW", "skuCodes": ["W-1"]}}),
    httpx.Response(400, json={"error": {"code": "OUT_OF_STOCK", "skuCodes": ["W-1"]}}),
])
async def test_a_reserve_answered_otherwise_is_the_merchant_failing(answer: httpx.Response):
    # an unknown refusal is no bare InventoryError (a 500): the checkout refuses it in words
    inventory, client = stock(answer)
    with pytest.raises(RemoteUnavailable) as failed:
        await reserve(inventory)
    assert failed.value.capability == "inventory" and client.breakers[breaker_key(END)].failures == 1


async def test_a_named_refusal_is_out_of_stock_and_not_a_failure():
    inventory, client = stock(httpx.Response(409, json={"error": {"code": "OUT_OF_STOCK", "skuCodes": ["W-1"]}}))
    with pytest.raises(OutOfStock) as refused:
        await reserve(inventory)
    assert refused.value.sku_ids == [1] and client.breakers[breaker_key(END)].failures == 0


async def test_a_reservation_answered_for_another_is_the_merchant_failing_and_asked_again():
    for by_ref in (False, True):
        inventory, client = stock(httpx.Response(200, json={"reservation": {**HELD, "id": 6, "ref": "JM-9"}}))
        with pytest.raises(RemoteUnavailable):
            await (inventory.reservation_by_ref(7, "JM-1") if by_ref else inventory.reservation(7, 5))
        assert client.breakers[breaker_key(END)].failures == 3  # a read: tried three times


class _Shops:
    """What FakeShopRemotes asks of the shops: their handles."""

    @dataclass
    class _Shop:
        handle: str

    shops = {1: _Shop("brand"), 2: _Shop("other")}


def routing(open_secret=lambda stored: stored) -> tuple[Remotes, FakeShopRemotes, list[float]]:
    now = [0.0]
    store = FakeShopRemotes(_Shops())  # type: ignore[arg-type]
    remotes = Remotes(store, RemoteClient(httpx.AsyncClient()), open_secret, goods="LOCAL_GOODS",  # type: ignore[arg-type]
                      inventory="LOCAL_INVENTORY", ttl=2.0, clock=lambda: now[0])  # type: ignore[arg-type]
    return remotes, store, now


async def test_a_remote_cleared_and_set_again_between_two_reads_is_followed():
    # given a worker serving shop 1 from the old ERP
    remotes, store, now = routing()
    await store.put(1, "http://old-erp", None, "old-secret")
    assert (await remotes.goods(1))._end.base_url == "http://old-erp"  # type: ignore[attr-defined]
    # when, between two of its reads, the remote is cleared and set anew (its version starts again at 1)
    await store.clear(1)
    await store.put(1, "http://new-erp", None, "new-secret")
    now[0] = 10.0
    # then the worker follows the new one
    served = (await remotes.goods(1))._end  # type: ignore[attr-defined]
    assert (served.base_url, served.secret) == ("http://new-erp", "new-secret")


async def test_a_secret_that_will_not_open_makes_that_shop_unavailable_only(caplog: pytest.LogCaptureFixture):
    def open_secret(stored: str) -> str:
        if stored.startswith("plain:"):
            raise ValueError("the secret was stored unsealed: set the shop's remote again")
        return stored

    # given shop 2's stock at its ERP under a secret that will not open, and shop 1 with no remote
    remotes, store, now = routing(open_secret)
    await store.put(2, None, "http://erp-of-shop-2", "plain:abc-secret")
    # then shop 1 is served from jimu, shop 2's goods (jimu's) too
    with caplog.at_level(logging.ERROR):
        assert await remotes.goods(1) == "LOCAL_GOODS" and await remotes.inventory(1) == "LOCAL_INVENTORY"
        assert await remotes.goods(2) == "LOCAL_GOODS"
        # and shop 2's stock is unavailable, said once in the log, without the secret
        with pytest.raises(RemoteUnavailable) as failed:
            await (await remotes.inventory(2)).warehouses(2)
        now[0] = 10.0
        await remotes.inventory(2)
    assert failed.value.capability == "inventory"
    [logged] = [r for r in caplog.records if "cannot be opened" in r.getMessage()]
    assert "other" in logged.getMessage() and "abc-secret" not in logged.getMessage()
