"""Sku.deliveryOptions over HTTP."""

from __future__ import annotations

import pytest

from tests.conftest import Gql, codes

OPTIONS = """query($code: String!, $region: String!, $quantity: Int! = 1) {
  sku(code: $code) {
    deliveryOptions(region: $region, quantity: $quantity) {
      tier title fee { amount } features slots { id startsAt endsAt remainingCapacity }
    }
  }
}"""


async def options(gql: Gql, code: str, region: str, quantity: int = 1, key: str = "pk_demo_panda") -> list[dict]:
    body = await gql(OPTIONS, {"code": code, "region": region, "quantity": quantity}, key=key)
    assert "errors" not in body, body
    return body["data"]["sku"]["deliveryOptions"]


async def test_a_watch_gets_white_glove_with_slots_in_the_premium_cities_only(gql: Gql):
    beijing = await options(gql, "WATCH-RG41-STEEL", "1_72_2799_0", key="pk_demo_aurelian")
    assert [(o["tier"], o["fee"]["amount"], o["features"]) for o in beijing] == [
        ("PREMIUM", "0.00", ["WHITE_GLOVE", "ID_CHECK", "APPOINTMENT"])
    ]
    slots = beijing[0]["slots"]
    assert slots and all(s["remainingCapacity"] == 2 for s in slots)
    assert slots[0]["startsAt"] < slots[0]["endsAt"] and slots[0]["startsAt"].endswith("+00:00")
    assert await options(gql, "WATCH-RG41-STEEL", "3", key="pk_demo_aurelian") == []
    assert await options(gql, "WATCH-RG41-STEEL", "19_1655", key="pk_demo_aurelian") == []


@pytest.mark.parametrize(
    ("region", "quantity", "expected"),
    [
        ("1_72", 1, [("STANDARD", "0.00"), ("EXPRESS", "15.00"), ("SCHEDULED", "5.00")]),
        ("26", 1, [("STANDARD", "10.00")]),  # free above 99.00, but Tibet pays the remote surcharge
        ("5", 1, [("STANDARD", "0.00")]),
    ],
)
async def test_diaper_fees_by_region(gql: Gql, region, quantity, expected):
    found = await options(gql, "DIAPER-L54", region, quantity)
    assert [(o["tier"], o["fee"]["amount"]) for o in found] == expected


async def test_the_free_threshold_counts_the_quantity(gql: Gql):
    one = await options(gql, "WIPES-80X6", "1", 1)
    two = await options(gql, "WIPES-80X6", "1", 2)
    assert one[0]["fee"]["amount"] == "6.00" and two[0]["fee"]["amount"] == "0.00"


@pytest.mark.parametrize(("region", "quantity"), [("Beijing", 1), ("1_2_3_4_5", 1), ("1", 0), ("1", -3), ("1", 10_001)])
async def test_bad_regions_and_quantities_are_bad_user_input(gql: Gql, region, quantity):
    body = await gql(OPTIONS, {"code": "DIAPER-L54", "region": region, "quantity": quantity})
    assert codes(body) == ["BAD_USER_INPUT"]
