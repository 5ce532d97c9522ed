"""Several workers send the outbox's deliveries: each claimed by one, so none is sent twice at once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from adapters.db import utcnow
from adapters.webhooks.port import Topic
from adapters.webhooks.secrets_at_rest import SubscriptionSecrets
from adapters.webhooks.sql import emit
from adapters.wechat_accounts.secret_box import SecretBox
from gateway.wiring import Adapters
from tests.webhooks.conftest import Receiver, webhook_receiver  # noqa: F401  (the fixture)


async def test_four_workers_never_send_one_delivery_twice(
    demo: Adapters, server_with: Callable[..., object], webhook_receiver: Callable[..., Receiver],  # noqa: F811
):
    # given a slow receiver subscribed to two topics, and 40 events committed for each
    receiver = webhook_receiver(sleep=0.05)
    [shop] = await demo.shops.shops_by_handle(["panda-care"])
    assert shop is not None
    secret = SubscriptionSecrets(SecretBox([]), production=False).seal(receiver.secret)
    for topic in (Topic.ORDERS_CREATE, Topic.ORDERS_PAID):
        await demo.webhooks.subscribe(shop.id, topic, receiver.url, secret, utcnow())
    events = []
    async with demo.databases[0].write() as session:
        for n in range(40):
            for topic in (Topic.ORDERS_CREATE, Topic.ORDERS_PAID):
                events.append(await emit(session, shop.id, topic, {"n": n}, utcnow()))
    # when four workers polling every 50 ms send them
    with server_with(JIMU_WEBHOOK_POLL_SECONDS="0.05"):  # type: ignore[attr-defined]
        receiver.wait_for(len(events), timeout=60)
        time.sleep(1.0)  # anything sent twice would arrive by now
    # then each event arrived exactly once, signed
    arrived = receiver.requests()
    assert Counter(r["headers"]["x-jimu-event-id"] for r in arrived) == Counter(events)
    assert all(r["verified"] for r in arrived)
