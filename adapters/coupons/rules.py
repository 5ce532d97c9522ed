"""Pure coupon rules: validity, claim windows, eligibility, discounts and stacking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.coupons.port import (
    ClaimClosed,
    Coupon,
    CouponKind,
    CouponState,
    Disabled,
    NotUsable,
    NotYetClaimable,
    Scope,
    StackingGroup,
    Template,
    TemplateSpec,
)


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A cart line as coupons see it: the SKU, its category and the categories above, and its subtotal."""

    sku_id: int
    category_ids: frozenset[int]
    subtotal: int


@dataclass(frozen=True, slots=True)
class Applied:
    coupon_id: int
    discount: int


MAX_QUANTITY = 10_000_000
MAX_VALID_DAYS = 3_650  # ten years: a claim's end date is always a date every read can show
MAX_AMOUNT = 10**12  # fen: 10,000,000,000.00 yuan, past any order and far inside 64 bits


def template_problems(
    *,
    kind: str,
    threshold: int,
    discount: int | None,
    percent_off: int | None,
    total_quantity: int,
    per_shopper_limit: int,
    claim_starts_at: datetime | None,
    claim_ends_at: datetime | None,
    valid_days: int | None,
    valid_from: datetime | None,
    valid_until: datetime | None,
) -> list[tuple[str, str]]:
    """Every fault of a template's values, as (field, reason); fields named as in the API and the file.
    Times come aware and inside the window (adapters.times): the API's DateTime and the file's
    times are refused otherwise before they get here."""
    problems = []
    if threshold < 0:
        problems.append(("threshold", "must not be negative"))
    elif threshold > MAX_AMOUNT:
        problems.append(("threshold", f"must be at most {MAX_AMOUNT // 100:,} yuan"))
    if kind == CouponKind.AMOUNT_OFF.value:
        if discount is None or discount <= 0:
            problems.append(("discount", "AMOUNT_OFF needs a positive discount"))
        elif discount > MAX_AMOUNT:
            problems.append(("discount", f"must be at most {MAX_AMOUNT // 100:,} yuan"))
        if percent_off is not None:
            problems.append(("percentOff", "AMOUNT_OFF takes no percentOff"))
    else:
        if percent_off is None or not 1 <= percent_off <= 99:
            problems.append(("percentOff", "PERCENT_OFF needs percentOff from 1 to 99"))
        if discount is not None:
            problems.append(("discount", "PERCENT_OFF takes no discount"))
    if not 1 <= total_quantity <= MAX_QUANTITY:
        problems.append(("totalQuantity", f"must be from 1 to {MAX_QUANTITY}"))
    if not 1 <= per_shopper_limit <= MAX_QUANTITY:
        problems.append(("perShopperLimit", f"must be from 1 to {MAX_QUANTITY}"))
    if valid_until is None and (valid_days is None or valid_days < 1):
        problems.append(("validDays", "give validDays of at least 1, or validUntil"))
    elif valid_days is not None and not 1 <= valid_days <= MAX_VALID_DAYS:
        problems.append(("validDays", f"must be from 1 to {MAX_VALID_DAYS}"))
    if _before(claim_ends_at, claim_starts_at):
        problems.append(("claimEndsAt", "must come after claimStartsAt"))
    if _before(valid_until, valid_from):
        problems.append(("validUntil", "must come after validFrom"))
    return problems


# What a coupon is worth, as the API names it: fixed once any coupon of the template was issued.
_WORTH = (
    ("kind", "kind"), ("threshold", "threshold"), ("discount", "discount"), ("percent_off", "percentOff"),
    ("scope", "scope"), ("sku_ids", "skuCodes"), ("category_id", "categoryHandle"),
    ("stacking_group", "stackingGroup"),
)


def revision_problems(old: Template, new: TemplateSpec) -> list[tuple[str, str, str]]:
    """What the template's history forbids of replacing its spec with ``new``, as (field, code,
    reason): a claimed coupon is worth what it was when claimed, and no fewer coupons can exist
    than were issued. Name, claim window, validity of later claims, limits and visibility may change."""
    problems = []
    if old.issued > 0:
        for attribute, field in _WORTH:
            if _worth(old.spec, attribute) != _worth(new, attribute):
                problems.append((field, "INVALID_STATE",
                                 f"{old.issued} coupons were issued already: what they are worth stays as it was"))
    if new.total_quantity < old.issued:
        problems.append(("totalQuantity", "INVALID", f"{old.issued} were issued already: give at least that"))
    return problems


