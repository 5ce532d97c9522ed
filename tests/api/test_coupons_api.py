"""Claiming coupons, Product.coupons and the merchant's templates and campaigns, over HTTP."""

from __future__ import annotations

import pytest

from tests.conftest import Gql, codes

CLAIM = "mutation($id: ID!) { couponClaim(templateId: $id) { coupon { id state template { code } } userErrors { code field } } }"
CREATE = """mutation($input: CouponTemplateInput!) { couponTemplateCreate(input: $input) {
  template { id code remainingQuantity discount { amount } percentOff scope }
  userErrors { code field message }
} }"""
CAMPAIGN = """mutation($input: AssistCampaignInput!) { assistCampaignCreate(input: $input) {
  campaign { code requiredAssists reward { code } rules } userErrors { code field }
} }"""


async def sign_in(gql: Gql, name: str) -> str:
    return (await gql('mutation($c: String!) { shopperLogin(code: $c) { token } }', {"c": f"dev:{name}"}))[
        "data"]["shopperLogin"]["token"]


async def test_products_list_the_public_coupons_that_apply_to_them(gql: Gql):
    body = await gql("{ products(first: 10) { nodes { handle coupons { code remainingQuantity } } } }")
    by_handle = {n["handle"]: sorted(c["code"] for c in n["coupons"]) for n in body["data"]["products"]["nodes"]}
    assert by_handle == {
        "diaper-soft": ["PLAT-5", "WELCOME-20"],
        "wipes-80": ["PLAT-5", "WELCOME-20", "WIPES-95"],
        "sample-pack": ["PLAT-5", "WELCOME-20"],
    }


async def test_a_shopper_claims_a_public_coupon_once(gql: Gql):
    templates = (await gql('{ product(handle: "wipes-80") { coupons { id code } } }'))["data"]["product"]["coupons"]
    welcome = next(t for t in templates if t["code"] == "WELCOME-20")
    t = await sign_in(gql, "claimer")
    first = (await gql(CLAIM, {"id": welcome["id"]}, token=t))["data"]["couponClaim"]
    second = (await gql(CLAIM, {"id": welcome["id"]}, token=t))["data"]["couponClaim"]
    assert first["userErrors"] == [] and first["coupon"]["state"] == "AVAILABLE"
    assert second["userErrors"] == [{"code": "COUPON_LIMIT_REACHED", "field": ["templateId"]}]
    assert codes(await gql(CLAIM, {"id": welcome["id"]})) == ["UNAUTHENTICATED"]


async def test_hidden_or_malformed_templates_cannot_be_claimed(gql: Gql):
    t = await sign_in(gql, "sneaky")
    campaign = (await gql('{ campaign(code: "PANDA-ASSIST-50") { reward { id } } }'))["data"]["campaign"]
    hidden = (await gql(CLAIM, {"id": campaign["reward"]["id"]}, token=t))["data"]["couponClaim"]
    assert hidden["userErrors"] == [{"code": "NOT_FOUND", "field": ["templateId"]}]
    bad = (await gql(CLAIM, {"id": "gid://jimu/Product/1"}, token=t))["data"]["couponClaim"]
    assert bad["userErrors"] == [{"code": "INVALID", "field": ["templateId"]}]


def template_input(**changes) -> dict:
    return {"code": "NEW-10", "title": "满 100 减 10", "kind": "AMOUNT_OFF", "threshold": "100", "discount": "10.00",
            "totalQuantity": 50, "validDays": 7, **changes}


async def test_a_merchant_creates_a_template_that_shoppers_then_see(gql: Gql):
    created = (await gql(CREATE, {"input": template_input()}, key="sk_demo_panda"))["data"]["couponTemplateCreate"]
    assert created["userErrors"] == []
    assert created["template"]["remainingQuantity"] == 50 and created["template"]["discount"]["amount"] == "10.00"
    body = await gql('{ product(handle: "wipes-80") { coupons { code } } }')
    assert "NEW-10" in [c["code"] for c in body["data"]["product"]["coupons"]]
    assert codes(await gql(CREATE, {"input": template_input(code="X")}, key="pk_demo_panda")) == ["FORBIDDEN"]
    again = (await gql(CREATE, {"input": template_input()}, key="sk_demo_panda"))["data"]["couponTemplateCreate"]
    assert again["userErrors"][0]["field"] == ["input", "code"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"discount": None}, ["input", "discount"]),
        ({"discount": "0"}, ["input", "discount"]),
        ({"discount": "9.999"}, ["input", "discount"]),
        ({"kind": "PERCENT_OFF", "discount": None, "percentOff": 100}, ["input", "percentOff"]),
        ({"kind": "PERCENT_OFF", "percentOff": 10}, ["input", "discount"]),
        ({"threshold": "-1"}, ["input", "threshold"]),
        ({"threshold": "1.001"}, ["input", "threshold"]),
        ({"totalQuantity": 0}, ["input", "totalQuantity"]),
        ({"perShopperLimit": 0}, ["input", "perShopperLimit"]),
        ({"validDays": None}, ["input", "validDays"]),
        ({"claimStartsAt": "2026-12-02T00:00:00+08:00", "claimEndsAt": "2026-12-01T00:00:00+08:00"},
         ["input", "claimEndsAt"]),
        ({"scope": "SKUS", "skuCodes": ["DIAPER-L54", "NOPE"]}, ["input", "skuCodes", "1"]),
        ({"scope": "SKUS", "skuCodes": ["WATCH-RG41-GOLD"]}, ["input", "skuCodes", "0"]),
        ({"scope": "CATEGORY", "categoryHandle": "watches"}, ["input", "categoryHandle"]),
        ({"code": "has space"}, ["input", "code"]),
    ],
)
async def test_bad_templates_are_refused_field_by_field(gql: Gql, changes: dict, field: list[str]):
    body = await gql(CREATE, {"input": template_input(**changes)}, key="sk_demo_panda")
    payload = body["data"]["couponTemplateCreate"]
    assert payload["template"] is None
    assert field in [e["field"] for e in payload["userErrors"]]


async def test_a_merchant_creates_a_campaign_with_its_rules(gql: Gql):
    base = {"code": "SPRING", "title": "春季助力", "requiredAssists": 5, "rewardTemplateCode": "BIG-A",
            "startsAt": "2026-01-01T00:00:00+08:00", "endsAt": "2027-01-01T00:00:00+08:00"}
    made = (await gql(CAMPAIGN, {"input": base}, key="sk_demo_panda"))["data"]["assistCampaignCreate"]
    assert made["userErrors"] == [] and made["campaign"]["reward"]["code"] == "BIG-A"
    assert "5 位好友" in made["campaign"]["rules"]
    refused = (await gql(CAMPAIGN, {"input": {**base, "code": "S2", "rewardTemplateCode": "NOPE", "requiredAssists": 0,
                                              "endsAt": "2025-01-01T00:00:00+08:00"}},
                         key="sk_demo_panda"))["data"]["assistCampaignCreate"]
    assert {tuple(e["field"]) for e in refused["userErrors"]} == {
        ("input", "rewardTemplateCode"), ("input", "requiredAssists"), ("input", "endsAt")}
    assert codes(await gql(CAMPAIGN, {"input": {**base, "code": "S3"}}, key="pk_demo_panda")) == ["FORBIDDEN"]
