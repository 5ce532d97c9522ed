"""What mutations acting for a shopper need first."""

from __future__ import annotations

import strawberry

from adapters.shops.port import Shop
from schema.errors import Unauthenticated


async def signed_in(info: strawberry.Info) -> tuple[Shop, int]:
    """The shop and the signed-in shopper; UNAUTHENTICATED without a shopper token."""
    shop = await info.context.shop()
    shopper_id = await info.context.shopper_id()
    if shopper_id is None:
        raise Unauthenticated("sign in first (shopperLogin) and send Authorization: Bearer <token>")
    return shop, shopper_id
