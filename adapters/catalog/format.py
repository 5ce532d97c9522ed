"""The catalog file format ``jimu.catalog/1`` and every check made before a write.

``parse_catalog`` returns the validated file or raises ``CatalogInvalid`` with
every problem found (path and reason), never only the first. Money is integer
fen: floats are refused, as are unknown keys (a typo must not pass silently).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from adapters.coupons.rules import template_problems
from adapters.goods.rules import REGION_CODE_PATTERN
from adapters.shops.rules import HANDLE_PATTERN
from adapters.times import time_problem

FORMAT = "jimu.catalog/1"
DEPOSIT_CEILING_PERCENT = 20  # a 定金 above 20% of the price is not a legal deposit

Handle = Annotated[str, StringConstraints(pattern=HANDLE_PATTERN.pattern)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Fen = Annotated[int, Field(strict=True, ge=0, le=10**15)]
Positive = Annotated[int, Field(strict=True, ge=1)]
# A rule is a region code, matching itself and everything below it, or "*" for everywhere.
RegionRule = Annotated[str, StringConstraints(pattern=rf"^(\*|{REGION_CODE_PATTERN})$")]
# "+30d", "-1d", "+2h", "+15m" from load time, or an ISO-8601 time with an offset.
When = Annotated[str, StringConstraints(pattern=r"^([+-][0-9]{1,5}[dhm]|[0-9]{4}-[0-9]{2}-[0-9]{2}T.+)$")]
Window = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$")]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShopKeys(_Entry):
    publishable: Annotated[str, StringConstraints(pattern=r"^pk_[A-Za-z0-9_-]{4,100}$")] | None = None
    secret: Annotated[str, StringConstraints(pattern=r"^sk_[A-Za-z0-9_-]{4,100}$")] | None = None


class ShopEntry(_Entry):
    handle: Handle
    name: Name
    onlinePaymentCap: Positive = 5_000_000
    keys: ShopKeys | None = None


class CategoryEntry(_Entry):
    handle: Handle
    name: Name
    parent: Handle | None = None


class WarehouseEntry(_Entry):
    code: Code
    regions: list[RegionRule] = Field(min_length=1)


class ImageEntry(_Entry):
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
    altText: Annotated[str, StringConstraints(max_length=500)] | None = None


class DepositEntry(_Entry):
    deposit: Positive
    creditedValue: Positive
    balanceDueHours: Annotated[int, Field(strict=True, ge=1, le=24 * 90)]
    balanceMethods: list[Literal["ONLINE", "POS_ON_DELIVERY"]] = Field(min_length=1)


class SkuEntry(_Entry):
    code: Code
    title: Name
    options: dict[Annotated[str, StringConstraints(min_length=1, max_length=50)], Name] = {}
    price: Fen
    compareAtPrice: Fen | None = None
    purchaseLimit: Positive | None = None
    premiumDeliveryEligible: bool = False
    deposit: DepositEntry | None = None
    stock: dict[Code, Annotated[int, Field(strict=True, ge=0)]] = {}


class ProductEntry(_Entry):
    handle: Handle
    title: Name
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    brand: Annotated[str, StringConstraints(max_length=100)] = ""
    category: Handle | None = None
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=50)]] = []
    images: list[ImageEntry] = []
    skus: list[SkuEntry] = Field(min_length=1)


class SlotsEntry(_Entry):
    days: Annotated[int, Field(strict=True, ge=1, le=60)]
    windows: list[Window] = Field(min_length=1)
    capacity: Positive
    timezone: str


class DeliveryTierEntry(_Entry):
    tier: Literal["STANDARD", "EXPRESS", "SCHEDULED", "PREMIUM"]
    title: Name
    fee: Fen
    freeAbove: Fen | None = None
    regions: list[RegionRule] = Field(min_length=1)
    remoteSurcharge: dict[RegionRule, Fen] = {}
    features: list[Literal["WHITE_GLOVE", "ID_CHECK", "APPOINTMENT"]] = []
    requiresEligibleSku: bool = False
    slots: SlotsEntry | None = None


class DeliveryEntry(_Entry):
    tiers: list[DeliveryTierEntry] = []


class CouponEntry(_Entry):
    code: Code
    title: Name
    kind: Literal["AMOUNT_OFF", "PERCENT_OFF"]
    threshold: Fen = 0
    discount: Positive | None = None
    percentOff: Annotated[int, Field(strict=True, ge=1, le=99)] | None = None
    scope: Literal["SHOP", "SKUS", "CATEGORY"] = "SHOP"
    skuCodes: list[Code] | None = None
    categoryHandle: Handle | None = None
    stackingGroup: Literal["SHOP", "PLATFORM"] = "SHOP"
    totalQuantity: Positive
    perShopperLimit: Positive = 1
    claimStartsAt: When | None = None
    claimEndsAt: When | None = None
    validDays: Positive | None = None
    validFrom: When | None = None
    validUntil: When | None = None
    hidden: bool = False


class CampaignEntry(_Entry):
    code: Code
    title: Name
    requiredAssists: Positive
    rewardTemplateCode: Code
    assisterRewardTemplateCode: Code | None = None
    requiresFollow: bool = True
    requiresMembership: bool = True
    helperDailyLimit: Positive = 3
    startsAt: When
    endsAt: When


class CatalogFile(_Entry):
    format: Literal["jimu.catalog/1"]
    shop: ShopEntry
    categories: list[CategoryEntry] = []
    warehouses: list[WarehouseEntry] = []
    products: list[ProductEntry] = []
    delivery: DeliveryEntry = DeliveryEntry()
    coupons: list[CouponEntry] = []
    campaigns: list[CampaignEntry] = []


class CatalogInvalid(Exception):
    """The file is not a valid catalog; ``problems`` lists (path, reason) for each fault."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the catalog file")
        self.problems = problems


