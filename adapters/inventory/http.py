"""The stock of a shop kept by the merchant's own system, over the remote contract
(docs/remote-adapters.md).

Reads are retried; reserve, commit and release are made once per call and are idempotent at
the merchant (a reserve by its ref, an order number, returns the reservation made first; a
commit or release of a reservation already moved changes nothing), so the checkout's
compensation and the sweep may repeat them. The merchant's system keeps the stock figures
and expires its own reservations at ``expiresAt``: setting stock or thresholds through jimu
is refused (``StockKeptRemotely``), and there is nothing here for the sweep to expire.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from adapters.inventory.port import (
    InventoryError,
    OutOfStock,
    PurchaseLimitExceeded,
    Reservation,
    StockLevel,
    WantedLine,
    Warehouse,
)
from adapters.remote import wire
from adapters.remote.client import Endpoint, RemoteClient, RemoteRefused

_COUNTS = TypeAdapter(list[wire.Quantity])
_IDS = TypeAdapter(list[wire.Id])
_WAREHOUSES = TypeAdapter(list[wire.Warehouse])
_UNITS = TypeAdapter(list[wire.Units])
_LEVELS = TypeAdapter(list[wire.Level])


class StockKeptRemotely(InventoryError):
    def __init__(self) -> None:
        super().__init__("this shop's stock is kept by the merchant's own system: change it there")


class HttpInventory:
    """One shop's stock: ``endpoint`` names the shop and where its stock is served."""

    def __init__(self, client: RemoteClient, endpoint: Endpoint) -> None:
        self._client = client
        self._end = endpoint

    async def available(self, shop_id: int, keys: Sequence[tuple[int, str | None]]) -> list[int]:
        asked = [{"skuId": sku_id, "region": region} for sku_id, region in keys]
        if not asked:
            return []

        def parse(answer: dict[str, Any]) -> list[int]:
            counts = _COUNTS.validate_python(wire.Items.model_validate(answer).items)
            if len(counts) != len(asked):
                raise ValueError(f"{len(counts)} answers for {len(asked)} keys")
            return counts

        return await self._read("/v1/availability", {"keys": asked}, parse)

    async def skus_in_stock(self, shop_id: int, region: str) -> set[int]:
        return await self._read("/v1/skus:inStock", {"region": region},
                                lambda a: set(_IDS.validate_python(wire.Items.model_validate(a).items)))

    async def warehouses(self, shop_id: int) -> list[Warehouse]:
        def parse(answer: dict[str, Any]) -> list[Warehouse]:
            found = _WAREHOUSES.validate_python(wire.Items.model_validate(answer).items)
            return [Warehouse(w.code, tuple(w.regions)) for w in found]

        return await self._read("/v1/warehouses", {}, parse)

    async def units(self, shop_id: int, sku_ids: Sequence[int], warehouse_codes: Sequence[str]) -> dict[int, int]:
        found = dict.fromkeys(sku_ids, 0)
        if not sku_ids or not warehouse_codes:
            return found

        def parse(answer: dict[str, Any]) -> dict[int, int]:
            for entry in _UNITS.validate_python(wire.Items.model_validate(answer).items):
                if entry.skuId not in found:
                    raise ValueError(f"units of SKU {entry.skuId}, which was not asked for")
                found[entry.skuId] = entry.units
            return found

        return await self._read("/v1/units", {"skuIds": list(found), "warehouseCodes": list(warehouse_codes)}, parse)

    async def levels(self, shop_id: int, sku_id: int) -> list[StockLevel]:
        def parse(answer: dict[str, Any]) -> list[StockLevel]:
            found = _LEVELS.validate_python(wire.Items.model_validate(answer).items)
            if any(lv.skuId != sku_id for lv in found):
                raise ValueError("levels of another SKU")
            return [StockLevel(lv.skuId, lv.warehouseCode, lv.onHand, lv.reserved, lv.sold) for lv in found]

        return await self._read("/v1/levels", {"skuId": sku_id}, parse)

    async def set_available(self, shop_id: int, sku_id: int, warehouse_code: str, quantity: int) -> None:
        raise StockKeptRemotely()

    async def set_low_stock(self, shop_id: int, sku_id: int | None, threshold: int | None) -> None:
        raise StockKeptRemotely()

    async def low_stock_thresholds(self, shop_id: int) -> dict[int | None, int]:
        return {}

    async def reserve(self, shop_id: int, ref: str, shopper_id: int | None, region: str,
                      lines: Sequence[WantedLine], expires_at: datetime) -> Reservation:
        body = {"ref": ref, "shopperId": shopper_id, "region": region, "expiresAt": expires_at.isoformat(),
                "lines": [{"skuId": ln.sku_id, "quantity": ln.quantity, "purchaseLimit": ln.purchase_limit}
                          for ln in lines]}
        try:
            held = await self._client.call(self._end, "/v1/reservations:reserve", body, self._held, read=False)
        except RemoteRefused as exc:
            raise _refusal(exc) from exc
        if held is None or held.ref != ref:
            raise InventoryError(f"the merchant's system answered a reserve of {ref} with another reservation")
        return held

    async def commit(self, shop_id: int, reservation_id: int) -> bool:
        return await self._move("/v1/reservations:commit", reservation_id)

    async def release(self, shop_id: int, reservation_id: int) -> bool:
        return await self._move("/v1/reservations:release", reservation_id)

    async def expire_due(self, now: datetime, limit: int = 100) -> list[Reservation]:
        return []  # the merchant's system expires its own, at expiresAt

    async def reservation(self, shop_id: int, reservation_id: int) -> Reservation | None:
        found = await self._read("/v1/reservations:byId", {"id": reservation_id}, self._held)
        if found is not None and found.id != reservation_id:
            raise InventoryError(f"the merchant's system answered reservation {found.id} for {reservation_id}")
        return found

    async def reservation_by_ref(self, shop_id: int, ref: str) -> Reservation | None:
        found = await self._read("/v1/reservations:byRef", {"ref": ref}, self._held)
        if found is not None and found.ref != ref:
            raise InventoryError(f"the merchant's system answered reservation {found.ref} for {ref}")
        return found

    async def _move(self, path: str, reservation_id: int) -> bool:
        return await self._client.call(self._end, path, {"id": reservation_id},
                                       lambda a: wire.Changed.model_validate(a).changed, read=False)

    def _held(self, answer: dict[str, Any]) -> Reservation | None:
        held = wire.Held.model_validate(answer).reservation
        return None if held is None else held.of(self._end.shop_id)

    async def _read(self, path: str, body: dict[str, Any], parse: Any) -> Any:
        return await self._client.call(self._end, path, body, parse, read=True)


def _refusal(exc: RemoteRefused) -> InventoryError:
    sku_ids = [int(i) for i in exc.details.get("skuIds", []) if isinstance(i, int)]
    match exc.code:
        case "OUT_OF_STOCK":
            return OutOfStock(sku_ids)
        case "PURCHASE_LIMIT_EXCEEDED":
            return PurchaseLimitExceeded(sku_ids)
    return InventoryError(f"the merchant's system refused the reservation: {exc.code}")
