"""The stock of a shop kept by the merchant's own system, over the remote contract
(docs/remote-adapters.md).

Reads are retried; reserve, commit and release are made once per call and are idempotent at
the merchant (a reserve by its ref, an order number, returns the reservation made first; a
commit or release of a reservation already moved changes nothing), so the checkout's
compensation and the sweep may repeat them. The merchant keys its stock by SKU code (what an ERP knows a SKU by), so the shop's goods,
jimu's own or the merchant's, tell ids and codes apart. The merchant's system keeps the stock figures
and expires its own reservations at ``expiresAt``: setting stock or thresholds through jimu
is refused (``StockKeptRemotely``), and there is nothing here for the sweep to expire.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from adapters.goods.port import GoodsCatalog
from adapters.inventory.port import (
    OutOfStock,
    PurchaseLimitExceeded,
    Reservation,
    StockKeptRemotely,
    StockLevel,
    WantedLine,
    Warehouse,
)
from adapters.remote import wire
from adapters.remote.client import Endpoint, RemoteClient, RemoteRefused

_COUNTS = TypeAdapter(list[wire.Quantity])
_CODES = TypeAdapter(list[str])
_WAREHOUSES = TypeAdapter(list[wire.Warehouse])
_UNITS = TypeAdapter(list[wire.Units])
_LEVELS = TypeAdapter(list[wire.Level])
# the reserve's refusals the contract names; any other answer to it is the remote failing
REFUSALS = frozenset({"OUT_OF_STOCK", "PURCHASE_LIMIT_EXCEEDED"})


class HttpInventory:
    """One shop's stock: ``endpoint`` names the shop and where its stock is served; ``goods`` is
    the shop's catalog (jimu's or the merchant's), through which SKU ids and the codes the
    merchant keys its stock by are told apart."""

    def __init__(self, client: RemoteClient, endpoint: Endpoint, goods: GoodsCatalog) -> None:
        self._client = client
        self._end = endpoint
        self._goods = goods

    async def available(self, shop_id: int, keys: Sequence[tuple[int, str | None]]) -> list[int]:
        codes = await self._codes([sku_id for sku_id, _ in keys])
        asked = [(n, {"skuCode": codes[sku_id], "region": region})
                 for n, (sku_id, region) in enumerate(keys) if sku_id in codes]
        found = [0] * len(keys)  # a SKU the shop does not have has nothing to sell
        if not asked:
            return found

        def parse(answer: dict[str, Any]) -> list[int]:
            counts = _COUNTS.validate_python(wire.Items.model_validate(answer).items)
            if len(counts) != len(asked):
                raise ValueError(f"{len(counts)} answers for {len(asked)} keys")
            for (n, _), count in zip(asked, counts, strict=True):
                found[n] = count
            return found

        return await self._client.read(self._end, "/v1/availability", {"keys": [key for _, key in asked]}, parse)

    async def skus_in_stock(self, shop_id: int, region: str) -> set[int]:
        codes = await self._client.read(self._end, "/v1/skus:inStock", {"region": region},
                                        lambda a: _CODES.validate_python(wire.Items.model_validate(a).items))
        return set((await self._ids(codes)).values())

    async def warehouses(self, shop_id: int) -> list[Warehouse]:
        def parse(answer: dict[str, Any]) -> list[Warehouse]:
            found = _WAREHOUSES.validate_python(wire.Items.model_validate(answer).items)
            return [Warehouse(w.code, tuple(w.regions)) for w in found]

        return await self._client.read(self._end, "/v1/warehouses", {}, parse)

    async def units(self, shop_id: int, sku_ids: Sequence[int], warehouse_codes: Sequence[str]) -> dict[int, int]:
        found = dict.fromkeys(sku_ids, 0)
        codes = await self._codes(list(found))
        if not codes or not warehouse_codes:
            return found
        ids = {code: sku_id for sku_id, code in codes.items()}

        def parse(answer: dict[str, Any]) -> dict[int, int]:
            for entry in _UNITS.validate_python(wire.Items.model_validate(answer).items):
                if entry.skuCode not in ids:
                    raise ValueError(f"units of SKU {entry.skuCode}, which was not asked for")
                found[ids[entry.skuCode]] = entry.units
            return found

        body = {"skuCodes": list(ids), "warehouseCodes": list(warehouse_codes)}
        return await self._client.read(self._end, "/v1/units", body, parse)

    async def levels(self, shop_id: int, sku_id: int) -> list[StockLevel]:
        code = (await self._codes([sku_id])).get(sku_id)
        if code is None:
            return []

        def parse(answer: dict[str, Any]) -> list[StockLevel]:
            found = _LEVELS.validate_python(wire.Items.model_validate(answer).items)
            if any(lv.skuCode != code for lv in found):
                raise ValueError("levels of another SKU")
            return [StockLevel(sku_id, lv.warehouseCode, lv.onHand, lv.reserved, lv.sold) for lv in found]

        return await self._client.read(self._end, "/v1/levels", {"skuCode": code}, parse)

    async def set_available(self, shop_id: int, sku_id: int, warehouse_code: str, quantity: int) -> None:
        raise StockKeptRemotely()

    async def set_low_stock(self, shop_id: int, sku_id: int | None, threshold: int | None) -> None:
        raise StockKeptRemotely()

    async def low_stock_thresholds(self, shop_id: int) -> dict[int | None, int]:
        return {}

    async def reserve(self, shop_id: int, ref: str, shopper_id: int | None, region: str,
                      lines: Sequence[WantedLine], expires_at: datetime) -> Reservation:
        codes = await self._codes([ln.sku_id for ln in lines])
        if unknown := [ln.sku_id for ln in lines if ln.sku_id not in codes]:
            raise OutOfStock(unknown)
        body = {"ref": ref, "shopperId": shopper_id, "region": region, "expiresAt": expires_at.isoformat(),
                "lines": [{"skuCode": codes[ln.sku_id], "quantity": ln.quantity, "purchaseLimit": ln.purchase_limit}
                          for ln in lines]}
        ids = {code: sku_id for sku_id, code in codes.items()}
        try:
            return await self._client.call(self._end, "/v1/reservations:reserve", body,
                                           lambda a: self._held(a, ref, ids), read=False, refusals=REFUSALS)
        except RemoteRefused as exc:
            named = [ids[c] for c in exc.details.get("skuCodes", []) if isinstance(c, str) and c in ids]
            raise OutOfStock(named) if exc.code == "OUT_OF_STOCK" else PurchaseLimitExceeded(named) from exc

    async def commit(self, shop_id: int, reservation_id: int) -> bool:
        return await self._move("/v1/reservations:commit", reservation_id)

    async def release(self, shop_id: int, reservation_id: int) -> bool:
        return await self._move("/v1/reservations:release", reservation_id)

    async def release_ref(self, shop_id: int, ref: str) -> bool:
        return await self._client.call(self._end, "/v1/reservations:releaseByRef", {"ref": ref},
                                       lambda a: wire.Changed.model_validate(a).changed, read=False)

    async def expire_due(self, now: datetime, limit: int = 100) -> list[Reservation]:
        return []  # the merchant's system expires its own, at expiresAt

    async def reservation(self, shop_id: int, reservation_id: int) -> Reservation | None:
        return await self._found("/v1/reservations:byId", {"id": reservation_id}, lambda r: r.id == reservation_id)

    async def reservation_by_ref(self, shop_id: int, ref: str) -> Reservation | None:
        return await self._found("/v1/reservations:byRef", {"ref": ref}, lambda r: r.ref == ref)

    async def _found(self, path: str, body: dict[str, Any], asked: Callable[[wire.Reservation], bool]
                     ) -> Reservation | None:
        def parse(answer: dict[str, Any]) -> wire.Reservation | None:
            held = wire.Held.model_validate(answer).reservation
            if held is not None and not asked(held):
                raise ValueError(f"reservation {held.id} ({held.ref}) answered for {body}")
            return held

        held = await self._client.read(self._end, path, body, parse)
        if held is None:
            return None
        ids = await self._ids([ln.skuCode for ln in held.lines])
        return held.of(self._end.shop_id, ids)

    async def _move(self, path: str, reservation_id: int) -> bool:
        return await self._client.call(self._end, path, {"id": reservation_id},
                                       lambda a: wire.Changed.model_validate(a).changed, read=False)

    def _held(self, answer: dict[str, Any], ref: str, ids: dict[str, int]) -> Reservation:
        held = wire.Held.model_validate(answer).reservation
        if held is None or held.ref != ref:
            raise ValueError(f"a reserve of {ref} answered with {held.ref if held else 'no reservation'}")
        if held.state in ("RELEASED", "EXPIRED"):  # the ref was given back (or ran out) before this reserve
            raise ValueError(f"a reserve of {ref} answered with a {held.state} reservation, not a hold")
        if any(ln.skuCode not in ids for ln in held.lines):
            raise ValueError("a reservation line of a SKU not asked for")
        return held.of(self._end.shop_id, ids)

    async def _codes(self, sku_ids: list[int]) -> dict[int, str]:
        """The codes of the shop's SKUs among ``sku_ids``."""
        unique = list(dict.fromkeys(sku_ids))
        found = await self._goods.skus_by_id(self._end.shop_id, unique) if unique else []
        return {sku.id: sku.code for sku in found if sku is not None}

    async def _ids(self, codes: list[str]) -> dict[str, int]:
        unique = list(dict.fromkeys(codes))
        found = await self._goods.skus_by_code(self._end.shop_id, unique) if unique else []
        return {sku.code: sku.id for sku in found if sku is not None}

