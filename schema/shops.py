"""Shop and shopper types."""

from __future__ import annotations

import strawberry

from adapters.coupons.port import Coupon as CouponRecord
from adapters.db import utcnow
from adapters.shops.port import Shop as ShopRecord
from adapters.shops.port import Shopper as ShopperRecord
from schema.common import (
    DEFAULT_PAGE,
    Connection,
    Money,
    Node,
    UserError,
    gid,
    listed_connection,
)
from schema.coupons import Coupon, CouponState
from schema.members import Assist
from schema.orders import Order, order_connection


@strawberry.type
class Shop(Node):
    handle: str
    name: str
    online_payment_cap: Money = strawberry.field(
        description="Online payments above this amount are refused: the order needs a deposit plan."
    )

    @classmethod
    def of(cls, shop: ShopRecord) -> Shop:
        return cls(
            id=gid("Shop", shop.id),
            handle=shop.handle,
            name=shop.name,
            online_payment_cap=Money.of(shop.online_payment_cap),
        )


@strawberry.type
class Shopper(Node):
    shop_id: strawberry.Private[int]
    shopper_id: strawberry.Private[int]

    @strawberry.field
    async def following(self, info: strawberry.Info) -> bool:
        return (await info.context.loaders.membership.load((self.shop_id, self.shopper_id))).following

    @strawberry.field
    async def member(self, info: strawberry.Info) -> bool:
        return (await info.context.loaders.membership.load((self.shop_id, self.shopper_id))).member

    @strawberry.field
    async def coupons(self, info: strawberry.Info, state: CouponState | None = None) -> list[Coupon]:
        return [Coupon.of(c) for c in await self._coupons(info, state)]

    @strawberry.field
    async def assists(self, info: strawberry.Info) -> list[Assist]:
        return [Assist.of(a) for a in await info.context.adapters.members.assists_of(self.shop_id, self.shopper_id, utcnow())]

    @strawberry.field(description="The coupons held, oldest first, a page at a time (coupons is the whole list).")
    async def coupons_connection(
        self, info: strawberry.Info, state: CouponState | None = None, first: int | None = DEFAULT_PAGE,
        after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> Connection[Coupon]:
        return listed_connection(info, "coupon", await self._coupons(info, state), Coupon.of, first, after, last, before)

    @strawberry.field(description="The assists started, oldest first, a page at a time (assists is the whole list).")
    async def assists_connection(
        self, info: strawberry.Info, first: int | None = DEFAULT_PAGE, after: str | None = None, last: int | None = None,
        before: str | None = None,
    ) -> Connection[Assist]:
        started = await info.context.adapters.members.assists_of(self.shop_id, self.shopper_id, utcnow())
        return listed_connection(info, "assist", started, Assist.of, first, after, last, before)

    @strawberry.field
    async def orders(
        self, info: strawberry.Info, first: int | None = DEFAULT_PAGE, after: str | None = None, last: int | None = None,
        before: str | None = None,
    ) -> Connection[Order]:
        return await order_connection(info, self.shop_id, self.shopper_id, None, first, after, last, before)

    async def _coupons(self, info: strawberry.Info, state: CouponState | None) -> list[CouponRecord]:
        held = await info.context.adapters.coupons.coupons_of(self.shop_id, self.shopper_id, utcnow())
        return [c for c in held if state is None or c.state.value == state.value]

    @classmethod
    def of(cls, shopper: ShopperRecord) -> Shopper:
        return cls(id=gid("Shopper", shopper.id), shop_id=shopper.shop_id, shopper_id=shopper.id)


@strawberry.type
class ShopperPayload:
    shopper: Shopper | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ShopperLoginPayload:
    token: str | None = None
    shopper: Shopper | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
