"""A shop's keys, and revoking shoppers' tokens: merchant operations (sk_...), and a
shopper's own sign-out everywhere.

A revocation is told to every worker (``Context.revoked``): at once with Redis, else each
follows within ``JIMU_REVOCATION_SECONDS``.
"""

from __future__ import annotations

import strawberry

from adapters.db import utcnow
from adapters.shops.port import KeyNotFound, LastSecretKey
from adapters.shops.rules import hash_key, hint_of, new_key
from resolvers.shopper_auth import signed_in
from resolvers.user_errors import id_of, user_error
from schema.common import UserError
from schema.keys import (
    ShopKey,
    ShopKeyCreatePayload,
    ShopKeyKind,
    ShopKeyRevokePayload,
    key_kind,
)
from schema.shops import Shopper, ShopperPayload


@strawberry.type
class KeyMutation:
    @strawberry.mutation(description="A new key for the shop (secret key). The key is in the payload this once: "
                                     "only its hash is kept.")
    async def shop_key_create(self, info: strawberry.Info, kind: ShopKeyKind) -> ShopKeyCreatePayload:
        shop = await info.context.merchant_shop()
        key = new_key(key_kind(kind))
        made = await info.context.adapters.shops.add_key(shop.id, key_kind(kind), hash_key(key), hint_of(key))
        if made is None:  # the shop went away since its key was read
            return ShopKeyCreatePayload(user_errors=[user_error("NOT_FOUND", [], "the shop is gone")])
        return ShopKeyCreatePayload(key=key, shop_key=ShopKey.of(made))

    @strawberry.mutation(description="Revoke one of the shop's keys (secret key): every worker refuses it within "
                                     "5 seconds. Revoking a revoked key changes nothing; the shop's last active "
                                     "secret key cannot be revoked here (create another first).")
    async def shop_key_revoke(self, info: strawberry.Info, id: strawberry.ID) -> ShopKeyRevokePayload:
        shop = await info.context.merchant_shop()
        errors: list[UserError] = []
        if (key_id := id_of(id, "ShopKey", ["id"], errors)) is None:
            return ShopKeyRevokePayload(user_errors=errors)
        try:
            key = await info.context.adapters.shops.revoke_key(key_id, utcnow(), shop.id, keep_a_secret=True)
        except KeyNotFound:
            return ShopKeyRevokePayload(user_errors=[user_error("NOT_FOUND", ["id"], "the shop has no such key")])
        except LastSecretKey as exc:
            return ShopKeyRevokePayload(user_errors=[user_error("INVALID_STATE", ["id"], str(exc))])
        await info.context.revoked(shop.id, None)
        return ShopKeyRevokePayload(shop_key=ShopKey.of(key))

    @strawberry.mutation(description="Revoke every token the shopper holds (secret key): they sign in again. "
                                     "Every worker refuses the old tokens within 5 seconds.")
    async def shopper_tokens_revoke(self, info: strawberry.Info, shopper_id: strawberry.ID) -> ShopperPayload:
        shop = await info.context.merchant_shop()
        errors: list[UserError] = []
        if (number := id_of(shopper_id, "Shopper", ["shopperId"], errors)) is None:
            return ShopperPayload(user_errors=errors)
        return await _revoke(info, shop.id, number, "shopperId")

    @strawberry.mutation(description="Sign the shopper out everywhere: every token they hold stops working, "
                                     "this one too (Shopify's customerAccessTokenDelete, for all of them).")
    async def shopper_sign_out_everywhere(self, info: strawberry.Info) -> ShopperPayload:
        shop, shopper_id = await signed_in(info)
        return await _revoke(info, shop.id, shopper_id, None)


async def _revoke(info: strawberry.Info, shop_id: int, shopper_id: int, field: str | None) -> ShopperPayload:
    shopper = await info.context.adapters.shops.revoke_tokens(shop_id, shopper_id)
    if shopper is None:
        return ShopperPayload(user_errors=[user_error("NOT_FOUND", [field] if field else [], "the shop has no such shopper")])
    await info.context.revoked(shop_id, shopper_id)
    return ShopperPayload(shopper=Shopper.of(shopper))
