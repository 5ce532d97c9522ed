"""A request's objects go when it ends: none of ours is left for the cycle collector.

A loop among a request's objects (its loaders holding fetches that held the
loaders, say) keeps everything they reach alive until the collector runs; its
passes were a third of a cold listing's CPU.
"""

from __future__ import annotations

import gc
from dataclasses import replace

from gateway.settings import Settings
from tests.conftest import Gql, api_client, make_gql

LISTING = """query Listing($region: String!) { products(first: 20) { nodes { handle title
  priceRange { min { amount } } images { url } coupons { code }
  category { name parent { name } }
  skus { code price { amount } availability(region: $region) { status quantityAvailable }
         deliveryOptions(region: $region) { tier fee { amount } slots { id } } product { handle } } } } }"""
OURS = ("gateway.", "schema.", "resolvers.", "adapters.", "aiodataloader")


def _ours(objects: list[object]) -> list[str]:
    return sorted({f"{type(o).__module__}.{type(o).__qualname__}" for o in objects
                   if type(o).__module__.startswith(OURS)})


async def _garbage_of(gql: Gql, times: int) -> list[object]:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(times):
            body = await gql(LISTING, {"region": "1_72_2799_0"})
            assert "errors" not in body and body["data"]["products"]["nodes"], body
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_listing_requests_leave_no_cycles_of_ours(settings: Settings, demo) -> None:  # type: ignore[no-untyped-def]
    # the reference cache on, as in a running worker, so the held views are in play; every
    # SKU's slots cost more than one operation may: allowed here
    async with api_client(replace(settings, reference_cache_seconds=60, max_query_cost=100_000), demo) as client:
        gql = make_gql(client)
        await _garbage_of(gql, 2)  # the first answers learn the plan
        assert _ours(await _garbage_of(gql, 3)) == []
