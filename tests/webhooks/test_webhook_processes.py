"""Webhooks sent by a real server process: nothing lost when it is killed (several workers at once:
tests/concurrency/test_webhook_workers.py)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.conftest import make_gql
from tests.ops.conftest import jimu_serve
from tests.stories import sell_diapers
from tests.webhooks.conftest import Receiver
from tests.webhooks.test_webhook_stories import DELIVERIES, SUBSCRIBE

SK = "sk_demo_panda"


async def test_killing_the_server_between_the_change_and_its_delivery_loses_no_event(
    settings: Settings, demo: Adapters, tmp_path: Path, webhook_receiver: Callable[..., Receiver],
):
    # given a server that looks for due deliveries only when it starts, and a subscribed receiver
    receiver = webhook_receiver()
    with jimu_serve(settings, tmp_path / "first.log", JIMU_WEBHOOK_POLL_SECONDS="3600") as first:
        async with httpx.AsyncClient(base_url=first.url) as client:
            gql = make_gql(client)
            made = await gql(SUBSCRIBE, {"t": "ORDERS_CREATE", "u": receiver.url, "s": receiver.secret}, key=SK)
            assert made["data"]["webhookSubscriptionCreate"]["userErrors"] == []
            # when an order is placed: its event is committed and waits for a round
            await sell_diapers(client, 1)
            waiting = (await gql(DELIVERIES, {"s": "PENDING"}, key=SK))["data"]["merchant"]["webhookDeliveries"]
            assert waiting["totalCount"] == 1
            number = waiting["nodes"][0]["payload"]["order"]["number"]
        # and the server is killed before it sends it
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=30)
    assert receiver.requests() == []
    # then a new server sends it, once, signed
    with jimu_serve(settings, tmp_path / "second.log", JIMU_WEBHOOK_POLL_SECONDS="0.1"):
        [delivered] = receiver.wait_for(1, timeout=20)
        time.sleep(0.5)
    assert len(receiver.requests()) == 1
    assert delivered["verified"] and delivered["headers"]["x-jimu-topic"] == "ORDERS_CREATE"
    assert f'"number":"{number}"' in delivered["body"]