def _worth(spec: TemplateSpec, attribute: str) -> object:
    value = getattr(spec, attribute)
    return frozenset(value) if attribute == "sku_ids" else value  # the same goods in any order


def _before(end: datetime | None, start: datetime | None) -> bool:
    return end is not None and start is not None and end <= start


def check_claim_window(spec: TemplateSpec, now: datetime) -> None:
    if spec.claim_starts_at is not None and now < spec.claim_starts_at:
        raise NotYetClaimable("claiming opens later")
    if spec.claim_ends_at is not None and now >= spec.claim_ends_at:
        raise ClaimClosed("claiming has closed")


def check_issuable(template: Template) -> None:
    """Raise Disabled for a disabled template: neither a claim nor a grant issues from it."""
    if template.disabled_at is not None:
        raise Disabled("the merchant disabled this coupon: no more are issued")


def validity(spec: TemplateSpec, claimed_at: datetime) -> tuple[datetime, datetime]:
    """Fixed dates, or ``valid_days`` from the claim (used when valid_until is unset)."""
    valid_from = spec.valid_from or claimed_at
    if spec.valid_until is not None:
        return valid_from, spec.valid_until
    assert spec.valid_days is not None, "a template has valid_until or valid_days"
    return valid_from, claimed_at + timedelta(days=spec.valid_days)


def shown_state(coupon: Coupon, now: datetime) -> CouponState:
    if coupon.state is CouponState.AVAILABLE and now >= coupon.valid_until:
        return CouponState.EXPIRED
    return coupon.state


def eligible_subtotal(spec: TemplateSpec, lines: Sequence[PricedLine]) -> int:
    match spec.scope:
        case Scope.SHOP:
            return sum(line.subtotal for line in lines)
        case Scope.SKUS:
            return sum(line.subtotal for line in lines if line.sku_id in spec.sku_ids)
        case Scope.CATEGORY:
            return sum(line.subtotal for line in lines if spec.category_id in line.category_ids)


def discount_for(spec: TemplateSpec, eligible: int) -> int:
    """What the coupon takes off an eligible subtotal: never more than that subtotal."""
    if spec.kind is CouponKind.AMOUNT_OFF:
        amount = spec.discount or 0
    else:
        amount = eligible * (spec.percent_off or 0) // 100  # rounded down to the fen
    return min(amount, eligible)


def apply(
    coupons: Sequence[tuple[Coupon, Template]], lines: Sequence[PricedLine], now: datetime
) -> list[Applied]:
    """The discount of each coupon on these lines; raises NotUsable for the first that does not apply.

    At most one coupon per stacking group (one SHOP, one PLATFORM); each needs the
    threshold met by the lines it covers, and to be valid now. The discounts
    together never exceed the lines' subtotal.
    """
    groups: set[StackingGroup] = set()
    applied, left = [], sum(line.subtotal for line in lines)
    for coupon, template in coupons:
        spec = template.spec
        if spec.stacking_group in groups:
            raise NotUsable("COUPON_STACKING_CONFLICT", f"only one {spec.stacking_group.value} coupon per order")
        groups.add(spec.stacking_group)
        if not coupon.valid_from <= now < coupon.valid_until:
            raise NotUsable("COUPON_EXPIRED", f"{spec.title} is not valid now")
        eligible = eligible_subtotal(spec, lines)
        if eligible == 0 or eligible < spec.threshold:
            raise NotUsable("COUPON_NOT_APPLICABLE", f"{spec.title} needs {spec.threshold} fen of eligible goods")
        discount = min(discount_for(spec, eligible), left)
        left -= discount
        applied.append(Applied(coupon.id, discount))
    return applied


def applies_to_product(spec: TemplateSpec, sku_ids: Sequence[int], category_ids: frozenset[int]) -> bool:
    match spec.scope:
        case Scope.SHOP:
            return True
        case Scope.SKUS:
            return any(sku_id in spec.sku_ids for sku_id in sku_ids)
        case Scope.CATEGORY:
            return spec.category_id in category_ids