def parse_catalog(data: Any, now: datetime) -> CatalogFile:
    try:
        catalog = CatalogFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogInvalid([(_path(e["loc"]), e["msg"]) for e in exc.errors()]) from exc
    problems = list(_cross_checks(catalog, now))
    if problems:
        raise CatalogInvalid(problems)
    return catalog


def resolve_time(value: str, now: datetime) -> datetime:
    """A relative offset ("+30d", "-1d", "+2h") from ``now``, or an absolute ISO time."""
    match = re.fullmatch(r"([+-])([0-9]+)([dhm])", value)
    try:
        if match:
            sign, amount, unit = match.groups()
            delta = timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: int(amount)})
            parsed = now + delta if sign == "+" else now - delta
        else:
            parsed = datetime.fromisoformat(value)
    except OverflowError as exc:
        raise ValueError("a time must be from 1970-01-01 to 2099-12-31 (UTC)") from exc
    problem = time_problem(parsed)
    if problem is not None:
        raise ValueError(problem)
    return parsed


def _path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _duplicates(values: Iterable[str]) -> set[str]:
    return {v for v, n in Counter(values).items() if n > 1}


def _cross_checks(c: CatalogFile, now: datetime) -> Iterator[tuple[str, str]]:
    category_handles = {cat.handle for cat in c.categories}
    for dup in _duplicates(cat.handle for cat in c.categories):
        yield "categories", f"category handle {dup!r} appears more than once"
    parents = {cat.handle: cat.parent for cat in c.categories}
    for i, cat in enumerate(c.categories):
        if cat.parent is not None and cat.parent not in category_handles:
            yield f"categories[{i}].parent", f"no category {cat.parent!r} in this file"
        seen, node = set(), cat.handle
        while node is not None and node not in seen:
            seen.add(node)
            node = parents.get(node)
        if node is not None and node == cat.handle:
            yield f"categories[{i}].parent", "categories form a cycle"

    warehouse_codes = {w.code for w in c.warehouses}
    for dup in _duplicates(w.code for w in c.warehouses):
        yield "warehouses", f"warehouse code {dup!r} appears more than once"

    for dup in _duplicates(p.handle for p in c.products):
        yield "products", f"product handle {dup!r} appears more than once"
    sku_codes = [s.code for p in c.products for s in p.skus]
    for dup in _duplicates(sku_codes):
        yield "products", f"SKU code {dup!r} appears more than once"
    for i, product in enumerate(c.products):
        at = f"products[{i}]"
        if product.category is not None and product.category not in category_handles:
            yield f"{at}.category", f"no category {product.category!r} in this file"
        for j, sku in enumerate(product.skus):
            yield from _sku_checks(sku, f"{at}.skus[{j}]", warehouse_codes)

    yield from _delivery_checks(c.delivery)
    yield from _coupon_checks(c, set(sku_codes), category_handles, now)


