"""Shop and shopper types."""

from __future__ import annotations

import strawberry

from adapters.shops.port import Shop as ShopRecord
from adapters.shops.port import Shopper as ShopperRecord
from schema.common import Money, Node, UserError, gid


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
    @classmethod
    def of(cls, shopper: ShopperRecord) -> Shopper:
        return cls(id=gid("Shopper", shopper.id))


@strawberry.type
class ShopperLoginPayload:
    token: str | None = None
    shopper: Shopper | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
