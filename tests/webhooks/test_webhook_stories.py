"""The stories as a merchant's systems hear them: each produces exactly its events, signed, at a
real receiving server, sent by the dispatcher the server processes run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from adapters.paging import Window
from adapters.webhooks.port import DeliveryStatus
from gateway.settings import Settings, WebhookSettings
from gateway.wiring import Adapters, dispatcher_for
from tests.api.test_assist_story import (
    test_the_whole_panda_assist_story as panda_assist_story,
)
from tests.api.test_deposit_story import (
    test_the_whole_luxury_watch_story as luxury_watch_story,
)
from tests.conftest import Gql, api_client, make_gql
from tests.stories import sell_diapers
from tests.webhooks.conftest import Receiver

TOPICS = ("ORDERS_CREATE", "ORDERS_DEPOSIT_PAID", "ORDERS_PAID", "ORDERS_CANCELLED", "ORDERS_FULFILLED",
          "ORDERS_DELIVERED", "DEPOSIT_FORFEITED", "REFUNDS_CREATE", "INVENTORY_LOW", "COUPON_SOLD_OUT",
          "ASSIST_GRANTED")
SUBSCRIBE = """mutation($t: WebhookTopic!, $u: String!, $s: String) {
  webhookSubscriptionCreate(topic: $t, url: $u, secret: $s) {
    subscription { id topic url enabled } secret userErrors { code field message } } }"""
DELIVERIES = """query($s: WebhookDeliveryStatus) { merchant { webhookDeliveries(first: 100, status: $s) {
  totalCount nodes { eventId topic status attempts lastResponseStatus lastError payload } } } }"""


async def subscribe_all(gql: Gql, key: str, receiver: Receiver) -> None:
    for topic in TOPICS:
        made = (await gql(SUBSCRIBE, {"t": topic, "u": receiver.url, "s": receiver.secret}, key=key))[
            "data"]["webhookSubscriptionCreate"]
        assert made["userErrors"] == [] and made["secret"] == receiver.secret


async def send_all(adapters: Adapters, settings: Settings, until: Callable[[], bool] = lambda: False) -> None:
    """Dispatch rounds until nothing is due (or ``until``), as the server's loop would."""
    dispatcher, sender = dispatcher_for(adapters, settings)
    try:
        for _ in range(200):
            done = await dispatcher.dispatch()
            if until() or (done.claimed == 0 and not await _pending(adapters)):
                return
            if done.claimed == 0:
                await asyncio.sleep(0.02)
        pytest.fail("deliveries still pending after 200 rounds")
    finally:
        await sender.aclose()


async def _pending(adapters: Adapters) -> bool:
    shops = [s for s in await adapters.shops.shops_by_handle(["panda-care", "aurelian"]) if s]
    for shop in shops:
        page = await adapters.webhooks.deliveries_page(shop.id, DeliveryStatus.PENDING, Window(1))
        if page.total_count:
            return True
    return False


def heard(receiver: Receiver) -> list[tuple[str, dict[str, Any]]]:
    arrived = receiver.requests()
    assert all(r["verified"] for r in arrived), "every delivery carries a valid signature"
    return [(r["headers"]["x-jimu-topic"], json.loads(r["body"])) for r in arrived]


async def test_the_luxury_watch_story_is_heard_as_its_events(
    gql: Gql, client: httpx.AsyncClient, demo: Adapters, settings: Settings, webhook_receiver: Callable[..., Receiver],
):
    # given every topic subscribed for Aurelian
    receiver = webhook_receiver()
    await subscribe_all(gql, "sk_demo_aurelian", receiver)
    # when the whole deposit story runs, and the dispatcher sends what it produced
    await luxury_watch_story(gql, client)
    await send_all(demo, settings)
    # then its systems heard the order's life in order, each event once, about that order
    events = heard(receiver)
    assert [topic for topic, _ in events] == [
        "ORDERS_CREATE", "ORDERS_DEPOSIT_PAID", "ORDERS_FULFILLED", "ORDERS_PAID", "ORDERS_DELIVERED"]
    numbers = {body["data"]["order"]["number"] for _, body in events}
    assert len(numbers) == 1
    created, deposit, _, paid, delivered = (body for _, body in events)
    assert created["shop"] == "aurelian" and created["data"]["order"]["paymentPlan"] == "DEPOSIT"
    assert deposit["data"]["order"]["paid"] == {"amount": "10000.00", "minorUnits": 1_000_000, "currencyCode": "CNY"}
    assert paid["data"]["order"]["paymentStatus"] == "PAID"
    assert delivered["data"]["order"]["state"] == "COMPLETED"
    assert len({body["id"] for _, body in events}) == 5
    assert [r["headers"]["x-jimu-event-id"] for r in receiver.requests()] == [body["id"] for _, body in events]