def _sku_checks(sku: SkuEntry, at: str, warehouse_codes: set[str]) -> Iterator[tuple[str, str]]:
    for code in sku.stock:
        if code not in warehouse_codes:
            yield f"{at}.stock.{code}", f"no warehouse {code!r} in this file"
    if sku.deposit is not None:
        if sku.deposit.deposit * 100 > sku.price * DEPOSIT_CEILING_PERCENT:
            yield f"{at}.deposit.deposit", f"a deposit may not exceed {DEPOSIT_CEILING_PERCENT}% of the price"
        if sku.deposit.creditedValue < sku.deposit.deposit:
            yield f"{at}.deposit.creditedValue", "creditedValue must be at least the deposit"
        if len(set(sku.deposit.balanceMethods)) != len(sku.deposit.balanceMethods):
            yield f"{at}.deposit.balanceMethods", "a balance method appears more than once"


def _delivery_checks(delivery: DeliveryEntry) -> Iterator[tuple[str, str]]:
    for dup in _duplicates(t.tier for t in delivery.tiers):
        yield "delivery.tiers", f"tier {dup} appears more than once"
    for i, tier in enumerate(delivery.tiers):
        at = f"delivery.tiers[{i}]"
        if tier.tier in ("SCHEDULED", "PREMIUM") and tier.slots is None:
            yield f"{at}.slots", f"{tier.tier} delivery needs slots"
        if tier.slots is None:
            continue
        try:
            ZoneInfo(tier.slots.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            yield f"{at}.slots.timezone", f"unknown time zone {tier.slots.timezone!r}"
        for j, window in enumerate(tier.slots.windows):
            start, end = window.split("-")
            if start >= end:
                yield f"{at}.slots.windows[{j}]", "a window must end after it starts"


def _coupon_checks(
    c: CatalogFile, sku_codes: set[str], category_handles: set[str], now: datetime
) -> Iterator[tuple[str, str]]:
    coupon_codes = {coupon.code for coupon in c.coupons}
    for dup in _duplicates(coupon.code for coupon in c.coupons):
        yield "coupons", f"coupon code {dup!r} appears more than once"
    for i, coupon in enumerate(c.coupons):
        at = f"coupons[{i}]"
        times: dict[str, datetime | None] = {}
        refused: dict[str, str] = {}  # why a time is not one: no offset, out of the window
        for name in ("claimStartsAt", "claimEndsAt", "validFrom", "validUntil"):
            value = getattr(coupon, name)
            try:
                times[name] = resolve_time(value, now) if value is not None else None
            except ValueError as exc:
                times[name], refused[name] = None, str(exc)
        for field, reason in template_problems(
            kind=coupon.kind, threshold=coupon.threshold, discount=coupon.discount, percent_off=coupon.percentOff,
            total_quantity=coupon.totalQuantity, per_shopper_limit=coupon.perShopperLimit,
            claim_starts_at=times["claimStartsAt"], claim_ends_at=times["claimEndsAt"],
            valid_days=coupon.validDays, valid_from=times["validFrom"], valid_until=times["validUntil"],
        ):
            yield f"{at}.{field}", reason
        if coupon.scope == "SKUS":
            if not coupon.skuCodes:
                yield f"{at}.skuCodes", "scope SKUS needs skuCodes"
            for j, code in enumerate(coupon.skuCodes or ()):
                if code not in sku_codes:
                    yield f"{at}.skuCodes[{j}]", f"no SKU {code!r} in this file"
        if coupon.scope == "CATEGORY" and coupon.categoryHandle not in category_handles:
            yield f"{at}.categoryHandle", "scope CATEGORY needs a category of this file"
        for name, reason in refused.items():
            yield f"{at}.{name}", reason
    for dup in _duplicates(campaign.code for campaign in c.campaigns):
        yield "campaigns", f"campaign code {dup!r} appears more than once"
    for i, campaign in enumerate(c.campaigns):
        at = f"campaigns[{i}]"
        if campaign.rewardTemplateCode not in coupon_codes:
            yield f"{at}.rewardTemplateCode", f"no coupon {campaign.rewardTemplateCode!r} in this file"
        if campaign.assisterRewardTemplateCode not in (None, *coupon_codes):
            yield f"{at}.assisterRewardTemplateCode", "no such coupon in this file"
        yield from _ordered(campaign.startsAt, campaign.endsAt, f"{at}.endsAt", now)


def _ordered(start: str | None, end: str | None, at: str, now: datetime) -> Iterator[tuple[str, str]]:
    times = []
    for value in (start, end):
        if value is None:
            times.append(None)
            continue
        try:
            times.append(resolve_time(value, now))
        except ValueError as exc:
            yield at, str(exc)
            return
    if times[0] is not None and times[1] is not None and times[0] >= times[1]:
        yield at, "must come after the start"
