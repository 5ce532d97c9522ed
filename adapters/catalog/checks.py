"""Checks across a catalog file's rows: duplicates, references, deposits, delivery, coupons.

They run on what could be read, whether or not the whole file validated, so one run lists
every fault: identifiers and references are taken from the JSON as given, and a rule that
needs typed values from the one entry it is about, when that entry validates on its own.
A duplicate is reported at the later row, naming where the first one stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from adapters.catalog.entries import (
    DEPOSIT_CEILING_PERCENT,
    WINDOW_PATTERN,
    CampaignEntry,
    CouponEntry,
    DepositEntry,
    resolve_time,
)
from adapters.coupons.rules import template_problems
from adapters.members.rules import campaign_problems

Problem = tuple[str, str]
Row = tuple[str, dict[str, Any]]  # where a row stands, and the row as the file gives it
_Model = TypeVar("_Model", bound=BaseModel)


@dataclass(frozen=True)
class _Rows:
    """The file's rows that are JSON objects, each with its path."""

    categories: list[Row]
    warehouses: list[Row]
    products: list[Row]
    skus: list[Row]
    tiers: list[Row]
    coupons: list[Row]
    campaigns: list[Row]

    @classmethod
    def of(cls, data: dict[str, Any]) -> _Rows:
        products = _rows(data, "products")
        return cls(
            categories=_rows(data, "categories"),
            warehouses=_rows(data, "warehouses"),
            products=products,
            skus=[sku for at, product in products for sku in _rows(product, "skus", at)],
            tiers=_rows(data.get("delivery"), "tiers", "delivery"),
            coupons=_rows(data, "coupons"),
            campaigns=_rows(data, "campaigns"),
        )


def cross_checks(data: Any, now: datetime) -> Iterator[Problem]:
    if not isinstance(data, dict):
        return
    rows = _Rows.of(data)
    categories, warehouses = _names(rows.categories, "handle"), _names(rows.warehouses, "code")
    skus, coupons = _names(rows.skus, "code"), _names(rows.coupons, "code")
    yield from _duplicates(rows.categories, "handle", "category handle")
    yield from _categories(rows.categories, categories)
    yield from _duplicates(rows.warehouses, "code", "warehouse code")
    yield from _duplicates(rows.products, "handle", "product handle")
    yield from _duplicates(rows.skus, "code", "SKU code")
    for at, product in rows.products:
        yield from _reference(product, at, "category", categories, "category")
    for at, sku in rows.skus:
        yield from _sku(sku, at, warehouses)
    yield from _duplicates(rows.tiers, "tier", "tier")
    for at, tier in rows.tiers:
        yield from _tier(tier, at)
    yield from _duplicates(rows.coupons, "code", "coupon code")
    for at, coupon in rows.coupons:
        yield from _coupon(coupon, at, skus, categories, now)
    yield from _duplicates(rows.campaigns, "code", "campaign code")
    for at, campaign in rows.campaigns:
        yield from _campaign(campaign, at, coupons, now)


def _rows(holder: Any, key: str, at: str = "") -> list[Row]:
    found = holder.get(key) if isinstance(holder, dict) else None
    if not isinstance(found, list):
        return []
    prefix = f"{at}.{key}" if at else key
    return [(f"{prefix}[{i}]", row) for i, row in enumerate(found) if isinstance(row, dict)]


def _text(row: Any, key: str) -> str | None:
    value = row.get(key) if isinstance(row, dict) else None
    return value if isinstance(value, str) else None


def _names(rows: list[Row], key: str) -> set[str]:
    return {name for _, row in rows if (name := _text(row, key)) is not None}


def _valid(model: type[_Model], value: Any) -> _Model | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None  # its own faults are reported by the whole file's validation


def _duplicates(rows: list[Row], key: str, what: str) -> Iterator[Problem]:
    first: dict[str, str] = {}
    for at, row in rows:
        name = _text(row, key)
        if name is None:
            continue
        if name in first:
            yield f"{at}.{key}", f"{what} {name!r} is already used at {first[name]}"
        else:
            first[name] = f"{at}.{key}"


def _reference(row: dict[str, Any], at: str, key: str, known: set[str], what: str) -> Iterator[Problem]:
    name = _text(row, key)
    if name is not None and name not in known:
        yield f"{at}.{key}", f"no {what} {name!r} in this file"


def _categories(rows: list[Row], handles: set[str]) -> Iterator[Problem]:
    parents: dict[str, str | None] = {}
    for _, row in rows:
        if (handle := _text(row, "handle")) is not None:
            parents.setdefault(handle, _text(row, "parent"))
    for at, row in rows:
        yield from _reference(row, at, "parent", handles, "category")
        handle = _text(row, "handle")
        chain, node = [], handle
        while node is not None and node not in chain:
            chain.append(node)
            node = parents.get(node)
        if handle is not None and node == handle:
            yield f"{at}.parent", f"categories form a cycle: {' -> '.join([*chain, handle])}"


