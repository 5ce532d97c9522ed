"""The outbox's subscriptions, claims and records: the same contract for the SQL and fake ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.db import utcnow
from adapters.paging import Window
from adapters.shops.port import KeyKind, Shop
from adapters.shops.rules import hash_key
from adapters.webhooks.port import (
    DeliveryStatus,
    NoSuchSubscription,
    Outcome,
    SubscriptionExists,
    Topic,
)
from gateway.wiring import Adapters

URL = "https://erp.example.com/hooks"


async def a_shop(adapters: Adapters, handle: str = "hooks") -> Shop:
    return await adapters.shops.create_shop(
        handle, handle.title(), {KeyKind.PUBLISHABLE: hash_key(f"pk_{handle}"), KeyKind.SECRET: hash_key(f"sk_{handle}")})


async def emitted(adapters: Adapters, shop_id: int, topic: Topic, payload: dict) -> str | None:
    """An event, written as each implementation writes one (the SQL one in a transaction of its own here)."""
    from adapters.webhooks.fake import FakeWebhooks
    from adapters.webhooks.sql import SqlWebhooks, emit

    if isinstance(adapters.webhooks, FakeWebhooks):
        return adapters.webhooks.emit(shop_id, topic, payload, utcnow())
    assert isinstance(adapters.webhooks, SqlWebhooks)
    async with adapters.databases[0].write() as session:
        return await emit(session, shop_id, topic, payload, utcnow())


def ok(at, delivered: bool = True, next_at=None) -> Outcome:
    return Outcome(at=at, delivered=delivered, status=200 if delivered else 500, error=None if delivered else "500",
                   response="", next_attempt_at=next_at)


async def test_an_event_gets_a_delivery_for_each_live_subscription_of_its_shop_and_topic(adapters: Adapters):
    # given two shops; one subscribed twice to ORDERS_CREATE and once to ORDERS_PAID
    shop, other = await a_shop(adapters), await a_shop(adapters, "other")
    now = utcnow()
    first = await adapters.webhooks.subscribe(shop.id, Topic.ORDERS_CREATE, URL, "plain:a", now)
    await adapters.webhooks.subscribe(shop.id, Topic.ORDERS_CREATE, URL + "/2", "plain:b", now)
    await adapters.webhooks.subscribe(shop.id, Topic.ORDERS_PAID, URL, "plain:c", now)
    gone = await adapters.webhooks.subscribe(shop.id, Topic.ORDERS_CREATE, URL + "/3", "plain:d", now)
    await adapters.webhooks.unsubscribe(shop.id, gone.id, now)
    with pytest.raises(SubscriptionExists):
        await adapters.webhooks.subscribe(shop.id, Topic.ORDERS_CREATE, URL, "plain:e", now)
    # when an order is created in the first shop
    event_id = await emitted(adapters, shop.id, Topic.ORDERS_CREATE, {"order": {"number": "N1"}})
    # then two deliveries, of the same event; nothing for the other shop
    page = await adapters.webhooks.deliveries_page(shop.id, None, Window(10))
    assert sorted(d.subscription_id for d in page.deliveries) == [first.id, first.id + 1]
    assert {(d.event_id, d.status, d.attempts) for d in page.deliveries} == {(event_id, DeliveryStatus.PENDING, 0)}
    assert (await adapters.webhooks.deliveries_page(other.id, None, Window(10))).total_count == 0
    assert [s.url for s in await adapters.webhooks.subscriptions_of(shop.id)] == [URL, URL + "/2", URL]
    # and an event no live subscription hears is not kept: an order write pays for no outbox row
    assert event_id is not None
    assert await emitted(adapters, other.id, Topic.ORDERS_CREATE, {"order": {"number": "N2"}}) is None
    assert await emitted(adapters, shop.id, Topic.REFUNDS_CREATE, {"refund": {}}) is None


async def test_a_claimed_delivery_is_held_from_other_dispatchers_until_recorded_or_its_lease_ends(adapters: Adapters):
    # given one due delivery
    shop = await a_shop(adapters)
    now = utcnow()
    await adapters.webhooks.subscribe(shop.id, Topic.ORDERS_CREATE, URL, "plain:s", now)
    await emitted(adapters, shop.id, Topic.ORDERS_CREATE, {"n": 1})
    later = utcnow() + timedelta(seconds=1)
    # when one dispatcher claims it
    [mine] = await adapters.webhooks.claim_due(later, later + timedelta(seconds=30), 10)
    # then another finds nothing while the lease holds, and takes it once the lease is over
    assert (mine.url, mine.secret, mine.shop_handle, mine.event.payload) == (URL, "plain:s", "hooks", {"n": 1})
    assert await adapters.webhooks.claim_due(later + timedelta(seconds=10), later + timedelta(seconds=40), 10) == []
    [theirs] = await adapters.webhooks.claim_due(later + timedelta(seconds=31), later + timedelta(seconds=61), 10)
    # and only the claim's holder records the attempt
    assert await adapters.webhooks.record(mine, ok(later)) is False
    assert await adapters.webhooks.record(theirs, ok(later + timedelta(seconds=32))) is True
    [done] = (await adapters.webhooks.deliveries_page(shop.id, None, Window(10))).deliveries
    assert (done.status, done.attempts, done.last_status) == (DeliveryStatus.DELIVERED, 1, 200)
    assert await adapters.webhooks.claim_due(later + timedelta(hours=1), later + timedelta(hours=2), 10) == []


async def test_failures_mark_the_subscription_failing_a_disable_gives_up_its_deliveries_and_enable_resets(
    adapters: Adapters,
):
    # given a subscription with two due deliveries
    shop = await a_shop(adapters)
    now = utcnow()
    sub = await adapters.webhooks.subscribe(shop.id, Topic.ORDERS_CREATE, URL, "plain:s", now)
    for n in (1, 2):
        await emitted(adapters, shop.id, Topic.ORDERS_CREATE, {"n": n})
    soon = utcnow() + timedelta(seconds=1)
    first, second = await adapters.webhooks.claim_due(soon, soon + timedelta(seconds=30), 10)
    # when the first fails (tried again later), then the second fails for good, disabling the subscription
    assert await adapters.webhooks.record(first, ok(soon, delivered=False, next_at=soon + timedelta(minutes=1)))
    [failing] = await adapters.webhooks.subscriptions_of(shop.id)
    assert failing.failing_since == soon and failing.enabled
    disabling = Outcome(at=soon, delivered=False, status=None, error="connection refused", response="",
                        next_attempt_at=None, disable_reason="every delivery failed")
    assert await adapters.webhooks.record(second, disabling)
    # then both deliveries failed for good, and the subscription says why
    [disabled] = await adapters.webhooks.subscriptions_of(shop.id)
    assert (disabled.enabled, disabled.disabled_reason, disabled.last_error) == (
        False, "every delivery failed", "connection refused")
    statuses = [d.status for d in (await adapters.webhooks.deliveries_page(shop.id, None, Window(10))).deliveries]
    assert statuses == [DeliveryStatus.FAILED, DeliveryStatus.FAILED]
    # and a disabled subscription gets no new deliveries until enabled again
    await emitted(adapters, shop.id, Topic.ORDERS_CREATE, {"n": 3})
    assert (await adapters.webhooks.deliveries_page(shop.id, DeliveryStatus.PENDING, Window(10))).total_count == 0
    enabled = await adapters.webhooks.enable(shop.id, sub.id)
    assert (enabled.enabled, enabled.failing_since) == (True, None)
    await emitted(adapters, shop.id, Topic.ORDERS_CREATE, {"n": 4})
    assert (await adapters.webhooks.deliveries_page(shop.id, DeliveryStatus.PENDING, Window(10))).total_count == 1
    with pytest.raises(NoSuchSubscription):
        await adapters.webhooks.enable(shop.id + 999, sub.id)


async def test_settled_events_older_than_the_retention_are_pruned_pending_ones_kept(adapters: Adapters):
    # given a delivered event and a pending one
    shop = await a_shop(adapters)
    await adapters.webhooks.subscribe(shop.id, Topic.ORDERS_CREATE, URL, "plain:s", utcnow())
    await emitted(adapters, shop.id, Topic.ORDERS_CREATE, {"n": 1})
    soon = utcnow() + timedelta(seconds=1)
    [first] = await adapters.webhooks.claim_due(soon, soon + timedelta(seconds=30), 10)
    await adapters.webhooks.record(first, ok(soon))
    await emitted(adapters, shop.id, Topic.ORDERS_CREATE, {"n": 2})
    # when events older than a minute from now are pruned
    pruned = await adapters.webhooks.prune(utcnow() + timedelta(minutes=1))
    # then the delivered one went with its delivery; the pending one stays
    assert pruned == 1
    [left] = (await adapters.webhooks.deliveries_page(shop.id, None, Window(10))).deliveries
    assert (left.status, left.payload) == (DeliveryStatus.PENDING, {"n": 2})


async def test_deliveries_page_newest_first_with_cursors(adapters: Adapters):
    shop = await a_shop(adapters)
    await adapters.webhooks.subscribe(shop.id, Topic.ORDERS_CREATE, URL, "plain:s", utcnow())
    for n in range(5):
        await emitted(adapters, shop.id, Topic.ORDERS_CREATE, {"n": n})
    first = await adapters.webhooks.deliveries_page(shop.id, None, Window(2))
    assert [d.payload["n"] for d in first.deliveries] == [4, 3] and first.has_next_page and first.total_count == 5
    rest = await adapters.webhooks.deliveries_page(shop.id, None, Window(10, after=first.deliveries[-1].id))
    assert [d.payload["n"] for d in rest.deliveries] == [2, 1, 0] and not rest.has_next_page