async def test_the_panda_story_is_heard_as_its_events(
    gql: Gql, client: httpx.AsyncClient, demo: Adapters, settings: Settings, webhook_receiver: Callable[..., Receiver],
):
    # given every topic subscribed for Panda Care
    receiver = webhook_receiver()
    await subscribe_all(gql, "sk_demo_panda", receiver)
    # when mum gets her friends' help, then a shopper buys diapers, pays, and the merchant ships
    await panda_assist_story(gql)
    await sell_diapers(client, 2)
    [order] = (await gql("{ merchant { orders(first: 1) { nodes { number } } } }", key="sk_demo_panda"))[
        "data"]["merchant"]["orders"]["nodes"]
    shipped = await gql('mutation($n: String!) { orderShip(orderNumber: $n) { userErrors { code } } }',
                        {"n": order["number"]}, key="sk_demo_panda")
    assert shipped["data"]["orderShip"]["userErrors"] == []
    await send_all(demo, settings)
    # then: the assist granted once, and the order's life
    events = heard(receiver)
    assert [topic for topic, _ in events] == ["ASSIST_GRANTED", "ORDERS_CREATE", "ORDERS_PAID", "ORDERS_FULFILLED"]
    granted = events[0][1]["data"]["assist"]
    assert (granted["campaignCode"], granted["couponTemplateCode"], granted["assists"]) == ("PANDA-ASSIST-50", "BIG-A", 50)
    assert {body["data"]["order"]["number"] for _, body in events[1:]} == {order["number"]}


