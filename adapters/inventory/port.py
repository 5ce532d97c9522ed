"""Inventory: stock per (SKU, warehouse), reservations, and per-shopper purchase limits.

A stock row counts ``on_hand`` (units held for sale and not yet shipped),
``reserved`` (held by active reservations) and ``sold`` (committed by a
payment); what can still be sold is ``on_hand - reserved - sold``. Every change
to these counters is one conditional UPDATE inside a transaction that takes its
row locks in (sku, warehouse) order, so no interleaving can sell more than
there is.

A reservation moves ACTIVE -> COMMITTED (first payment), ACTIVE -> EXPIRED (the
sweep, after ``expires_at``), or ACTIVE/COMMITTED -> RELEASED (cancellation).
Each move is a conditional update on the state, so it happens exactly once.

Errors::

    InventoryError
    ├── OutOfStock              some lines cannot be served from the region's warehouses
    ├── PurchaseLimitExceeded   a shopper would hold more than a SKU's purchase limit
    ├── UnknownWarehouse        no warehouse of this shop has that code
    └── StockKeptRemotely       the shop's stock figures are its own system's: jimu does not set them
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class ReservationState(enum.Enum):
    ACTIVE = "ACTIVE"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class StockLevel:
    sku_id: int
    warehouse_code: str
    on_hand: int
    reserved: int
    sold: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.sold


@dataclass(frozen=True, slots=True)
class Warehouse:
    code: str
    regions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WantedLine:
    """A line to reserve: the SKU, how many, and its purchase limit (None: unlimited)."""

    sku_id: int
    quantity: int
    purchase_limit: int | None = None


@dataclass(frozen=True, slots=True)
class HeldLine:
    sku_id: int
    warehouse_code: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    shop_id: int
    ref: str
    shopper_id: int | None
    state: ReservationState
    expires_at: datetime
    lines: tuple[HeldLine, ...]


class InventoryError(Exception):
    pass


class OutOfStock(InventoryError):
    def __init__(self, sku_ids: Sequence[int]) -> None:
        super().__init__(f"not enough stock for SKUs {sorted(sku_ids)}")
        self.sku_ids = sorted(sku_ids)


class PurchaseLimitExceeded(InventoryError):
    def __init__(self, sku_ids: Sequence[int]) -> None:
        super().__init__(f"purchase limit reached for SKUs {sorted(sku_ids)}")
        self.sku_ids = sorted(sku_ids)


class UnknownWarehouse(InventoryError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no warehouse {code!r} in this shop")
        self.code = code


class StockKeptRemotely(InventoryError):
    def __init__(self) -> None:
        super().__init__("this shop's stock is kept by the merchant's own system: change it there")


class Inventory(Protocol):
    """Stock and reservations of every shop."""

    async def available(self, shop_id: int, keys: Sequence[tuple[int, str | None]]) -> list[int]:
        """Units that can be sold for each (sku_id, region); all warehouses when region is None."""
        ...

    async def skus_in_stock(self, shop_id: int, region: str) -> set[int]:
        """Ids of the SKUs with at least one unit available in the region."""
        ...

    async def warehouses(self, shop_id: int) -> list[Warehouse]:
        """The shop's warehouses and the regions each serves, by code."""
        ...

    async def units(self, shop_id: int, sku_ids: Sequence[int], warehouse_codes: Sequence[str]) -> dict[int, int]:
        """Units of each SKU these warehouses can sell (``rules.serving`` names the ones serving
        a region): what ``available`` answers, with the regions matched by the caller."""
        ...

    async def levels(self, shop_id: int, sku_id: int) -> list[StockLevel]:
        """The SKU's stock rows, by warehouse code."""
        ...

    async def set_available(self, shop_id: int, sku_id: int, warehouse_code: str, quantity: int) -> None:
        """Make ``quantity`` units sellable there, whatever is reserved or sold; raises UnknownWarehouse."""
        ...

    async def set_low_stock(self, shop_id: int, sku_id: int | None, threshold: int | None) -> None:
        """The threshold at or below which a SKU's stock is low (INVENTORY_LOW): the SKU's own,
        or with ``sku_id`` None the shop's for SKUs without one; None removes it."""
        ...

    async def low_stock_thresholds(self, shop_id: int) -> dict[int | None, int]:
        """The thresholds set: by SKU id, and the shop's under None."""
        ...

    async def reserve(
        self,
        shop_id: int,
        ref: str,
        shopper_id: int | None,
        region: str,
        lines: Sequence[WantedLine],
        expires_at: datetime,
    ) -> Reservation:
        """Hold every line from warehouses serving the region, or nothing.

        The same ``ref`` returns the reservation made first. Raises OutOfStock or
        PurchaseLimitExceeded (naming every SKU at fault) with nothing held.
        """
        ...

    async def commit(self, shop_id: int, reservation_id: int) -> bool:
        """ACTIVE -> COMMITTED: the units are sold. False when it was not ACTIVE."""
        ...

    async def release(self, shop_id: int, reservation_id: int) -> bool:
        """ACTIVE or COMMITTED -> RELEASED: the units are sellable again. False otherwise."""
        ...

    async def release_ref(self, shop_id: int, ref: str) -> bool:
        """Give back what is held under ``ref`` (as ``release``), and see that nothing is held under it
        later: a shop's own system may yet receive a reserve of ``ref`` that jimu gave up waiting for,
        and holds nothing for it then. False when nothing was held."""
        ...

    async def expire_due(self, now: datetime, limit: int = 100) -> list[Reservation]:
        """ACTIVE reservations past ``expires_at`` -> EXPIRED, units released; those it expired."""
        ...

    async def reservation(self, shop_id: int, reservation_id: int) -> Reservation | None: ...

    async def reservation_by_ref(self, shop_id: int, ref: str) -> Reservation | None:
        """The reservation made under ``ref`` (an order number), whatever its state."""
        ...
