"""The entries of a catalog file ``jimu.catalog/1``: what each row may hold, as pydantic models.

Money is integer fen: floats are refused, as are unknown keys (a typo must not pass
silently). Region rules are codes of the region table or "*". The checks across
rows (duplicates, references, deposits, coupon rules) are in ``checks``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from adapters.goods.rules import region_problem
from adapters.shops.rules import HANDLE_PATTERN
from adapters.times import time_problem

FORMAT = "jimu.catalog/1"
DEPOSIT_CEILING_PERCENT = 20  # a 定金 above 20% of the price is not a legal deposit

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
WHEN_PATTERN = r"^([+-][0-9]{1,5}[dhm]|[0-9]{4}-[0-9]{2}-[0-9]{2}T.+)$"
WINDOW_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$"
URL_PATTERN = r"^https?://\S+$"
PUBLISHABLE_PATTERN = r"^pk_[A-Za-z0-9_-]{4,100}$"
SECRET_PATTERN = r"^sk_[A-Za-z0-9_-]{4,100}$"

# What each pattern asks for, in the words a problem gives: (what it is, what it takes).
PATTERN_RULES = {
    HANDLE_PATTERN.pattern: ("a handle", "1 to 63 lowercase letters, digits and dashes, "
                             "starting with a letter or digit, e.g. baby-care"),
    CODE_PATTERN: ("a code", "1 to 64 letters, digits, '_' and '-', starting with a letter or digit, "
                   "e.g. DIAPER-L54"),
    WHEN_PATTERN: ("a time", "an offset from the import ('+30d', '-1d', '+2h', '+15m') or an ISO-8601 "
                   "time with its offset, e.g. 2026-06-18T09:00:00+08:00"),
    WINDOW_PATTERN: ("a delivery window", "HH:MM-HH:MM on the 24-hour clock, e.g. 09:00-12:00"),
    URL_PATTERN: ("an image URL", "http:// or https:// and an address without spaces"),
    PUBLISHABLE_PATTERN: ("a publishable key", "pk_ and 4 to 100 letters, digits, '_' or '-'"),
    SECRET_PATTERN: ("a secret key", "sk_ and 4 to 100 letters, digits, '_' or '-'"),
}


def _region_rule(value: str) -> str:
    """A region rule is a code of the region table, matching itself and everything below it,
    or "*" for everywhere."""
    problem = None if value == "*" else region_problem(value)
    if problem is not None:
        raise PydanticCustomError("region", "{reason}", {"reason": problem})
    return value


Handle = Annotated[str, StringConstraints(pattern=HANDLE_PATTERN.pattern)]
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Fen = Annotated[int, Field(strict=True, ge=0, le=10**15)]
Positive = Annotated[int, Field(strict=True, ge=1)]
Flag = Annotated[bool, Field(strict=True)]  # true or false: "yes" and 1 are typos here, not answers
RegionRule = Annotated[str, AfterValidator(_region_rule)]
# "+30d", "-1d", "+2h", "+15m" from load time, or an ISO-8601 time with an offset.
When = Annotated[str, StringConstraints(pattern=WHEN_PATTERN)]
Window = Annotated[str, StringConstraints(pattern=WINDOW_PATTERN)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShopKeys(_Entry):
    publishable: Annotated[str, StringConstraints(pattern=PUBLISHABLE_PATTERN)] | None = None
    secret: Annotated[str, StringConstraints(pattern=SECRET_PATTERN)] | None = None


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
    url: Annotated[str, StringConstraints(pattern=URL_PATTERN, max_length=2000)]
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
    premiumDeliveryEligible: Flag = False
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
    requiresEligibleSku: Flag = False
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
    hidden: Flag = False


class CampaignEntry(_Entry):
    code: Code
    title: Name
    requiredAssists: Positive
    rewardTemplateCode: Code
    assisterRewardTemplateCode: Code | None = None
    requiresFollow: Flag = True
    requiresMembership: Flag = True
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
