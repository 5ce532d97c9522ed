"""Merchant stock operations."""

from __future__ import annotations

import strawberry

from adapters.inventory.port import UnknownWarehouse
from resolvers.user_errors import user_error
from schema.goods import Sku
from schema.inventory import StockPayload

MAX_STOCK = 1_000_000_000


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(description="Set how many units of a SKU a warehouse can sell now (secret key).")
    async def stock_set(self, info: strawberry.Info, sku_code: str, warehouse: str, quantity: int) -> StockPayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        if not 0 <= quantity <= MAX_STOCK:
            return _refused("INVALID", "quantity", f"quantity must be between 0 and {MAX_STOCK}")
        sku = await ctx.loaders.sku_by_code.load((shop.id, sku_code))
        if sku is None:
            return _refused("NOT_FOUND", "skuCode", f"no SKU {sku_code!r} in this shop")
        try:
            await ctx.adapters.inventory.set_available(shop.id, sku.id, warehouse, quantity)
        except UnknownWarehouse as exc:
            return _refused("NOT_FOUND", "warehouse", str(exc))
        return StockPayload(sku=Sku.of(sku))


def _refused(code: str, field: str, message: str) -> StockPayload:
    return StockPayload(user_errors=[user_error(code, [field], message)])
