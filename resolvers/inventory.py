"""Merchant stock operations."""

from __future__ import annotations

import strawberry

from adapters.inventory.port import StockKeptRemotely, UnknownWarehouse
from resolvers.user_errors import user_error
from schema.goods import Sku
from schema.inventory import LowStockThreshold, LowStockThresholdPayload, StockPayload

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
        except StockKeptRemotely as exc:
            return _refused("INVALID_STATE", "skuCode", str(exc))
        return StockPayload(sku=Sku.of(sku))


    @strawberry.mutation(description="Set the threshold at or below which a SKU's available units are low, for the "
                                     "INVENTORY_LOW webhook (secret key): the SKU's own, or without skuCode the "
                                     "shop's for SKUs without one (5 when nothing is set). A null threshold removes it.")
    async def inventory_low_stock_set(
        self, info: strawberry.Info, threshold: int | None, sku_code: str | None = None
    ) -> LowStockThresholdPayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        if threshold is not None and not 0 <= threshold <= MAX_STOCK:
            return LowStockThresholdPayload(user_errors=[user_error("INVALID", ["threshold"],
                                                                    f"give 0 to {MAX_STOCK}, or null to remove it")])
        sku_id = None
        if sku_code is not None:
            sku = await ctx.loaders.sku_by_code.load((shop.id, sku_code))
            if sku is None:
                return LowStockThresholdPayload(user_errors=[user_error("NOT_FOUND", ["skuCode"],
                                                                        f"no SKU {sku_code!r} in this shop")])
            sku_id = sku.id
        try:
            await ctx.adapters.inventory.set_low_stock(shop.id, sku_id, threshold)
        except StockKeptRemotely as exc:
            return LowStockThresholdPayload(user_errors=[user_error("INVALID_STATE", ["threshold"], str(exc))])
        held = await ctx.adapters.inventory.low_stock_thresholds(shop.id)
        ids = sorted(i for i in held if i is not None)
        skus = dict(zip(ids, await ctx.adapters.goods.skus_by_id(shop.id, ids), strict=True))
        shown = [LowStockThreshold(sku=None, threshold=held[None])] if None in held else []
        shown += [LowStockThreshold(sku=Sku.of(sku), threshold=held[i]) for i, sku in skus.items() if sku is not None]
        return LowStockThresholdPayload(thresholds=shown)


def _refused(code: str, field: str, message: str) -> StockPayload:
    return StockPayload(user_errors=[user_error(code, [field], message)])
