"""Availability, the availableInRegion filter and stockSet, over HTTP."""

from __future__ import annotations

import pytest

from tests.conftest import Gql, codes

AVAILABILITY = """query($code: String!, $region: String) {
  sku(code: $code) { availability(region: $region) { status quantityAvailable } }
}"""
STOCK_SET = """mutation($code: String!, $warehouse: String!, $quantity: Int!) {
  stockSet(skuCode: $code, warehouse: $warehouse, quantity: $quantity) {
    sku { code availability { quantityAvailable } }
    userErrors { code field message }
  }
}"""


async def availability(gql: Gql, code: str, region: str | None, key: str = "pk_demo_panda") -> dict:
    body = await gql(AVAILABILITY, {"code": code, "region": region}, key=key)
    return body["data"]["sku"]["availability"]


@pytest.mark.parametrize(
    ("code", "region", "expected"),
    [
        ("DIAPER-L54", "1_72_2799_0", {"status": "IN_STOCK", "quantityAvailable": 500}),  # Beijing: BJ-01
        ("DIAPER-L54", "19_1601", {"status": "LOW_STOCK", "quantityAvailable": 4}),  # Guangzhou: GZ-01
        ("DIAPER-XL44", "2", {"status": "OUT_OF_STOCK", "quantityAvailable": 0}),  # Shanghai: SH-01 has none
        ("DIAPER-L54", "26", {"status": "OUT_OF_STOCK", "quantityAvailable": 0}),  # no warehouse serves Tibet
        ("DIAPER-L54", None, {"status": "IN_STOCK", "quantityAvailable": 1004}),
    ],
)
async def test_availability_is_seen_from_the_region(gql: Gql, code, region, expected):
    assert await availability(gql, code, region) == expected


async def test_a_deposit_sku_without_stock_is_a_preorder(gql: Gql):
    # given the gold watch's only unit is gone
    body = await gql(STOCK_SET, {"code": "WATCH-RG41-GOLD", "warehouse": "BJ-LUX", "quantity": 0}, key="sk_demo_aurelian")
    assert body["data"]["stockSet"]["userErrors"] == []
    # then
    assert await availability(gql, "WATCH-RG41-GOLD", "1", key="pk_demo_aurelian") == {
        "status": "PREORDER", "quantityAvailable": 0}
    assert (await availability(gql, "STRAP-ALLI-BLK", "1", key="pk_demo_aurelian"))["status"] == "IN_STOCK"


@pytest.mark.parametrize("region", ["", "beijing", "1_", "1_2_3_4_5", "*"])
async def test_a_malformed_region_is_bad_user_input(gql: Gql, region: str):
    body = await gql(AVAILABILITY, {"code": "DIAPER-L54", "region": region})
    assert codes(body) == ["BAD_USER_INPUT"]
    body = await gql('query($r: String) { products(filter: { availableInRegion: $r }) { totalCount } }', {"r": region})
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_available_in_region_keeps_products_with_a_sku_in_stock_there(gql: Gql):
    query = 'query($r: String) { products(filter: { availableInRegion: $r }) { totalCount nodes { handle } } }'
    everywhere = (await gql(query, {"r": "19_1601"}))["data"]["products"]
    assert everywhere["totalCount"] == 3
    assert (await gql(query, {"r": "26"}))["data"]["products"] == {"totalCount": 0, "nodes": []}
    # when the wipes run out in the south
    await gql(STOCK_SET, {"code": "WIPES-80X6", "warehouse": "GZ-01", "quantity": 0}, key="sk_demo_panda")
    south = (await gql(query, {"r": "19"}))["data"]["products"]
    north = (await gql(query, {"r": "1"}))["data"]["products"]
    # then
    assert sorted(n["handle"] for n in south["nodes"]) == ["diaper-soft", "sample-pack"]
    assert north["totalCount"] == 3


async def test_stock_set_needs_the_secret_key(gql: Gql):
    variables = {"code": "DIAPER-L54", "warehouse": "BJ-01", "quantity": 3}
    assert codes(await gql(STOCK_SET, variables, key="pk_demo_panda")) == ["FORBIDDEN"]
    assert codes(await gql(STOCK_SET, variables, key=None)) == ["UNAUTHENTICATED"]
    payload = (await gql(STOCK_SET, variables, key="sk_demo_panda"))["data"]["stockSet"]
    assert payload["userErrors"] == [] and payload["sku"]["code"] == "DIAPER-L54"
    assert await availability(gql, "DIAPER-L54", "1") == {"status": "LOW_STOCK", "quantityAvailable": 3}


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        ({"code": "NOPE", "warehouse": "BJ-01", "quantity": 1}, ("NOT_FOUND", ["skuCode"])),
        ({"code": "DIAPER-L54", "warehouse": "MOON", "quantity": 1}, ("NOT_FOUND", ["warehouse"])),
        ({"code": "DIAPER-L54", "warehouse": "BJ-01", "quantity": -1}, ("INVALID", ["quantity"])),
        ({"code": "DIAPER-L54", "warehouse": "BJ-01", "quantity": 2_000_000_000}, ("INVALID", ["quantity"])),
        # another shop's SKU and warehouse are not found either
        ({"code": "WATCH-RG41-GOLD", "warehouse": "BJ-01", "quantity": 1}, ("NOT_FOUND", ["skuCode"])),
        ({"code": "DIAPER-L54", "warehouse": "BJ-LUX", "quantity": 1}, ("NOT_FOUND", ["warehouse"])),
    ],
)
async def test_stock_set_refusals_are_user_errors_and_change_nothing(gql: Gql, variables, error):
    payload = (await gql(STOCK_SET, variables, key="sk_demo_panda"))["data"]["stockSet"]
    assert payload["sku"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [error]
    assert await availability(gql, "DIAPER-L54", None) == {"status": "IN_STOCK", "quantityAvailable": 1004}
    assert await availability(gql, "WATCH-RG41-GOLD", None, key="pk_demo_aurelian") == {
        "status": "LOW_STOCK", "quantityAvailable": 1}
