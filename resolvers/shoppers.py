"""Signing shoppers in, and the signed-in shopper."""

from __future__ import annotations

import logging

import strawberry

from adapters.identity.port import (
    IdentityNotConfigured,
    IdentityRejected,
    IdentityUnavailable,
)
from adapters.wechat_accounts.port import SecretUnreadable
from resolvers.user_errors import user_error
from schema.errors import ServiceUnavailable
from schema.shops import Shopper, ShopperLoginPayload

MAX_CODE_LENGTH = 256
log = logging.getLogger("jimu.wechat")


@strawberry.type
class ShopperQuery:
    @strawberry.field(description="The signed-in shopper; null without a shopper token.")
    async def me(self, info: strawberry.Info) -> Shopper | None:
        shopper_id = await info.context.shopper_id()
        if shopper_id is None:
            return None
        shop = await info.context.shop()
        shopper = await info.context.loaders.shopper_by_id.load((shop.id, shopper_id))
        return Shopper.of(shopper) if shopper else None


@strawberry.type
class ShopperMutation:
    @strawberry.mutation(description="Exchange a mini-program login code for a shopper token.")
    async def shopper_login(self, info: strawberry.Info, code: str) -> ShopperLoginPayload:
        ctx = info.context
        shop = await ctx.shop()
        code = code.strip()
        if not code or len(code) > MAX_CODE_LENGTH:
            return _refused(f"code must be 1 to {MAX_CODE_LENGTH} characters")
        try:
            provider = await ctx.adapters.wechat.identity(shop.id, ctx.adapters.identity)
            subject = await provider.subject_for(code)
        except SecretUnreadable as exc:
            log.error("shop %s: its WeChat app secret cannot be opened: %s", shop.handle, exc)
            raise ServiceUnavailable("this shop's WeChat sign-in cannot be used now (its stored secret "
                                     "cannot be decrypted with JIMU_SECRET_KEY)") from exc
        except IdentityNotConfigured as exc:
            return ShopperLoginPayload(user_errors=[user_error("INVALID_STATE", ["code"], str(exc))])
        except IdentityRejected as exc:
            return _refused(str(exc))
        except IdentityUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from exc
        shopper = await ctx.adapters.shops.shopper_for_subject(shop.id, subject)
        return ShopperLoginPayload(token=ctx.tokens.issue(shop.id, shopper.id, shopper.token_version), shopper=Shopper.of(shopper))


def _refused(message: str) -> ShopperLoginPayload:
    return ShopperLoginPayload(user_errors=[user_error("INVALID", ["code"], message)])
