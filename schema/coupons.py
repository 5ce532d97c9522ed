"""Coupon types."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import strawberry

from adapters.coupons import port
from schema.common import Money, Node, UserError, gid


@strawberry.enum
class CouponKind(enum.Enum):
    AMOUNT_OFF = "AMOUNT_OFF"
    PERCENT_OFF = "PERCENT_OFF"


@strawberry.enum
class CouponScope(enum.Enum):
    SHOP = "SHOP"
    SKUS = "SKUS"
    CATEGORY = "CATEGORY"


@strawberry.enum
class StackingGroup(enum.Enum):
    SHOP = "SHOP"
    PLATFORM = "PLATFORM"


@strawberry.enum
class CouponState(enum.Enum):
    AVAILABLE = "AVAILABLE"
    LOCKED = "LOCKED"
    REDEEMED = "REDEEMED"
    EXPIRED = "EXPIRED"


@strawberry.type
class CouponTemplate(Node):
    code: str
    title: str
    kind: CouponKind
    threshold: Money = strawberry.field(description="Minimum eligible subtotal; zero means no threshold.")
    discount: Money | None = strawberry.field(description="Amount taken off (AMOUNT_OFF).")
    percent_off: int | None = strawberry.field(description="Percent taken off (PERCENT_OFF), 1..99.")
    scope: CouponScope
    stacking_group: StackingGroup
    claim_starts_at: datetime | None
    claim_ends_at: datetime | None
    total_quantity: int
    remaining_quantity: int
    per_shopper_limit: int
    disabled_at: datetime | None = strawberry.field(description=(
        "When the merchant disabled it: no claims or grants since, gone from claimable lists; the "
        "coupons issued stay usable until their own validity ends."))

    @classmethod
    def of(cls, t: port.Template) -> CouponTemplate:
        s = t.spec
        return cls(
            id=gid("CouponTemplate", t.id),
            code=s.code,
            title=s.title,
            kind=CouponKind(s.kind.value),
            threshold=Money.of(s.threshold),
            discount=Money.of(s.discount) if s.discount is not None else None,
            percent_off=s.percent_off,
            scope=CouponScope(s.scope.value),
            stacking_group=StackingGroup(s.stacking_group.value),
            claim_starts_at=s.claim_starts_at,
            claim_ends_at=s.claim_ends_at,
            total_quantity=s.total_quantity,
            remaining_quantity=t.remaining,
            per_shopper_limit=s.per_shopper_limit,
            disabled_at=t.disabled_at,
        )


@strawberry.type
class Coupon(Node):
    state: CouponState
    valid_from: datetime
    valid_until: datetime
    shop_id: strawberry.Private[int]
    template_id: strawberry.Private[int]

    @strawberry.field
    async def template(self, info: strawberry.Info) -> CouponTemplate:
        found = await info.context.loaders.template_by_id.load((self.shop_id, self.template_id))
        assert found is not None, "a coupon's template stays"
        return CouponTemplate.of(found)

    @classmethod
    def of(cls, c: port.Coupon) -> Coupon:
        return cls(id=gid("Coupon", c.id), state=CouponState(c.state.value), valid_from=c.valid_from,
                   valid_until=c.valid_until, shop_id=c.shop_id, template_id=c.template_id)


@strawberry.type
class CouponClaimPayload:
    coupon: Coupon | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CouponTemplatePayload:
    template: CouponTemplate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CouponTemplateInput:
    code: str
    title: str
    kind: CouponKind
    threshold: Decimal = strawberry.field(default=Decimal("0"), description="Yuan, at most 2 places; 0 for none.")
    discount: Decimal | None = strawberry.field(default=None, description="Yuan taken off (AMOUNT_OFF).")
    percent_off: int | None = None
    scope: CouponScope = CouponScope.SHOP
    sku_codes: list[str] | None = None
    category_handle: str | None = None
    stacking_group: StackingGroup = StackingGroup.SHOP
    total_quantity: int
    per_shopper_limit: int = 1
    claim_starts_at: datetime | None = None
    claim_ends_at: datetime | None = None
    valid_days: int | None = strawberry.field(default=None, description="Validity in days from the claim; used when validUntil is null.")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    hidden: bool = strawberry.field(default=False, description="Hidden templates are granted by campaigns only and cannot be claimed directly.")


_WORTH_FIXED = ("Fixed once any coupon of the template was issued (INVALID_STATE): a coupon is worth what it "
                "was when claimed.")


@strawberry.input(description=(
    "What to change of a coupon template; a field left out stays as it is. Checked by the rules of "
    "couponTemplateCreate, on the template as it would be. Once any coupon was issued, kind, threshold, "
    "discount, percentOff, scope, skuCodes, categoryHandle and stackingGroup are fixed (INVALID_STATE); "
    "the title, the claim window, limits, visibility and the validity of later claims may change, and "
    "totalQuantity may rise, or fall to no fewer than were issued (INVALID). Coupons held keep the "
    "validity they were issued with. The code is the template's key (catalog files, campaigns): it stays."))
class CouponTemplateUpdateInput:
    title: str | None = strawberry.UNSET
    kind: CouponKind | None = strawberry.field(default=strawberry.UNSET, description=_WORTH_FIXED)
    threshold: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Yuan. " + _WORTH_FIXED)
    discount: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Yuan; null: none. " + _WORTH_FIXED)
    percent_off: int | None = strawberry.field(default=strawberry.UNSET, description="null: none. " + _WORTH_FIXED)
    scope: CouponScope | None = strawberry.field(default=strawberry.UNSET, description=_WORTH_FIXED)
    sku_codes: list[str] | None = strawberry.field(default=strawberry.UNSET, description=_WORTH_FIXED)
    category_handle: str | None = strawberry.field(default=strawberry.UNSET, description=_WORTH_FIXED)
    stacking_group: StackingGroup | None = strawberry.field(default=strawberry.UNSET, description=_WORTH_FIXED)
    total_quantity: int | None = strawberry.field(
        default=strawberry.UNSET, description="May rise, or fall to no fewer than were issued.")
    per_shopper_limit: int | None = strawberry.UNSET
    claim_starts_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="null: open now.")
    claim_ends_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="null: no end.")
    valid_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="For coupons claimed from now on; those held keep their dates.")
    valid_from: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="For coupons claimed from now on; those held keep their dates.")
    valid_until: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="For coupons claimed from now on; those held keep their dates.")
    hidden: bool | None = strawberry.UNSET


@strawberry.type
class CouponTemplateUpdatePayload:
    template: CouponTemplate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CouponTemplateDisablePayload:
    template: CouponTemplate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
