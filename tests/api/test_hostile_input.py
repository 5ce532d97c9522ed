"""Every input bounded by the domain: what is taken can be read back, what cannot be read
back is refused, and the classes a fuzz once found each answer a clear, coded error."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import Gql, codes

SK = "sk_demo_panda"
LOGIN = 'mutation($c: String!) { shopperLogin(code: $c) { token } }'
TEMPLATE = """mutation($input: CouponTemplateInput!) { couponTemplateCreate(input: $input) {
  template { id code threshold { amount } discount { amount } percentOff claimStartsAt claimEndsAt
             totalQuantity remainingQuantity perShopperLimit }
  userErrors { code field message } } }"""
TEMPLATE_NODE = """query($id: ID!) { node(id: $id) { ... on CouponTemplate { code claimStartsAt claimEndsAt
  totalQuantity remainingQuantity perShopperLimit threshold { amount } discount { amount } percentOff } } }"""
CLAIM = """mutation($id: ID!) { couponClaim(templateId: $id) { coupon { id state validFrom validUntil template { code } }
  userErrors { code field message } } }"""
MY_COUPONS = "{ me { coupons { state validFrom validUntil template { code } } } }"
CAMPAIGN = """mutation($input: AssistCampaignInput!) { assistCampaignCreate(input: $input) {
  campaign { code rules requiredAssists helperDailyLimit startsAt endsAt } userErrors { code field message } } }"""
READ_CAMPAIGN = "query($c: String!) { campaign(code: $c) { code rules startsAt endsAt requiredAssists helperDailyLimit } }"
START = """mutation($c: String!) { assistStart(campaignCode: $c) { assist { id state assistCount requiredAssists
  campaign { rules endsAt } } userErrors { code field message } } }"""
PAGE = "query($after: String, $sort: ProductSortKey) { products(first: 2, after: $after, sortKey: $sort) { nodes { handle } } }"
EARLIEST, LAST = "1970-01-01T00:00:00+00:00", "2099-12-31T23:59:59.999999+00:00"


async def sign_in(gql: Gql, name: str) -> str:
    return (await gql(LOGIN, {"c": f"dev:{name}"}))["data"]["shopperLogin"]["token"]


def template(**changes: object) -> dict:
    return {"code": "EDGE", "title": "满减", "kind": "AMOUNT_OFF", "threshold": "0", "discount": "1.00",
            "totalQuantity": 10, "validDays": 7, **changes}


def cursor(parts: object) -> str:
    raw = parts if isinstance(parts, bytes) else json.dumps(parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# ---------------------------------------------------------------- taken at the edges, and read back


async def test_templates_at_every_bound_are_stored_read_back_and_claimed(gql: Gql):
    shopper = await sign_in(gql, "edges")
    widest = template(code="EDGE-MAX", threshold="10000000000.00", discount="10000000000.00",
                      totalQuantity=10_000_000, perShopperLimit=10_000_000, validDays=3650,
                      claimStartsAt=EARLIEST, claimEndsAt=LAST)
    fixed = template(code="EDGE-FIXED", kind="PERCENT_OFF", discount=None, percentOff=99, totalQuantity=1,
                     validDays=None, validFrom=EARLIEST, validUntil=LAST)
    for given in (widest, fixed):
        made = (await gql(TEMPLATE, {"input": given}, key=SK))["data"]["couponTemplateCreate"]
        assert made["userErrors"] == [], made
        node = (await gql(TEMPLATE_NODE, {"id": made["template"]["id"]}))["data"]["node"]
        assert node["code"] == given["code"] and node["totalQuantity"] == given["totalQuantity"]
        claimed = (await gql(CLAIM, {"id": made["template"]["id"]}, token=shopper))["data"]["couponClaim"]
        assert claimed["userErrors"] == [] and claimed["coupon"]["state"] == "AVAILABLE", claimed
    widest_node = (await gql(TEMPLATE_NODE, {"id": made["template"]["id"]}))["data"]["node"]
    assert widest_node["percentOff"] == 99
    mine = {c["template"]["code"]: c for c in (await gql(MY_COUPONS, token=shopper))["data"]["me"]["coupons"]}
    assert mine["EDGE-FIXED"]["validUntil"] == "2099-12-31T23:59:59.999999+00:00"
    assert mine["EDGE-MAX"]["validUntil"][:4] >= "2036"  # ten years from the claim
    listed = await gql('{ product(handle: "wipes-80") { coupons { code threshold { amount } } } }')
    assert {"code": "EDGE-MAX", "threshold": {"amount": "10000000000.00"}} in listed["data"]["product"]["coupons"]


async def test_a_campaign_at_every_bound_is_stored_read_back_and_started(gql: Gql):
    given = {"code": "EDGE-CAMP", "title": "助力", "requiredAssists": 10_000, "rewardTemplateCode": "WELCOME-20",
             "requiresFollow": False, "requiresMembership": False, "helperDailyLimit": 1000,
             "startsAt": "1970-01-01T00:00:00-12:00", "endsAt": LAST}
    made = (await gql(CAMPAIGN, {"input": given}, key=SK))["data"]["assistCampaignCreate"]
    assert made["userErrors"] == [], made
    read = (await gql(READ_CAMPAIGN, {"c": "EDGE-CAMP"}))["data"]["campaign"]
    assert read["endsAt"] == LAST and read["requiredAssists"] == 10_000 and "10000" in read["rules"]
    started = (await gql(START, {"c": "EDGE-CAMP"}, token=await sign_in(gql, "starter")))["data"]["assistStart"]
    assert started["userErrors"] == [] and started["assist"]["campaign"]["endsAt"] == LAST, started


async def test_stock_and_cart_quantities_at_their_bounds_are_read_back(gql: Gql):
    stocked = await gql('mutation { stockSet(skuCode: "WIPES-80X6", warehouse: "SH-01", quantity: 1000000000) '
                        '{ sku { availability { quantityAvailable } } userErrors { code field } } }', key=SK)
    assert stocked["data"]["stockSet"]["userErrors"] == [], stocked
    assert stocked["data"]["stockSet"]["sku"]["availability"]["quantityAvailable"] >= 1_000_000_000
    over = await gql('mutation { stockSet(skuCode: "WIPES-80X6", warehouse: "SH-01", quantity: 1000000001) '
                     '{ userErrors { code field } } }', key=SK)
    assert over["data"]["stockSet"]["userErrors"][0]["field"] == ["quantity"]
    shopper = await sign_in(gql, "bulk")
    made = await gql('mutation { cartCreate(lines: [{skuCode: "WIPES-80X6", quantity: 9999}]) '
                     '{ cart { id lines { quantity subtotal { amount } } } userErrors { code field } } }', token=shopper)
    cart = made["data"]["cartCreate"]["cart"]
    read = await gql("query($id: ID!) { cart(id: $id) { lines { quantity subtotal { amount } } } }",
                     {"id": cart["id"]}, token=shopper)
    assert read["data"]["cart"]["lines"] == cart["lines"] and cart["lines"][0]["quantity"] == 9999


# ---------------------------------------------------------------- refused, with a clear error


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"validDays": 2_147_483_647}, "validDays"),
        ({"validDays": 3651}, "validDays"),
        ({"totalQuantity": 10_000_001}, "totalQuantity"),
        ({"perShopperLimit": 10_000_001}, "perShopperLimit"),
        ({"threshold": "10000000000.01"}, "threshold"),
        ({"discount": "10000000000.01"}, "discount"),
    ],
)
async def test_template_values_no_read_could_serve_are_user_errors(gql: Gql, changes: dict, field: str):
    made = (await gql(TEMPLATE, {"input": template(**changes)}, key=SK))["data"]["couponTemplateCreate"]
    assert made["template"] is None and [e["field"] for e in made["userErrors"]] == [["input", field]], made


TIMES_REFUSED = [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59.999999+00:00",
    "2100-01-01T00:00:00+00:00", "1969-12-31T23:59:59+00:00", "2026-06-18T09:00:00+15:00",
    "2026-06-18T09:00:00", "2026-02-30T00:00:00+08:00", "x" * 100,
]


@pytest.mark.parametrize("when", TIMES_REFUSED)
async def test_datetimes_outside_the_window_are_bad_user_input_everywhere(gql: Gql, when: str):
    as_template = await gql(TEMPLATE, {"input": template(code="T-EDGE", claimEndsAt=when)}, key=SK)
    campaign = {"code": "C-EDGE", "title": "t", "requiredAssists": 2, "rewardTemplateCode": "WELCOME-20",
                "startsAt": "2026-01-01T00:00:00+08:00", "endsAt": when}
    as_campaign = await gql(CAMPAIGN, {"input": campaign}, key=SK)
    as_sales = await gql("query($t: DateTime) { merchant { sales(groupBy: SCENE, to: $t) { key } } }", {"t": when}, key=SK)
    literal = await gql('{ merchant { sales(groupBy: SCENE, from: "%s") { key } } }' % when, key=SK)
    # a variable fails coercion (BAD_USER_INPUT); a literal fails validation, as GraphQL has it
    for answer, code in ((as_template, "BAD_USER_INPUT"), (as_campaign, "BAD_USER_INPUT"),
                         (as_sales, "BAD_USER_INPUT"), (literal, "GRAPHQL_VALIDATION_FAILED")):
        assert answer["data"] is None and codes(answer) == [code], answer
        assert "DateTime" in answer["errors"][0]["message"]
    assert (await gql(READ_CAMPAIGN, {"c": "C-EDGE"}))["data"]["campaign"] is None  # nothing stored


@pytest.mark.parametrize(
    ("sort", "after"),
    [
        ("RELEVANCE", cursor(["RELEVANCE", False, 1, 10**30])),  # an id SQLite cannot even bind
        ("RELEVANCE", cursor(["RELEVANCE", False, 10**30, 1])),
        ("PRICE", cursor(["PRICE", False, -(2**64), 1])),
        ("RELEVANCE", cursor(b"[" * 5000 + b"]" * 5000)),  # nested: json recursed
        ("CREATED_AT", cursor(["CREATED_AT", False, "2026-01-01T00:00:00", 1])),  # naive: fromisoformat passed it
        ("CREATED_AT", cursor(["CREATED_AT", False, "9999-12-31T23:59:59+00:00", 1])),
        ("TITLE", cursor(["TITLE", False, "t" * 5000, 1])),
        ("RELEVANCE", cursor(["RELEVANCE", False, True, 1])),
        ("RELEVANCE", "!" * 2000),
    ],
)
async def test_cursors_this_connection_never_issued_are_invalid(gql: Gql, sort: str, after: str):
    answer = await gql(PAGE, {"after": after, "sort": sort})
    assert codes(answer) == ["BAD_USER_INPUT"] and "invalid cursor" in answer["errors"][0]["message"], answer


async def test_a_cursor_it_issued_still_pages(gql: Gql):
    for sort in ("RELEVANCE", "PRICE", "CREATED_AT", "TITLE"):
        first = await gql("query($s: ProductSortKey) { products(first: 1, sortKey: $s) { pageInfo { endCursor } } }",
                          {"s": sort})
        after = first["data"]["products"]["pageInfo"]["endCursor"]
        assert "errors" not in await gql(PAGE, {"after": after, "sort": sort}), sort