def _sku(sku: dict[str, Any], at: str, warehouses: set[str]) -> Iterator[Problem]:
    stock = sku.get("stock")
    for code in stock if isinstance(stock, dict) else ():
        if code not in warehouses:
            yield f"{at}.stock.{code}", f"no warehouse {code!r} in this file"
    deposit, price = _valid(DepositEntry, sku.get("deposit")), sku.get("price")
    if deposit is None:
        return
    if type(price) is int and deposit.deposit * 100 > price * DEPOSIT_CEILING_PERCENT:
        yield (f"{at}.deposit.deposit", f"a deposit may not exceed {DEPOSIT_CEILING_PERCENT}% of the price: "
               f"at most {price * DEPOSIT_CEILING_PERCENT // 100} fen for a price of {price}")
    if deposit.creditedValue < deposit.deposit:
        yield f"{at}.deposit.creditedValue", "creditedValue must be at least the deposit"
    if len(set(deposit.balanceMethods)) != len(deposit.balanceMethods):
        yield f"{at}.deposit.balanceMethods", "a balance method appears more than once"


def _tier(tier: dict[str, Any], at: str) -> Iterator[Problem]:
    name, slots = _text(tier, "tier"), tier.get("slots")
    if name in ("SCHEDULED", "PREMIUM") and slots is None:
        yield f"{at}.slots", f"{name} delivery needs slots"
    if not isinstance(slots, dict):
        return
    timezone = _text(slots, "timezone")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            yield f"{at}.slots.timezone", f"unknown time zone {timezone!r}"
    windows = slots.get("windows")
    for j, window in enumerate(windows if isinstance(windows, list) else ()):
        if isinstance(window, str) and re.fullmatch(WINDOW_PATTERN, window):
            start, end = window.split("-")
            if start >= end:
                yield f"{at}.slots.windows[{j}]", "a window must end after it starts"


def _coupon(
    coupon: dict[str, Any], at: str, skus: set[str], categories: set[str], now: datetime
) -> Iterator[Problem]:
    entry = _valid(CouponEntry, coupon)
    times: dict[str, datetime | None] = {}
    refused: dict[str, str] = {}  # why a time is not one: no offset, out of the window
    if entry is not None:
        for name in ("claimStartsAt", "claimEndsAt", "validFrom", "validUntil"):
            value = getattr(entry, name)
            try:
                times[name] = resolve_time(value, now) if value is not None else None
            except ValueError as exc:
                times[name], refused[name] = None, str(exc)
        for field, reason in template_problems(
            kind=entry.kind, threshold=entry.threshold, discount=entry.discount, percent_off=entry.percentOff,
            total_quantity=entry.totalQuantity, per_shopper_limit=entry.perShopperLimit,
            claim_starts_at=times["claimStartsAt"], claim_ends_at=times["claimEndsAt"],
            valid_days=entry.validDays, valid_from=times["validFrom"], valid_until=times["validUntil"],
        ):
            yield f"{at}.{field}", reason
    scope, codes = _text(coupon, "scope"), coupon.get("skuCodes")
    if scope == "SKUS":
        if not codes:
            yield f"{at}.skuCodes", "scope SKUS needs skuCodes"
        for j, code in enumerate(codes if isinstance(codes, list) else ()):
            if isinstance(code, str) and code not in skus:
                yield f"{at}.skuCodes[{j}]", f"no SKU {code!r} in this file"
    if scope == "CATEGORY":
        if coupon.get("categoryHandle") is None:
            yield f"{at}.categoryHandle", "scope CATEGORY needs categoryHandle"
        yield from _reference(coupon, at, "categoryHandle", categories, "category")
    for name, reason in refused.items():
        yield f"{at}.{name}", reason


def _campaign(campaign: dict[str, Any], at: str, coupons: set[str], now: datetime) -> Iterator[Problem]:
    yield from _reference(campaign, at, "rewardTemplateCode", coupons, "coupon")
    yield from _reference(campaign, at, "assisterRewardTemplateCode", coupons, "coupon")
    entry = _valid(CampaignEntry, campaign)
    if entry is None:
        return
    times: dict[str, datetime | None] = {}
    for name in ("startsAt", "endsAt"):
        try:
            times[name] = resolve_time(getattr(entry, name), now)
        except ValueError as exc:
            times[name] = None
            yield f"{at}.{name}", str(exc)
    for field, reason in campaign_problems(  # the API's rules, bounds and all
        required_assists=entry.requiredAssists, helper_daily_limit=entry.helperDailyLimit,
        starts_at=times["startsAt"], ends_at=times["endsAt"],
    ):
        yield f"{at}.{field}", reason
