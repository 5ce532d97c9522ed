"""A slot never takes more bookings than its capacity, whatever the processes do."""

from __future__ import annotations

from collections import Counter

from adapters.db import utcnow
from adapters.delivery.port import QuoteLine
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters
from tests.concurrency.test_inventory_races import PROCESSES, run_all


async def test_thirty_bookings_of_a_two_place_slot_give_exactly_two(database_url: str, demo: Adapters):
    # given a white-glove slot with 2 places
    shop = await demo.shops.shop_for_key(hash_key("pk_demo_aurelian"))
    shop_id = shop[0].id
    [[premium]] = await demo.delivery.quote(shop_id, [("1", [QuoteLine(1, 13_000_000, 1, True)])], utcnow())
    slot = premium.slots[-1]
    refs = [f"order-{i}" for i in range(30)]
    # when 30 orders book it at once from 4 processes
    results = run_all(
        [("book_slot", (database_url, shop_id, slot.id, refs[i::PROCESSES])) for i in range(PROCESSES)]
    )
    # then
    assert Counter(o for batch in results for o in batch) == {"booked": 2, "full": 28}
    assert (await demo.delivery.slot(shop_id, slot.id)).booked == 2
