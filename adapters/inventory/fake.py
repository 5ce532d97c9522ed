"""In-memory inventory for tests: the SQL adapter's behaviour without a database."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from adapters.inventory import rules
from adapters.inventory.port import (
    HeldLine,
    OutOfStock,
    PurchaseLimitExceeded,
    Reservation,
    ReservationState,
    StockLevel,
    UnknownWarehouse,
    WantedLine,
    Warehouse,
)


@dataclass
class _Counts:
    on_hand: int = 0
    reserved: int = 0
    sold: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.sold


class FakeInventory:
    def __init__(self) -> None:
        # (shop_id, code) -> region rules, in creation order
        self.served: dict[tuple[int, str], list[str]] = {}
        self.stock: dict[tuple[int, int, str], _Counts] = {}  # (shop, sku, warehouse code)
        self.tallies: dict[tuple[int, int], int] = {}  # (shopper, sku)
        self.reservations: dict[int, Reservation] = {}
        self._tallied: dict[int, set[int]] = {}
        self.low_stock: dict[tuple[int, int | None], int] = {}  # (shop, sku or None for the shop's)
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    def put_available(self, shop_id: int, sku_id: int, code: str, quantity: int) -> bool:
        """Make ``quantity`` sellable there, keeping what is reserved and sold; True if it changed."""
        known = (shop_id, sku_id, code) in self.stock
        counts = self.stock.setdefault((shop_id, sku_id, code), _Counts())
        changed = not known or counts.available != quantity
        counts.on_hand = quantity + counts.reserved + counts.sold
        return changed

    def held(self, shop_id: int, sku_id: int, code: str) -> tuple[int, int, int] | None:
        """(on hand, reserved, sold) of a stock row, None when there is none: what an import reads."""
        counts = self.stock.get((shop_id, sku_id, code))
        return None if counts is None else (counts.on_hand, counts.reserved, counts.sold)

    def put_on_hand(self, shop_id: int, sku_id: int, code: str, on_hand: int) -> None:
        """On hand as given, keeping what is reserved and sold: an import's write."""
        counts = self.stock.setdefault((shop_id, sku_id, code), _Counts())
        if on_hand < counts.reserved + counts.sold:
            raise ValueError("stock_counts")  # as the database's CHECK refuses it
        counts.on_hand = on_hand

    def _serving(self, shop_id: int, region: str | None) -> list[str]:
        return [code for (shop, code), regions in self.served.items()
                if shop == shop_id and rules.serves(regions, region)]

    async def available(self, shop_id: int, keys: Sequence[tuple[int, str | None]]) -> list[int]:
        return [
            sum(self.stock.get((shop_id, sku_id, code), _Counts()).available for code in self._serving(shop_id, region))
            for sku_id, region in keys
        ]

    async def warehouses(self, shop_id: int) -> list[Warehouse]:
        return sorted((Warehouse(code, tuple(regions)) for (shop, code), regions in self.served.items()
                       if shop == shop_id), key=lambda w: w.code)

    async def units(self, shop_id: int, sku_ids: Sequence[int], warehouse_codes: Sequence[str]) -> dict[int, int]:
        found = dict.fromkeys(sku_ids, 0)
        codes = set(warehouse_codes)
        for (shop, sku, code), counts in self.stock.items():
            if shop == shop_id and sku in found and code in codes:
                found[sku] += counts.available
        return found

    async def skus_in_stock(self, shop_id: int, region: str) -> set[int]:
        serving = set(self._serving(shop_id, region))
        return {sku for (shop, sku, code), c in self.stock.items() if shop == shop_id and code in serving
                and c.available > 0}

    async def levels(self, shop_id: int, sku_id: int) -> list[StockLevel]:
        return sorted(
            (StockLevel(sku, code, c.on_hand, c.reserved, c.sold)
             for (shop, sku, code), c in self.stock.items() if shop == shop_id and sku == sku_id),
            key=lambda level: level.warehouse_code,
        )

    async def set_available(self, shop_id: int, sku_id: int, warehouse_code: str, quantity: int) -> None:
        if quantity < 0:
            raise ValueError("stock cannot be negative")
        if (shop_id, warehouse_code) not in self.served:
            raise UnknownWarehouse(warehouse_code)
        self.put_available(shop_id, sku_id, warehouse_code, quantity)

    async def set_low_stock(self, shop_id: int, sku_id: int | None, threshold: int | None) -> None:
        if threshold is None:
            self.low_stock.pop((shop_id, sku_id), None)
        else:
            self.low_stock[(shop_id, sku_id)] = threshold

    async def low_stock_thresholds(self, shop_id: int) -> dict[int | None, int]:
        return {sku: t for (shop, sku), t in self.low_stock.items() if shop == shop_id}

    async def reserve(
        self,
        shop_id: int,
        ref: str,
        shopper_id: int | None,
        region: str,
        lines: Sequence[WantedLine],
        expires_at: datetime,
    ) -> Reservation:
        async with self._lock:
            for existing in self.reservations.values():
                if existing.shop_id == shop_id and existing.ref == ref:
                    return existing
            wanted = rules.merge_lines(lines)
            serving = self._serving(shop_id, region)
            plan, short = [], []
            for sku_id, line in wanted.items():
                units = [(code, self.stock.get((shop_id, sku_id, code), _Counts()).available) for code in serving]
                taken = rules.allocate(line.quantity, units)
                if taken is None:
                    short.append(sku_id)
                else:
                    plan += [HeldLine(sku_id, code, q) for code, q in taken]
            if short:
                raise OutOfStock(short)
            limited = {s: w for s, w in wanted.items() if w.purchase_limit is not None and shopper_id is not None}
            over = [s for s, w in limited.items() if self.tallies.get((shopper_id, s), 0) + w.quantity > w.purchase_limit]
            if over:
                raise PurchaseLimitExceeded(over)
            for held in plan:
                self.stock[(shop_id, held.sku_id, held.warehouse_code)].reserved += held.quantity
            for sku_id, line in limited.items():
                self.tallies[(shopper_id, sku_id)] = self.tallies.get((shopper_id, sku_id), 0) + line.quantity
            reservation = Reservation(next(self._ids), shop_id, ref, shopper_id, ReservationState.ACTIVE,
                                      expires_at, tuple(sorted(plan, key=lambda h: (h.sku_id, h.warehouse_code))))
            self.reservations[reservation.id] = reservation
            self._tallied[reservation.id] = set(limited)
            return reservation

    async def commit(self, shop_id: int, reservation_id: int) -> bool:
        async with self._lock:
            found = self.reservations.get(reservation_id)
            if found is None or found.shop_id != shop_id or found.state is not ReservationState.ACTIVE:
                return False
            for held in found.lines:
                counts = self.stock[(shop_id, held.sku_id, held.warehouse_code)]
                counts.reserved -= held.quantity
                counts.sold += held.quantity
            self.reservations[reservation_id] = replace(found, state=ReservationState.COMMITTED)
            return True

    async def release_ref(self, shop_id: int, ref: str) -> bool:
        # jimu's own reserve runs in the checkout's own call: none arrives after its order gave up
        found = await self.reservation_by_ref(shop_id, ref)
        return found is not None and await self.release(shop_id, found.id)

    async def release(self, shop_id: int, reservation_id: int) -> bool:
        async with self._lock:
            found = self.reservations.get(reservation_id)
            if found is None or found.shop_id != shop_id:
                return False
            if found.state not in (ReservationState.ACTIVE, ReservationState.COMMITTED):
                return False
            self._give_back(found)
            self.reservations[reservation_id] = replace(found, state=ReservationState.RELEASED)
            return True

    async def expire_due(self, now: datetime, limit: int = 100) -> list[Reservation]:
        async with self._lock:
            due = sorted(r.id for r in self.reservations.values()
                         if r.state is ReservationState.ACTIVE and r.expires_at <= now)[:limit]
            expired = []
            for reservation_id in due:
                found = self.reservations[reservation_id]
                self._give_back(found)
                self.reservations[reservation_id] = replace(found, state=ReservationState.EXPIRED)
                expired.append(self.reservations[reservation_id])
            return expired

    async def reservation(self, shop_id: int, reservation_id: int) -> Reservation | None:
        found = self.reservations.get(reservation_id)
        return found if found is not None and found.shop_id == shop_id else None

    async def reservation_by_ref(self, shop_id: int, ref: str) -> Reservation | None:
        return next((r for r in self.reservations.values() if r.shop_id == shop_id and r.ref == ref), None)

    def _give_back(self, reservation: Reservation) -> None:
        for held in reservation.lines:
            counts = self.stock[(reservation.shop_id, held.sku_id, held.warehouse_code)]
            if reservation.state is ReservationState.ACTIVE:
                counts.reserved -= held.quantity
            else:
                counts.sold -= held.quantity
            if held.sku_id in self._tallied.get(reservation.id, ()) and reservation.shopper_id is not None:
                self.tallies[(reservation.shopper_id, held.sku_id)] -= held.quantity
