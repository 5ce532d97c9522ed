"""Inventory types."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.common import UserError

if TYPE_CHECKING:
    from schema.goods import Sku


@strawberry.enum
class StockStatus(enum.Enum):
    IN_STOCK = "IN_STOCK"
    LOW_STOCK = "LOW_STOCK"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    PREORDER = "PREORDER"


@strawberry.type
class Availability:
    status: StockStatus
    quantity_available: int


@strawberry.type
class StockPayload:
    sku: Annotated[Sku, strawberry.lazy("schema.goods")] | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A low-stock threshold: a SKU's own, or (sku null) the shop's for SKUs without one.")
class LowStockThreshold:
    sku: Annotated[Sku, strawberry.lazy("schema.goods")] | None
    threshold: int


@strawberry.type
class LowStockThresholdPayload:
    thresholds: list[LowStockThreshold] = strawberry.field(default_factory=list,
                                                           description="Every threshold the shop has set, after this.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)
