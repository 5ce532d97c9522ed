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
