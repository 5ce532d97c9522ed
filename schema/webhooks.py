"""Outbound webhooks as the merchant sees them: subscriptions, and every delivery's fate."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from adapters.webhooks import port
from schema.common import UserError, gid


@strawberry.enum(description="What a subscription hears of. Each delivery's JSON body is "
                             '{"id", "topic", "shop", "occurredAt", "data"}, data holding the order, refund, SKU, '
                             "coupon template or assist concerned.")
class WebhookTopic(enum.Enum):
    ORDERS_CREATE = strawberry.enum_value("ORDERS_CREATE", description="A checkout completed: the order is open.")
    ORDERS_DEPOSIT_PAID = strawberry.enum_value("ORDERS_DEPOSIT_PAID",
                                                description="A DEPOSIT order's deposits are paid; the balance is due.")
    ORDERS_PAID = strawberry.enum_value("ORDERS_PAID", description="The order is paid in full.")
    ORDERS_CANCELLED = strawberry.enum_value("ORDERS_CANCELLED",
                                             description="Cancelled by the shopper, the merchant or expiry.")
    ORDERS_FULFILLED = strawberry.enum_value("ORDERS_FULFILLED", description="Handed to delivery (its first movement).")
    ORDERS_DELIVERED = strawberry.enum_value("ORDERS_DELIVERED", description="Delivered to the shopper.")
    DEPOSIT_FORFEITED = strawberry.enum_value("DEPOSIT_FORFEITED",
                                              description="The shopper cancelled after the deposit, or missed the "
                                                          "balance deadline: the deposit is kept.")
    REFUNDS_CREATE = strawberry.enum_value("REFUNDS_CREATE", description="Money was given back (a REFUND payment).")
    INVENTORY_LOW = strawberry.enum_value("INVENTORY_LOW",
                                          description="A SKU's available units fell to or below its low-stock "
                                                      "threshold (inventoryLowStockSet; 5 unless set): once a crossing.")
    COUPON_SOLD_OUT = strawberry.enum_value("COUPON_SOLD_OUT", description="The last coupon of a template was issued.")
    ASSIST_GRANTED = strawberry.enum_value("ASSIST_GRANTED",
                                           description="An assist got all its help: its initiator got the reward.")


@strawberry.enum
class WebhookDeliveryStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Not delivered yet: waiting for its next attempt.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="The receiver answered 2xx.")
    FAILED = strawberry.enum_value("FAILED", description="Given up: failed for the whole retry window (48 hours), "
                                                         "or its subscription was deleted or disabled.")


@strawberry.type(description="A URL that hears of one topic. Deliveries are signed: X-Jimu-Hmac-SHA256 is the "
                             "base64 HMAC-SHA256 of the raw body with the subscription's secret.")
class WebhookSubscription:
    id: strawberry.ID
    topic: WebhookTopic
    url: str
    created_at: datetime
    enabled: bool = strawberry.field(description="False once it failed for the whole retry window "
                                                 "(webhookSubscriptionEnable sends to it again).")
    disabled_at: datetime | None
    disabled_reason: str | None = strawberry.field(description="Why it was disabled: the last failure, in words.")
    failing_since: datetime | None = strawberry.field(description="The first failure since the last success.")
    last_error: str | None

    @classmethod
    def of(cls, s: port.Subscription) -> WebhookSubscription:
        return cls(id=gid("WebhookSubscription", s.id), topic=WebhookTopic(s.topic.value), url=s.url,
                   created_at=s.created_at, enabled=s.enabled, disabled_at=s.disabled_at,
                   disabled_reason=s.disabled_reason, failing_since=s.failing_since, last_error=s.last_error)


@strawberry.type(description="One event sent to one subscription, however many attempts it took.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: str = strawberry.field(description="X-Jimu-Event-Id: the same in every attempt, for deduplication.")
    topic: WebhookTopic
    subscription_id: strawberry.ID
    status: WebhookDeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    last_response_status: int | None = strawberry.field(description="The receiver's HTTP status at the last attempt; "
                                                                    "null when it never answered.")
    last_error: str | None
    last_response_body: str | None = strawberry.field(description="The start of the receiver's last answer.")
    payload: JSON | None = strawberry.field(description="The event's data, as the body carries it under \"data\" "
                                                       "(null once the event is forgotten, after 7 days).")

    @classmethod
    def of(cls, d: port.Delivery) -> WebhookDelivery:
        return cls(id=gid("WebhookDelivery", d.id), event_id=d.event_id, topic=WebhookTopic(d.topic.value),
                   subscription_id=gid("WebhookSubscription", d.subscription_id),
                   status=WebhookDeliveryStatus(d.status.value), attempts=d.attempts, created_at=d.created_at,
                   next_attempt_at=d.next_attempt_at, last_attempt_at=d.last_attempt_at, delivered_at=d.delivered_at,
                   last_response_status=d.last_status, last_error=d.last_error, last_response_body=d.last_response,
                   payload=d.payload)


@strawberry.type
class WebhookSubscriptionCreatePayload:
    subscription: WebhookSubscription | None = None
    secret: str | None = strawberry.field(default=None, description="The secret deliveries are signed with: shown "
                                                                    "this once (the one given, or a new one).")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookSubscriptionPayload:
    subscription: WebhookSubscription | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
