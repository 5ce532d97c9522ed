"""How catalog entries map to stored values: one mapping, shared by SQL and fake stores."""

from __future__ import annotations

from typing import Any

from adapters.catalog.format import DeliveryTierEntry, ProductEntry, SkuEntry
from adapters.delivery.port import SlotPlan, Tier, TierConfig
from adapters.goods.rules import fold, search_text


def product_values(entry: ProductEntry, category_id: int | None) -> dict[str, Any]:
    prices = [sku.price for sku in entry.skus]
    return {
        "title": entry.title,
        "title_folded": fold(entry.title),
        "search_text": search_text(entry.title, entry.brand, entry.tags),
        "description": entry.description,
        "brand": entry.brand,
        "category_id": category_id,
        "tags": list(entry.tags),
        "images": [image.model_dump() for image in entry.images],
        "min_price": min(prices),
        "max_price": max(prices),
    }


def sku_values(entry: SkuEntry, product_id: int, position: int) -> dict[str, Any]:
    deposit = entry.deposit
    return {
        "product_id": product_id,
        "position": position,
        "title": entry.title,
        "options": [[name, value] for name, value in entry.options.items()],
        "price": entry.price,
        "compare_at_price": entry.compareAtPrice,
        "purchase_limit": entry.purchaseLimit,
        "premium_delivery_eligible": entry.premiumDeliveryEligible,
        "deposit_amount": deposit.deposit if deposit else None,
        "deposit_credited_value": deposit.creditedValue if deposit else None,
        "deposit_balance_due_hours": deposit.balanceDueHours if deposit else None,
        "deposit_balance_methods": list(deposit.balanceMethods) if deposit else None,
    }


def tier_config(entry: DeliveryTierEntry) -> TierConfig:
    plan = entry.slots
    return TierConfig(
        tier=Tier(entry.tier),
        title=entry.title,
        fee=entry.fee,
        free_above=entry.freeAbove,
        regions=tuple(entry.regions),
        remote_surcharge=tuple(sorted(entry.remoteSurcharge.items())),
        features=tuple(entry.features),
        requires_eligible_sku=entry.requiresEligibleSku,
        slots=None if plan is None else SlotPlan(plan.days, tuple(plan.windows), plan.capacity, plan.timezone),
    )