async def test_a_receiver_failing_three_times_gets_the_event_delivered_once_with_one_id(
    gql: Gql, client: httpx.AsyncClient, demo: Adapters, settings: Settings, webhook_receiver: Callable[..., Receiver],
):
    # given a receiver that answers 500 to an event's first three attempts, and quick retries
    quick = replace(settings, webhooks=WebhookSettings(first_retry_seconds=0.01))
    receiver = webhook_receiver(fail_first=3)
    made = (await gql(SUBSCRIBE, {"t": "ORDERS_CREATE", "u": receiver.url, "s": receiver.secret}, key="sk_demo_panda"))
    assert made["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    # when an order is placed and the dispatcher keeps at it
    await sell_diapers(client, 1)
    await send_all(demo, quick)
    # then four attempts carried the same event id and body; the fourth was answered 200
    arrived = receiver.requests()
    assert [r["status"] for r in arrived] == [500, 500, 500, 200]
    assert len({r["headers"]["x-jimu-event-id"] for r in arrived}) == 1
    assert len({r["body"] for r in arrived}) == 1
    listed = (await gql(DELIVERIES, {"s": None}, key="sk_demo_panda"))["data"]["merchant"]["webhookDeliveries"]
    assert listed["totalCount"] == 1
    [delivery] = listed["nodes"]
    assert (delivery["status"], delivery["attempts"], delivery["lastResponseStatus"], delivery["lastError"]) == (
        "DELIVERED", 4, 200, None)
    assert delivery["eventId"] == arrived[0]["headers"]["x-jimu-event-id"]
    assert delivery["payload"]["order"]["paymentStatus"] == "UNPAID"


async def test_a_receiver_failing_for_the_whole_window_is_given_up_once_and_its_subscription_disabled(
    gql: Gql, client: httpx.AsyncClient, demo: Adapters, settings: Settings, webhook_receiver: Callable[..., Receiver],
):
    # given a receiver that never answers 2xx, and a retry window of under a second
    brief = replace(settings, webhooks=WebhookSettings(first_retry_seconds=0.01, retry_hours=0.0002))
    receiver = webhook_receiver(fail_first=10_000)
    made = (await gql(SUBSCRIBE, {"t": "ORDERS_CREATE", "u": receiver.url, "s": receiver.secret}, key="sk_demo_panda"))
    assert made["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    # when an order is placed, the dispatcher keeps at it until it gives the delivery up, and
    # then another order's delivery fails until the subscription has failed for a whole window
    await sell_diapers(client, 1)
    dispatcher, sender = dispatcher_for(demo, brief)
    rounds: list[Any] = []
    try:
        for _ in range(300):
            rounds.append(await dispatcher.dispatch())
            if rounds[-1].given_up and sum(r.given_up for r in rounds) == 1:
                await sell_diapers(client, 1, shopper="dad")
            if rounds[-1].disabled:
                break
            await asyncio.sleep(0.02)
    finally:
        await sender.aclose()
    # then every attempt failed; each delivery was given up once, the last disabling the subscription
    attempts = len(receiver.requests())
    assert attempts >= 4
    assert [sum(getattr(r, n) for r in rounds) for n in ("delivered", "failed", "given_up", "disabled")] == \
        [0, attempts, 2, 1]
    listed = (await gql("{ merchant { webhookSubscriptions { enabled } } }", key="sk_demo_panda"))
    assert listed["data"]["merchant"]["webhookSubscriptions"] == [{"enabled": False}]


async def test_an_event_is_written_only_when_its_change_commits(demo: Adapters, settings: Settings):
    # given a subscription, and a cart of more than Guangzhou's warehouse holds (4)
    async with api_client(settings, demo) as c:
        gql = make_gql(c)
        await gql(SUBSCRIBE, {"t": "ORDERS_CREATE", "u": "http://127.0.0.1:9/hooks", "s": None}, key="sk_demo_panda")
        token = (await gql('mutation { shopperLogin(code: "dev:nobody") { token } }'))["data"]["shopperLogin"]["token"]
        cart = (await gql('mutation { cartCreate(lines: [{skuCode: "DIAPER-L54", quantity: 5}]) { cart { id } } }',
                          token=token))["data"]["cartCreate"]["cart"]
        await gql('mutation($id: ID!) { cartDeliverySet(cartId: $id, delivery: {region: "19_1601", '
                  'tier: STANDARD}) { userErrors { code } } }', {"id": cart["id"]}, token=token)
        # when the checkout is refused
        refused = await gql('mutation($id: ID!) { checkoutComplete(cartId: $id, idempotencyKey: "x") '
                            "{ userErrors { code } } }", {"id": cart["id"]}, token=token)
        assert refused["data"]["checkoutComplete"]["userErrors"]
        # then no event, so no delivery, exists
        listed = (await gql(DELIVERIES, {"s": None}, key="sk_demo_panda"))["data"]["merchant"]["webhookDeliveries"]
        assert listed["totalCount"] == 0


async def test_an_event_rolls_back_with_the_transaction_that_wrote_it(demo: Adapters, db):
    # given a live subscription
    from adapters.db import utcnow
    from adapters.webhooks.port import Topic
    from adapters.webhooks.sql import emit

    [shop] = await demo.shops.shops_by_handle(["panda-care"])
    assert shop is not None
    await demo.webhooks.subscribe(shop.id, Topic.ORDERS_CREATE, "http://127.0.0.1:9/hooks", "plain:s" * 3, utcnow())
    # when a change emits its event and then fails
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            await emit(session, shop.id, Topic.ORDERS_CREATE, {"order": {"number": "X"}}, utcnow())
            raise RuntimeError("the change fails after its event was written")
    # then neither the event nor its delivery exists; the same change committed leaves both
    assert (await demo.webhooks.deliveries_page(shop.id, None, Window(10))).total_count == 0
    async with db.write() as session:
        event_id = await emit(session, shop.id, Topic.ORDERS_CREATE, {"order": {"number": "Y"}}, utcnow())
    [delivery] = (await demo.webhooks.deliveries_page(shop.id, None, Window(10))).deliveries
    assert (delivery.event_id, delivery.status, delivery.payload) == (event_id, DeliveryStatus.PENDING,
                                                                      {"order": {"number": "Y"}})
