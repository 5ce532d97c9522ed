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
