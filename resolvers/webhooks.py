"""Subscribing to outbound webhooks (secret key), and the low-stock threshold INVENTORY_LOW watches."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from adapters.db import utcnow
from adapters.webhooks.port import Subscription, Topic, WebhookError, Webhooks
from adapters.webhooks.secrets_at_rest import SubscriptionSecrets
from adapters.webhooks.sender import url_problem
from adapters.webhooks.signing import new_secret
from adapters.wechat_accounts.port import SecretKeyMissing
from adapters.wechat_accounts.secret_box import SecretBox
from resolvers.user_errors import id_of, user_error
from schema.common import UserError
from schema.webhooks import (
    WebhookSubscription,
    WebhookSubscriptionCreatePayload,
    WebhookSubscriptionPayload,
    WebhookTopic,
)

MAX_URL = 2048
SECRET_LENGTHS = (16, 200)


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Subscribe a URL to a topic (secret key). Deliveries are POSTed as JSON, signed "
                                     "with the secret (given, or made here and shown once), retried with backoff for "
                                     "48 hours until the receiver answers 2xx within 5 s. In production the URL must "
                                     "be https and reach the public internet.")
    async def webhook_subscription_create(
        self, info: strawberry.Info, topic: WebhookTopic, url: str, secret: str | None = None
    ) -> WebhookSubscriptionCreatePayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        settings = ctx.settings
        errors = []
        url = url.strip()
        problem = "at most 2048 characters" if len(url) > MAX_URL else await url_problem(
            url, production=settings.production, allow_private=settings.webhooks.allow_private)
        if problem:
            errors.append(user_error("INVALID", ["url"], problem))
        low, high = SECRET_LENGTHS
        if secret is not None and not (low <= len(secret) <= high and secret.isprintable() and " " not in secret):
            errors.append(user_error("INVALID", ["secret"], f"give {low} to {high} printable characters, no spaces"))
        if errors:
            return WebhookSubscriptionCreatePayload(user_errors=errors)
        plain = secret or new_secret()
        try:
            stored = SubscriptionSecrets(SecretBox(settings.secret_keys), settings.production).seal(plain)
        except SecretKeyMissing as exc:
            return WebhookSubscriptionCreatePayload(user_errors=[user_error("INVALID_STATE", ["secret"], str(exc))])
        try:
            made = await ctx.adapters.webhooks.subscribe(shop.id, Topic(topic.value), url, stored, utcnow())
        except WebhookError as exc:
            return WebhookSubscriptionCreatePayload(user_errors=[user_error(exc.code, ["url"], str(exc))])
        return WebhookSubscriptionCreatePayload(subscription=WebhookSubscription.of(made), secret=plain)

    @strawberry.mutation(description="Stop sending to a subscription (secret key); its deliveries not yet made fail. "
                                     "Its past deliveries stay listed.")
    async def webhook_subscription_delete(self, info: strawberry.Info, id: strawberry.ID) -> WebhookSubscriptionPayload:
        return await _change(info, id, lambda hooks, shop_id, sub_id: hooks.unsubscribe(shop_id, sub_id, utcnow()))

    @strawberry.mutation(description="Send to a disabled subscription again, from now on (secret key); what failed "
                                     "stays failed.")
    async def webhook_subscription_enable(self, info: strawberry.Info, id: strawberry.ID) -> WebhookSubscriptionPayload:
        return await _change(info, id, lambda hooks, shop_id, sub_id: hooks.enable(shop_id, sub_id))


Change = Callable[[Webhooks, int, int], Awaitable[Subscription]]  # (outbox, shop id, subscription id)


async def _change(info: strawberry.Info, id: strawberry.ID, act: Change) -> WebhookSubscriptionPayload:
    shop = await info.context.merchant_shop()
    errors: list[UserError] = []
    if (sub_id := id_of(str(id), "WebhookSubscription", ["id"], errors)) is None:
        return WebhookSubscriptionPayload(user_errors=errors)
    try:
        changed = await act(info.context.adapters.webhooks, shop.id, sub_id)
    except WebhookError as exc:
        return WebhookSubscriptionPayload(user_errors=[user_error(exc.code, ["id"], str(exc))])
    return WebhookSubscriptionPayload(subscription=WebhookSubscription.of(changed))
