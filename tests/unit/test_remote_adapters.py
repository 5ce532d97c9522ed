"""The remote adapters above the client: a reserve's answer checked before it is believed."""

from __future__ import annotations

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
