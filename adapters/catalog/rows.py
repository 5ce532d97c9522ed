"""How catalog entries map to stored values: one mapping, shared by SQL and fake stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.catalog.entries import (
    CampaignEntry,
    CatalogFile,
    CouponEntry,
    DeliveryTierEntry,
    ProductEntry,
    SkuEntry,
    resolve_time,
)
from adapters.catalog.port import StockMode, StockOutcome
from adapters.coupons.port import CouponKind, Scope, StackingGroup, TemplateSpec
from adapters.delivery.port import SlotPlan, Tier, TierConfig
from adapters.goods.rules import fold, search_text
from adapters.members.port import CampaignSpec


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


def taken_places(c: CatalogFile, handles: set[str], codes: set[str]) -> list[tuple[str, str]]:
    """Where the file names a product handle or SKU code to create that the shop holds already."""
    places = []
    for n, product in enumerate(c.products):
        if product.handle in handles:
            places.append((f"products[{n}].handle", f"the shop has a product {product.handle!r} already"))
        places += [(f"products[{n}].skus[{m}].code", f"the shop has a SKU {sku.code!r} already")
                   for m, sku in enumerate(product.skus) if sku.code in codes]
    return places


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


def _when(value: str | None, now: datetime, kept: datetime | None) -> datetime | None:
    """A file time; a relative one ("+30d") counts from the first load, so it is kept once stored."""
    if value is None:
        return None
    if value[0] in "+-" and kept is not None:
        return kept
    return resolve_time(value, now)


def template_spec(
    entry: CouponEntry, now: datetime, sku_ids: dict[str, int], category_ids: dict[str, int], old: TemplateSpec | None
) -> TemplateSpec:
    return TemplateSpec(
        code=entry.code,
        title=entry.title,
        kind=CouponKind(entry.kind),
        threshold=entry.threshold,
        discount=entry.discount,
        percent_off=entry.percentOff,
        scope=Scope(entry.scope),
        sku_ids=tuple(sku_ids[code] for code in entry.skuCodes or ()),
        category_id=category_ids[entry.categoryHandle] if entry.categoryHandle else None,
        stacking_group=StackingGroup(entry.stackingGroup),
        total_quantity=entry.totalQuantity,
        per_shopper_limit=entry.perShopperLimit,
        claim_starts_at=_when(entry.claimStartsAt, now, old.claim_starts_at if old else None),
        claim_ends_at=_when(entry.claimEndsAt, now, old.claim_ends_at if old else None),
        valid_days=entry.validDays,
        valid_from=_when(entry.validFrom, now, old.valid_from if old else None),
        valid_until=_when(entry.validUntil, now, old.valid_until if old else None),
        hidden=entry.hidden,
    )


def campaign_spec(
    entry: CampaignEntry, now: datetime, template_ids: dict[str, int], old: CampaignSpec | None
) -> CampaignSpec:
    starts_at = _when(entry.startsAt, now, old.starts_at if old else None)
    ends_at = _when(entry.endsAt, now, old.ends_at if old else None)
    assert starts_at is not None and ends_at is not None
    return CampaignSpec(
        code=entry.code,
        title=entry.title,
        required_assists=entry.requiredAssists,
        reward_template_id=template_ids[entry.rewardTemplateCode],
        assister_template_id=template_ids[entry.assisterRewardTemplateCode] if entry.assisterRewardTemplateCode else None,
        requires_follow=entry.requiresFollow,
        requires_membership=entry.requiresMembership,
        helper_daily_limit=entry.helperDailyLimit,
        starts_at=starts_at,
        ends_at=ends_at,
    )


@dataclass(frozen=True)
class StockLine:
    """One stock figure of the file and where it stands (``products[0].skus[1].stock.BJ-01``)."""

    path: str
    sku_code: str
    warehouse_code: str
    figure: int


def stock_lines(c: CatalogFile) -> list[StockLine]:
    return [
        StockLine(f"products[{i}].skus[{j}].stock.{code}", sku.code, code, figure)
        for i, product in enumerate(c.products)
        for j, sku in enumerate(product.skus)
        for code, figure in sku.stock.items()
    ]


def stock_outcome(mode: StockMode, figure: int, held: tuple[int, int, int] | None) -> StockOutcome:
    """What a stock line does to its row, ``held`` as (on hand, reserved, sold), None when
    there is no row: "created", "changed" and "received" write ``figure``, the others nothing."""
    if held is None:
        return "created"
    on_hand = held[0]
    match mode:
        case StockMode.KEEP:
            return "kept" if on_hand == figure else "differing"
        case StockMode.SET:
            return "set" if on_hand == figure else "changed"
        case StockMode.ADD:
            return "received" if figure else "kept"


def stock_refusal(mode: StockMode, figure: int, held: tuple[int, int, int] | None) -> str | None:
    """Why a line may not be written: setting on hand below what is reserved and sold."""
    if mode is not StockMode.SET or held is None:
        return None
    _, reserved, sold = held
    if figure >= reserved + sold:
        return None
    return (f"the file sets on hand to {figure} but {reserved + sold} are reserved or sold: "
            f"available would be {figure - reserved - sold}")
